"""Receiving an uploaded file: in memory, never in a clear temporary file, and no further
than one byte past DOCUMENT_MAX_BYTES.

Django's default handlers put a large upload in a temporary file, which is the document
in clear on the server's disk. This one keeps every upload in memory; past the limit it
keeps counting but stops keeping, so the form can say "too large" without having held
(or written) the whole of it. The largest upload held is DOCUMENT_MAX_BYTES + 1 bytes.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class BoundedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.kept = BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = settings.DOCUMENT_MAX_BYTES + 1 - self.kept.tell()
        if room > 0:
            self.kept.write(raw_data[:room])
        self.received += len(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.kept.seek(0)
        upload = InMemoryUploadedFile(
            file=self.kept,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        # What arrived, not what was kept: the form refuses anything past the limit.
        upload.size = self.received
        return upload
