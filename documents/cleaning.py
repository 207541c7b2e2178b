"""Checking a file by its bytes and cleaning it before it is kept.

The type comes from the content, never the name or the browser's word. Images (JPEG, PNG,
and HEIC as phones take them) are decoded and encoded again: EXIF (GPS, camera serial,
time), comments, colour profiles and anything after the image's end (a ZIP appended to make
a polyglot) do not survive. A HEIC photo is kept as a JPEG: every browser shows one.
PDFs lose their metadata (Info and XMP), JavaScript, automatic actions, embedded files,
forms and annotations; one that still names any of those afterwards is refused.
"""

from dataclasses import dataclass
from io import BytesIO

import pikepdf
import pillow_heif
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

# HEIC (an iPhone's photos) read through libheif. Only the primary image is decoded: the
# thumbnails, depth maps and auxiliary images a HEIC may carry are never read, nor kept.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
# An ISO media file's major brand (bytes 8-12, after "ftyp") when it holds a HEIC image.
# "mif1" may hold AVIF as well: what Pillow reads it as decides (HEIF only, below).
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1")

NOT_ACCEPTED = _(
    "This file is not a photo (JPEG, PNG or HEIC) or a PDF. Only those can be attached: "
    "take a photo of the paper, or save it as PDF."
)
DAMAGED = _("This file could not be read: it may be damaged or incomplete. Try again.")
PDF_LOCKED = _("This PDF is protected by a password. Save a copy without one and attach that.")
PDF_UNCLEANABLE = _(
    "This PDF contains scripts or embedded files that could not be removed safely. "
    "Print it to a new PDF, or take photos of its pages."
)
TOO_BIG_IMAGE = _("This image is too large in pixels. Send a smaller photo.")

# Decompression bombs: Pillow refuses past twice this; we refuse past it.
Image.MAX_IMAGE_PIXELS = 60_000_000
ROOT_KEYS_DROPPED = ("/OpenAction", "/AA", "/Names", "/Metadata", "/AcroForm", "/URI", "/AF")
PAGE_KEYS_DROPPED = ("/AA", "/Annots", "/Metadata", "/AF")
# Names that would mean something active survived the cleaning.
ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction", b"/AA ")


@dataclass(frozen=True)
class Cleaned:
    content: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def clean(data: bytes) -> Cleaned:
    """The cleaned file, or ValidationError with a message for the person uploading."""
    if data.startswith(b"%PDF-"):
        return _clean_pdf(data)
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return _clean_image(data)
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return _clean_image(data)
    raise ValidationError(NOT_ACCEPTED, code="type")


def _clean_image(data: bytes) -> Cleaned:
    try:
        with Image.open(BytesIO(data)) as opened:
            if opened.format not in ("JPEG", "PNG", "HEIF"):
                raise ValidationError(NOT_ACCEPTED, code="type")
            # The orientation lives in EXIF, which goes: turn the pixels instead.
            image = ImageOps.exif_transpose(opened)
            image.load()
    except Image.DecompressionBombError:
        raise ValidationError(TOO_BIG_IMAGE, code="pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(DAMAGED, code="damaged") from None
    out = BytesIO()
    if opened.format in ("JPEG", "HEIF"):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90)
        return Cleaned(out.getvalue(), JPEG)
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    image.save(out, "PNG", optimize=True)
    return Cleaned(out.getvalue(), PNG)


def _clean_pdf(data: bytes) -> Cleaned:
    try:
        with pikepdf.open(BytesIO(data)) as pdf:
            _strip(pdf)
            out = BytesIO()
            # Dictionaries left uncompressed, so the check below can read them.
            pdf.save(
                out,
                object_stream_mode=pikepdf.ObjectStreamMode.disable,
                fix_metadata_version=False,
            )
    except pikepdf.PasswordError:
        raise ValidationError(PDF_LOCKED, code="password") from None
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, RecursionError):
        raise ValidationError(DAMAGED, code="damaged") from None
    cleaned = out.getvalue()
    if any(name in cleaned for name in ACTIVE):
        raise ValidationError(PDF_UNCLEANABLE, code="active")
    return Cleaned(cleaned, PDF)


def _strip(pdf: pikepdf.Pdf) -> None:
    for key in ROOT_KEYS_DROPPED:
        if key in pdf.Root:
            del pdf.Root[key]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for page in pdf.pages:
        for key in PAGE_KEYS_DROPPED:
            if key in page.obj:
                del page.obj[key]


PREVIEW_SIZE = (320, 320)


def preview(content: bytes) -> bytes:
    """A small JPEG of a stored (already cleaned) image, re-encoded again: what the case page
    shows, so a glance never needs the whole file."""
    with Image.open(BytesIO(content)) as opened:
        image = opened.convert("RGB")
    image.thumbnail(PREVIEW_SIZE)
    out = BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
