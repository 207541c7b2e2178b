"""Asking the team's coordinator for a move, and their answer (casework.services.approvals)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from casework import permissions, workflow
from casework.forms import ApprovalAskForm, ApprovalDecisionForm
from casework.models import Stage
from casework.selectors import approvals as approval_selectors
from casework.selectors import cases as case_selectors
from casework.services import approvals as approval_services
from casework.services.cases import MoveRefused
from casework.views.cases import case_page


@require_POST
@sensitive_post_parameters("note")
def approval_ask(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for_action(request.user, reference)
    if not permissions.can_ask_approval(request.user, case):
        raise PermissionDenied
    form = ApprovalAskForm(request.POST, targets=approval_selectors.askable_targets(case))
    if form.is_valid():
        try:
            approval_services.approval_ask(
                case=case,
                by=request.user,
                to_stage=Stage(form.cleaned_data["to_stage"]),
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
                outcome=form.cleaned_data.get("outcome", ""),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Approval asked. The team's coordinators have been told."))
            return redirect("casework:case_detail", reference=case.reference)
    shown = case_selectors.case_for(request.user, reference)
    return case_page(request, shown, status=400, ask_form=form)


@require_POST
@sensitive_post_parameters("reason")
def approval_decide(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = case_selectors.case_for_action(request.user, reference)
    approval = approval_selectors.approval_on_case(case, pk)
    if not permissions.can_decide_approval(request.user, case, approval.asked_by_id):
        raise PermissionDenied
    form = ApprovalDecisionForm(request.POST, warning=workflow.destination_warning(case))
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == ApprovalDecisionForm.APPROVE:
                approval_services.approval_approve(
                    approval=approval,
                    case=case,
                    by=request.user,
                    warning_seen=form.cleaned_data.get("warning_seen", False),
                )
                done = _("Approved: moved to %(stage)s.") % {"stage": case.stage_label}
            else:
                approval_services.approval_decline(
                    approval=approval,
                    case=case,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
                done = _("Declined. The one who asked has been told why.")
        except MoveRefused as refused:
            # The rules do not hold now: nothing changed, the request still waits.
            for message in refused.messages:
                form.add_error(None, message)
        except ValidationError as error:
            # Lapsed (the case changed since it was asked) or decided already.
            messages.error(request, " ".join(error.messages))
            return redirect("casework:case_detail", reference=case.reference)
        else:
            messages.success(request, done)
            return redirect("casework:case_detail", reference=case.reference)
    shown = case_selectors.case_for(request.user, reference)
    return case_page(request, shown, status=400, decision_form=form)
