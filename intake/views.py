from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from audit.models import Action
from documents import views as document_views
from intake import permissions, selectors, services
from intake.forms import IntakeForm, TriageForm


def _teams(request: AuthenticatedHttpRequest):
    return request.user.teams.order_by("name")


@sensitive_post_parameters("contact", "message")
def intake_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.log_intake"):
        raise PermissionDenied
    teams = _teams(request)
    if not teams:
        raise PermissionDenied
    form = IntakeForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        logged = services.intake_log(
            by=request.user,
            team=data.get("team") or teams[0],
            channel=data["channel"],
            received_at=data["received_at"],
            contact=data["contact"],
            message=data["message"],
            category_guess=data["category_guess"],
        )
        messages.success(request, _("Logged as %(reference)s.") % {"reference": logged.reference})
        return redirect("intake:queue")
    return render(request, "intake/intake_new.html", {"form": form})


def intake_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.log_intake"):
        raise PermissionDenied
    waiting = selectors.oldest_waiting(request.user, 200)
    context = {
        "requests": waiting,
        "duplicates": selectors.possibly_duplicates(request.user, waiting),
    }
    return render(request, "intake/queue.html", context)


@sensitive_post_parameters("reason")
def intake_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    intake = selectors.intake_for(request.user, reference)
    form = TriageForm(request.POST or None)
    if request.method == "POST":
        if not permissions.can_triage(request.user, intake):
            raise PermissionDenied
        if form.is_valid():
            try:
                return _triage(request, intake, form)
            except ValidationError as error:
                form.add_error(None, error)
    services.audit_request(intake, request.user, Action.REQUEST_VIEWED)
    duplicates = services.intake_matches_report(request=intake, by=request.user)
    context = {
        "intake": intake,
        "form": form,
        "duplicates": duplicates,
        "can_triage": permissions.can_triage(request.user, intake),
    }
    return render(request, "intake/intake_detail.html", context, status=400 if form.errors else 200)


def _triage(request: AuthenticatedHttpRequest, intake, form: TriageForm) -> HttpResponse:
    action = form.cleaned_data["action"]
    user = request.user
    if action == TriageForm.ACCEPT:
        case = services.intake_accept(
            request=intake, by=user, confirmed_new=form.cleaned_data["confirm_new"]
        )
        messages.success(request, _("Case %(reference)s opened.") % {"reference": case.reference})
        return redirect("casework:case_detail", reference=case.reference)
    if action == TriageForm.REJECT:
        services.intake_reject(request=intake, by=user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Request rejected."))
        return redirect("intake:queue")
    # Attach and duplicate name a case among the possible duplicates listed to this user.
    reference = form.cleaned_data["case_reference"]
    if action == TriageForm.ATTACH:
        case, reopened = services.intake_attach(request=intake, reference=reference, by=user)
        if reopened:
            messages.success(
                request,
                _("Attached to %(reference)s, which was closed: it is open again, in New.")
                % {"reference": case.reference},
            )
        else:
            messages.success(
                request, _("Attached to %(reference)s.") % {"reference": case.reference}
            )
        return redirect("casework:case_detail", reference=case.reference)
    case = services.intake_mark_duplicate(request=intake, reference=reference, by=user)
    messages.success(
        request, _("Marked as a duplicate of %(reference)s.") % {"reference": case.reference}
    )
    return redirect("intake:queue")


@require_POST
@sensitive_post_parameters("description")
def intake_document_attach(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """A file the person sent (a summons, an ID), attached at triage: it goes with the
    request to the case triage opens or finds."""
    intake = selectors.intake_for(request.user, reference)
    if not permissions.can_triage(request.user, intake):
        raise PermissionDenied
    return document_views.upload(
        request,
        partial(services.intake_document_attach, request=intake),
        reference=intake.reference,
        back=reverse("intake:detail", args=[intake.reference]),
    )


@require_GET
def intake_document_download(
    request: AuthenticatedHttpRequest, reference: str, pk: int
) -> HttpResponse:
    return _request_file(request, reference, pk, preview=False)


@require_GET
def intake_document_preview(
    request: AuthenticatedHttpRequest, reference: str, pk: int
) -> HttpResponse:
    """The small re-encoded preview the request's page shows of a photo."""
    return _request_file(request, reference, pk, preview=True)


def _request_file(
    request: AuthenticatedHttpRequest, reference: str, pk: int, *, preview: bool
) -> HttpResponse:
    """A request's file (or its preview), to whoever may read the request; served as a
    case's files are (documents.views)."""
    intake, document = selectors.request_document_for(request.user, reference, pk)
    content = services.intake_document_read(
        request=intake, document=document, by=request.user, preview=preview
    )
    if preview:
        return document_views.served_preview(content)
    return document_views.served_file(content, document, intake.reference)
