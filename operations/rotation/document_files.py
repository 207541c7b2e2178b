"""Re-encrypting every document's file under the first key of ``FIELD_ENCRYPTION_KEY``.

A blob whose token checks under the first key is current and left alone, so a run can
stop and start again, and a second run that rotates nothing is the check that the old key
can go. A stale blob is written again as a new blob (documents.vault.rotate); the row is
pointed at it only if it still names the old one (a document removed meanwhile keeps
nothing), and the old blob is deleted after that commits: at every moment the row names a
blob that exists and decrypts.
"""

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction

from documents import vault
from documents.models import Document
from privacy.rotation import RotationError


@dataclass
class FileCounts:
    rotated: int = 0
    current: int = 0

    def summary(self) -> str:
        return f"{self.rotated:,} files re-encrypted, {self.current:,} already current"


def rotate_document_files() -> FileCounts:
    first = Fernet(settings.FIELD_ENCRYPTION_KEY[0])
    counts = FileCounts()
    rows = Document.objects.order_by("pk").values_list("pk", "storage_name")
    for pk, name in rows.iterator():
        with vault.storage().open(name, "rb") as blob:
            token = blob.read()
        try:
            first.extract_timestamp(token)
        except InvalidToken:
            pass
        else:
            counts.current += 1
            continue
        try:
            fresh = vault.rotate(name)
        except InvalidToken:
            raise RotationError(
                f"The file of document {pk} does not decrypt under any FIELD_ENCRYPTION_KEY; "
                "nothing after it was rotated."
            ) from None
        with transaction.atomic():
            moved = Document.objects.filter(pk=pk, storage_name=name).update(storage_name=fresh)
        vault.delete(name if moved else fresh)
        counts.rotated += moved
    return counts
