"""Attaching a document to a case: checked and cleaned (documents.cleaning), encrypted and
stored (documents.vault), then recorded on the case, its timeline and the audit log.
intake.services attaches one to a request at triage through the same document_store."""

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from audit.models import Action
from casework.models import Case, EventKind, RouteLeg
from casework.services.cases import audit_case, timeline_add
from documents import cleaning, permissions, vault
from documents.models import Document, DocumentKind

# The timeline says what kind of paper arrived, never its name or description.
ATTACHED = {
    DocumentKind.SUMMONS: gettext_noop("summons attached"),
    DocumentKind.IDENTITY: gettext_noop("identity document attached"),
    DocumentKind.MILITARY: gettext_noop("military document attached"),
    DocumentKind.MEDICAL: gettext_noop("medical document attached"),
    DocumentKind.LEGAL: gettext_noop("legal document attached"),
    DocumentKind.TRAVEL: gettext_noop("travel document attached"),
    DocumentKind.OTHER: gettext_noop("document attached"),
}


def too_large_message() -> str:
    return _("This file is larger than %(limit)s, the most that can be attached.") % {
        "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)
    }


def document_store(
    *,
    by: User,
    upload: UploadedFile,
    kind: str,
    description: str,
    record: Callable[[Document], None],
) -> Document:
    """Checks, cleans, encrypts and stores the file, then has `record` place it: `record` is
    handed the unsaved document (the file's part filled in) inside one transaction, checks
    again what it goes to under a lock, and sets its case or request and number, saves it
    and audits it. Nothing is left half-stored: the blob is written first and deleted again
    if recording it fails. Callers check permission first (a refusal costs no cleaning)."""
    if kind not in DocumentKind.values:
        raise ValidationError(_("Choose what kind of document this is."))
    if upload.size is None or upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(too_large_message(), code="size")
    cleaned = cleaning.clean(upload.read(settings.DOCUMENT_MAX_BYTES + 1))
    name = vault.store(cleaned.content)
    document = Document(
        kind=kind,
        description=description.strip(),
        original_name=(upload.name or "")[:255],
        content_type=cleaned.content_type,
        size=len(cleaned.content),
        storage_name=name,
        added_by=by,
    )
    try:
        with transaction.atomic():
            record(document)
    except BaseException:
        vault.delete(name)
        raise
    return document


def document_attach(
    *,
    case: Case,
    by: User,
    upload: UploadedFile,
    kind: str,
    description: str,
    leg: RouteLeg | None = None,
) -> Document:
    """Cleans, encrypts and stores the file, then records it on the case (or its leg), its
    timeline and the audit log; nothing half-stored (document_store)."""
    if not permissions.can_attach(by, case, leg):
        raise PermissionDenied

    def record(document: Document) -> None:
        # Locked and read again: nothing may land on a case anonymised a moment ago.
        case.purged_at = (
            Case.objects.select_for_update().values_list("purged_at", flat=True).get(pk=case.pk)
        )
        if not permissions.can_attach(by, case, leg):
            raise PermissionDenied
        number = Document.objects.filter(case=case).next_number()
        document.case, document.leg, document.number = case, leg, number
        document.save()
        timeline_add(case, by, EventKind.DOCUMENT, detail=ATTACHED[DocumentKind(kind)])
        audit_case(case, by, Action.DOCUMENT_ATTACHED)

    return document_store(by=by, upload=upload, kind=kind, description=description, record=record)


def document_read(*, case: Case, document: Document, by: User) -> bytes:
    """The document's bytes, for a download the caller authorised through
    documents.selectors.document_for; audited as a read of the case."""
    audit = partial(audit_case, case, by, Action.DOCUMENT_DOWNLOADED)
    return document_content(document, preview=False, audit=audit)


def document_preview(*, case: Case, document: Document, by: User) -> bytes:
    """A small re-encoded JPEG of an image document, for a download the caller authorised
    (documents.selectors.document_for); audited as a read of the case, as a download is."""
    audit = partial(audit_case, case, by, Action.DOCUMENT_PREVIEWED)
    return document_content(document, preview=True, audit=audit)


def document_content(document: Document, *, preview: bool, audit: Callable[[], None]) -> bytes:
    """The file's bytes, or with `preview` a small JPEG re-encoded from a photo (Http404
    for a file that has none), once `audit` has recorded the read. For callers that
    authorised it: document_read here, intake.services for a request's files."""
    if preview and not document.is_image:
        raise Http404
    audit()
    content = vault.read(document.storage_name)
    return cleaning.preview(content) if preview else content


def download_name(reference: str, document: Document) -> str:
    """A generic name, the case's or the request's reference with the kind and number
    ("C-2026-00042-summons-3.pdf"), never the one it came with."""
    extension = cleaning.EXTENSIONS.get(document.content_type, "bin")
    return f"{reference}-{document.kind}-{document.number}.{extension}"
