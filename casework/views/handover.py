"""Handover within a team, transfer between teams, and "since your last shift". Thin:
selectors decide what is seen, services.handover what may change."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from audit.models import Action
from casework import permissions
from casework.forms import HandOverForm, TransferAskForm, TransferDecideForm
from casework.models import CaseTransfer
from casework.selectors import cases as case_selectors
from casework.selectors import handover as handover_selectors
from casework.services import handover as handover_services
from casework.services.cases import CaseConflict, audit_case

# Someone who never completed a sign-in before this one is shown the last week.
FIRST_SHIFT = timedelta(days=7)


def _at_version(request: AuthenticatedHttpRequest, version: int):
    """What was posted, at the case's current version: after a conflict, the next submit
    (once the user has read what changed) goes through, and nothing typed is lost."""
    data = request.POST.copy()
    data["version"] = str(version)
    return data


@sensitive_post_parameters("note")
def case_hand_over(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """The assignee hands the case to another volunteer of the team, with a note."""
    case = case_selectors.case_for_action(request.user, reference)
    if not permissions.can_hand_over(request.user, case):
        raise PermissionDenied
    form = HandOverForm(request.POST or None, initial={"version": case.version})
    conflict = None
    if request.method == "POST" and form.is_valid():
        to = handover_selectors.handover_candidate(case, request.user, form.cleaned_data["to"])
        if to is None:
            form.add_error("to", _("No other active volunteer of the case's team has that name."))
        else:
            try:
                handover_services.case_hand_over(
                    case=case,
                    to=to,
                    by=request.user,
                    note=form.cleaned_data["note"],
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            except CaseConflict as error:
                conflict = error.events
                form.data = _at_version(request, error.case.version)
            else:
                messages.success(
                    request,
                    _("%(reference)s is handed over to %(username)s.")
                    % {"reference": case.reference, "username": to.username},
                )
                return redirect("casework:case_list")
    status = 409 if conflict else (400 if form.is_bound else 200)
    has_colleagues = handover_selectors.handover_candidates(case, request.user).exists()
    context = {"case": case, "form": form, "conflict": conflict, "has_members": has_colleagues}
    return render(request, "casework/hand_over.html", context, status=status)


@sensitive_post_parameters("note")
def case_transfer_ask(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """A coordinator proposes moving the case to another team."""
    case = case_selectors.case_for_action(request.user, reference)
    if not permissions.can_ask_transfer(request.user, case):
        raise PermissionDenied
    form = TransferAskForm(
        request.POST or None,
        teams=handover_selectors.transfer_targets(case),
        initial={"version": case.version},
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            handover_services.case_transfer_ask(
                case=case,
                to_team=form.cleaned_data["to_team"],
                by=request.user,
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except CaseConflict as error:
            conflict = error.events
            form.data = _at_version(request, error.case.version)
        else:
            messages.success(
                request,
                _("Transfer asked: %(team)s's coordinators decide.")
                % {"team": form.cleaned_data["to_team"].name},
            )
            return redirect("casework:case_detail", reference=case.reference)
    status = 409 if conflict else (400 if form.is_bound else 200)
    context = {
        "case": case,
        "form": form,
        "conflict": conflict,
        "pending": handover_selectors.pending_transfer_of(case),
    }
    return render(request, "casework/transfer_ask.html", context, status=status)


def transfer_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Transfers waiting for the user's teams, and those their teams asked or decided."""
    if not request.user.has_perm("accounts.coordinate_cases"):
        raise PermissionDenied
    waiting, others = handover_selectors.transfers_for(request.user)
    return render(request, "casework/transfer_list.html", {"waiting": waiting, "others": others})


def _transfer_page(
    request: AuthenticatedHttpRequest,
    transfer: CaseTransfer,
    form: TransferDecideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_decide = transfer.is_pending and permissions.can_decide_transfer(request.user, transfer)
    if can_decide and form is None:
        form = TransferDecideForm(
            members=_members(transfer), initial={"version": transfer.case.version}
        )
    if transfer.is_pending:
        # The note and the case's outline are read for a decision: recorded as a read.
        audit_case(transfer.case, request.user, Action.CASE_VIEWED, reason="pending transfer")
    context = {
        "transfer": transfer,
        "case": transfer.case,
        "form": form if can_decide else None,
        "can_withdraw": transfer.is_pending
        and permissions.can_withdraw_transfer(request.user, transfer),
        "on_receiving_side": transfer.to_team_id in request.user.team_ids,
    }
    return render(request, "casework/transfer_detail.html", context, status=status)


def _members(transfer: CaseTransfer):
    return handover_selectors.receiving_members(transfer)


@sensitive_post_parameters("reason")
def transfer_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The pending transfer as the receiving team may see it, and its decision."""
    transfer = handover_selectors.transfer_for(request.user, pk)
    if request.method != "POST":
        return _transfer_page(request, transfer)
    if not permissions.can_decide_transfer(request.user, transfer):
        raise PermissionDenied
    form = TransferDecideForm(request.POST, members=_members(transfer))
    if not transfer.is_pending:
        messages.error(request, _("This transfer has already been decided or withdrawn."))
        return redirect("casework:transfer_detail", pk=transfer.pk)
    if not form.is_valid():
        return _transfer_page(request, transfer, form, status=400)
    data = form.cleaned_data
    try:
        if data["decision"] == TransferDecideForm.ACCEPT:
            handover_services.case_transfer_accept(
                transfer=transfer,
                by=request.user,
                expected_version=data["version"],
                assignee=data["assignee"],
            )
        else:
            handover_services.case_transfer_decline(
                transfer=transfer, by=request.user, reason=data["reason"]
            )
    except ValidationError as error:
        form.add_error(None, error)
        return _transfer_page(request, transfer, form, status=400)
    except CaseConflict as error:
        form.add_error(
            None,
            _(
                "The case changed after you opened this page: look at it again before you "
                "decide. Nothing was saved."
            ),
        )
        fresh = handover_selectors.transfer_for(request.user, pk)
        form.data = _at_version(request, error.case.version)
        return _transfer_page(request, fresh, form, status=409)
    if data["decision"] == TransferDecideForm.ACCEPT:
        messages.success(
            request,
            _("%(reference)s is your team's case now.") % {"reference": transfer.case.reference},
        )
        return redirect("casework:case_detail", reference=transfer.case.reference)
    messages.success(request, _("Transfer declined; the asking team is told why."))
    return redirect("casework:transfer_list")


@require_POST
def transfer_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    transfer = handover_selectors.transfer_for(request.user, pk)
    if not permissions.can_withdraw_transfer(request.user, transfer):
        raise PermissionDenied
    try:
        handover_services.case_transfer_withdraw(transfer=transfer, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("casework:transfer_detail", pk=transfer.pk)
    messages.success(request, _("Transfer withdrawn."))
    return redirect("casework:case_detail", reference=transfer.case.reference)


def since_last_shift(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What others changed on the user's cases since their previous sign-in."""
    user = request.user
    if not user.has_perm("accounts.work_cases"):
        raise PermissionDenied
    since = user.previous_login
    first_shift = since is None
    if since is None:
        since = timezone.now() - FIRST_SHIFT
    changes = handover_selectors.changes_since(user, since)
    context = {
        "since": since,
        "first_shift": first_shift,
        "changes": changes,
        "total": sum(group.count for group in changes),
        "limit": handover_selectors.SINCE_LIMIT,
    }
    return render(request, "casework/since_last_shift.html", context)
