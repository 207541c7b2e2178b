"""Attaching, downloading and previewing a case's documents. The upload's steps and the
way a file is served are here once: intake.views uses them for a request's files."""

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from casework.selectors import cases as case_selectors
from documents import permissions, selectors, services
from documents.forms import DocumentForm
from documents.models import Document

# The file is served to be saved, never shown inline: nothing in it may run in our origin.
SANDBOX = "sandbox; default-src 'none'"


def upload(
    request: AuthenticatedHttpRequest, attach: Callable[..., Document], *, reference: str, back: str
) -> HttpResponse:
    """Hands the posted file to `attach` (a service, its case or request already bound):
    back to the page `back` with a word once it is kept; else the form again (400) with why
    nothing was attached and what was typed, posting here again."""
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = attach(
                by=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            kind = document.get_kind_display()
            messages.success(request, _("%(kind)s attached.") % {"kind": kind})
            return redirect(back)
    context = {"reference": reference, "form": form, "back": back, "action": request.path}
    return render(request, "documents/document_attach.html", context, status=400)


@require_POST
@sensitive_post_parameters("description")
def document_attach(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for_action(request.user, reference)
    if not permissions.can_attach(request.user, case):
        raise PermissionDenied
    return upload(
        request,
        partial(services.document_attach, case=case),
        reference=case.reference,
        back=reverse("casework:case_detail", args=[case.reference]),
    )


@require_POST
@sensitive_post_parameters("description")
def leg_document_attach(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    """A file for one leg of the route (a ticket, a safe house's note): its volunteer and
    the team's coordinators only, who alone will see it."""
    case, leg = selectors.leg_to_attach(request.user, reference, pk)
    return upload(
        request,
        partial(services.document_attach, case=case, leg=leg),
        reference=case.reference,
        back=reverse("casework:leg_detail", args=[case.reference, leg.pk]),
    )


@require_GET
def document_download(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    case, document = selectors.document_for(request.user, reference, pk)
    content = services.document_read(case=case, document=document, by=request.user)
    return served_file(content, document, case.reference)


@require_GET
def document_preview(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    """The small re-encoded preview the case page shows of an image: the download's rules."""
    case, document = selectors.document_for(request.user, reference, pk)
    content = services.document_preview(case=case, document=document, by=request.user)
    return served_preview(content)


def served_file(content: bytes, document: Document, reference: str) -> HttpResponse:
    """The file to be saved, under the generic name of the case or request `reference`."""
    disposition = content_disposition_header(
        as_attachment=True, filename=services.download_name(reference, document)
    )
    return _served(content, document.content_type, disposition or "attachment")


def served_preview(content: bytes) -> HttpResponse:
    return _served(content, "image/jpeg", "inline")


def _served(content: bytes, content_type: str, disposition: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    return response
