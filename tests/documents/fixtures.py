"""Files made in the test, never stored fixtures: a photo with GPS in its EXIF (as JPEG and
as an iPhone's HEIC), a PDF with JavaScript, metadata and an embedded file, a JPEG+ZIP
polyglot, an executable renamed."""

import io
import zipfile

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

GPS_LATITUDE = (55.0, 45.0, 21.0)
CAMERA = "SpyCam-Serial-0042"
PDF_AUTHOR = "Ivan Secretov"
PDF_SCRIPT = "app.alert('pwned')"
EMBEDDED = b"embedded secret attachment"


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.BodySerialNumber] = CAMERA
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    return exif


def jpeg_with_gps(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=_exif_with_gps())
    return out.getvalue()


def heic_with_gps(size=(64, 48)) -> bytes:
    """A HEIC as an iPhone takes it, GPS and camera serial in its EXIF (written through
    pillow_heif, which documents.cleaning registers with Pillow)."""
    import documents.cleaning  # noqa: F401  (registers the HEIF opener and writer)

    image = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "HEIF", exif=_exif_with_gps().tobytes(), quality=80)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = PDF_AUTHOR
    pdf.docinfo["/Title"] = "Summons of " + PDF_AUTHOR
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [PDF_AUTHOR]
    action = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(PDF_SCRIPT))
    pdf.Root.OpenAction = pdf.make_indirect(action)
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), action]))
    )
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, EMBEDDED)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=action)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def polyglot() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "hidden in the photo")
    return jpeg_with_gps() + archive.getvalue()


def renamed_executable() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


# Files refused, and the words that say why: (file, message, id) for a parametrized test.
REFUSED = [
    (renamed_executable(), "is not a photo (JPEG, PNG or HEIC) or a PDF", "renamed-exe"),
    (jpeg_with_gps()[:300], "could not be read", "truncated-jpeg"),
    (b"%PDF-1.7\nnot really", "could not be read", "broken-pdf"),
    (b"", "This file is empty.", "empty"),
]
refused_files = pytest.mark.parametrize(
    ("content", "message"),
    [(content, message) for content, message, _id in REFUSED],
    ids=[name for _content, _message, name in REFUSED],
)


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)
