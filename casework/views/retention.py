"""Legal hold and erasure on request: for the coordinators of the case's team."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.http import AuthenticatedHttpRequest
from casework import permissions
from casework.forms import ErasureForm, LegalHoldForm
from casework.models import Outcome
from casework.selectors import cases as case_selectors
from casework.services import retention


@sensitive_post_parameters("reason")
def legal_hold(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Sets or lifts the case's legal hold, with a reason."""
    case = case_selectors.case_for(request.user, reference)
    if not permissions.can_set_legal_hold(request.user, case):
        raise PermissionDenied
    offered = LegalHoldForm.LIFT if case.on_legal_hold else LegalHoldForm.SET
    form = LegalHoldForm(request.POST or None, initial={"action": offered})
    if request.method == "POST" and form.is_valid():
        lift = form.cleaned_data["action"] == LegalHoldForm.LIFT
        change = retention.legal_hold_lift if lift else retention.legal_hold_set
        try:
            change(case=case, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if lift:
                messages.success(request, _("Legal hold lifted."))
            else:
                messages.success(
                    request, _("Legal hold set: this case's personal data is kept until lifted.")
                )
            return redirect("casework:case_detail", reference=case.reference)
    context = {
        "case": case,
        "form": form,
        "lifting": offered == LegalHoldForm.LIFT,
        "retention_days": settings.RETENTION_DAYS,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/legal_hold.html", context, status=status)


@sensitive_post_parameters("reason")
def case_erase(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Says what an erasure removes and, once confirmed with a reason, does it."""
    case = case_selectors.case_for(request.user, reference)
    if not permissions.can_erase_case(request.user, case):
        raise PermissionDenied
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            erased = retention.case_erase(
                case=case, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Personal data erased: %(references)s. Only anonymous statistics are left.")
                % {"references": ", ".join(erased)},
            )
            return redirect("casework:case_detail", reference=case.reference)
    summary = retention.erasure_summary(case, request.user)
    context = {
        "case": case,
        "form": form,
        "summary": summary,
        "held_message": retention.held_case_message(summary.held) if summary.held else "",
        "outcome": Outcome.WITHDREW.label,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/case_erase.html", context, status=status)
