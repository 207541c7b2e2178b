"""Asking the team's coordinator to make a move, and their answer.

A request holds for the case as it was when asked (its version): approving it runs the
move as the coordinator from that version, so a case that changed since (a move, an edit)
is never moved on a request that spoke of another case. Such a request lapses, and the one
who asked is told to ask again. Nothing hooks the other services: a stale request is
recognised by its version when someone next acts on it, and shown as lapsed until then;
only the coordinators' urgent inbox item about it is retired at once, by the change itself
(services.cases._claim_version).

Each step (asked, approved, declined, lapsed) is a timeline entry and an audit event in
the same transaction; the coordinators are told of a request, the asker of its end.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from audit.models import Action
from casework import permissions, workflow
from casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseEvent,
    EventKind,
    NotificationKind,
    Stage,
)
from casework.notifications import notify, retire
from casework.scheduling import team_coordinators
from casework.selectors.approvals import askable_targets
from casework.services.cases import CaseConflict, audit_case, case_transition, timeline_add
from casework.services.decisions import decide_once

LAPSED = gettext_lazy(
    "The case changed since this approval was asked: nothing was moved. Ask again if the "
    "move is still needed."
)
ALREADY_DECIDED = gettext_lazy("This request was already decided: nothing was changed.")
NO_APPROVER = gettext_lazy(
    "%(team)s has no active coordinator to approve this move: nothing was asked. Ask an "
    "admin to give the team a coordinator."
)


class ApprovalLapsed(ValidationError):
    """The case changed since the request was asked; the request is now recorded lapsed."""


def _record(approval: ApprovalRequest, case: Case, by: User, step: str, text: str = "") -> None:
    """The step on the timeline (the stage asked for, the step as a code, the note or the
    reason encrypted) and in the audit log (the step only). A request's end retires the
    coordinators' urgent inbox item about it, whoever of them decided."""
    timeline_add(case, by, EventKind.APPROVAL, to_stage=approval.to_stage, detail=step, text=text)
    if step != ApprovalState.PENDING:
        retire(kind=NotificationKind.APPROVAL_ASKED, subject=case.reference)
    action = Action.APPROVAL_ASKED if step == ApprovalState.PENDING else Action.APPROVAL_DECIDED
    audit_case(case, by, action, reason=f"{step} {approval.to_stage}")


def _lapse(approval: ApprovalRequest, case: Case, by: User) -> None:
    """Records a stale request as lapsed and tells the one who asked; the caller holds the
    transaction."""
    decide_once(approval, by=by, state=ApprovalState.LAPSED, refused=ALREADY_DECIDED)
    _record(approval, case, by, ApprovalState.LAPSED)
    notify([approval.asked_by], kind=NotificationKind.APPROVAL_DECIDED, subject=case.reference)


@transaction.atomic
def approval_ask(
    *, case: Case, by: User, to_stage: Stage, expected_version: int, note: str = "", outcome=""
) -> ApprovalRequest:
    """Asks the team's coordinators to make a move only they may make. One request waits
    per case; one asked of an earlier version of the case lapses first."""
    if not permissions.can_ask_approval(by, case):
        raise PermissionDenied
    # Locked, so two asks on one case wait for each other (the constraint backs this up).
    current = Case.objects.select_for_update().values_list("version", flat=True).get(pk=case.pk)
    if current != expected_version or case.version != expected_version:
        raise ValidationError(
            _("This page is out of date: nothing was asked. Reload it and try again.")
        )
    if to_stage not in askable_targets(case):
        raise ValidationError(_("This move does not need the coordinator's approval."))
    note = note.strip()
    if workflow.needs_reason(case, to_stage) and not note:
        raise ValidationError(_("Give a reason for this move in the note."))
    if to_stage == Stage.CLOSED and not outcome:
        raise ValidationError(_("Choose an outcome to close the case."))
    waiting = ApprovalRequest.objects.filter(case=case, state=ApprovalState.PENDING).first()
    if waiting is not None:
        if not waiting.has_lapsed_for(case):
            raise ValidationError(_("A request for approval already waits on this case."))
        _lapse(waiting, case, by)
    # Asked of nobody, the request would wait unseen: refused, as a transfer to a team
    # without a coordinator is (casework.services.handover).
    deciders = [user for user in team_coordinators({case.team_id})[case.team_id] if user != by]
    if not deciders:
        raise ValidationError(NO_APPROVER % {"team": case.team.name}, code="no_coordinator")
    approval = ApprovalRequest(
        case=case,
        to_stage=to_stage,
        outcome=outcome if to_stage == Stage.CLOSED else "",
        asked_by=by,
        asked_version=expected_version,
        note=note,
    )
    try:
        with transaction.atomic():
            approval.save()
    except IntegrityError as error:
        raise ValidationError(_("A request for approval already waits on this case.")) from error
    _record(approval, case, by, ApprovalState.PENDING, text=note)
    notify(
        deciders,
        kind=NotificationKind.APPROVAL_ASKED,
        subject=case.reference,
        urgent=True,
    )
    return approval


def approval_approve(
    *, approval: ApprovalRequest, case: Case, by: User, warning_seen: bool = False
) -> CaseEvent:
    """The coordinator makes the move asked for, from the version it was asked at, with
    every rule of the workflow checked now (case_transition).

    If the case changed since, the request lapses (ApprovalLapsed) and nothing moves. If
    the move's rules do not hold now (MoveRefused), nothing changes and the request keeps
    waiting: the coordinator may put it right (confirm the warning) or decline it.
    """
    if approval.case_id != case.pk:
        raise ValueError("the request belongs to another case")
    if not permissions.can_decide_approval(by, case, approval.asked_by_id):
        raise PermissionDenied
    try:
        with transaction.atomic():
            decide_once(approval, by=by, state=ApprovalState.APPROVED, refused=ALREADY_DECIDED)
            needs_reason = workflow.needs_reason(case, Stage(approval.to_stage))
            event = case_transition(
                case=case,
                to_stage=Stage(approval.to_stage),
                by=by,
                expected_version=approval.asked_version,
                reason=approval.note if needs_reason else "",
                outcome=approval.outcome,
                warning_seen=warning_seen,
                # Told below that their request was approved, which says the case moved.
                already_told=[approval.asked_by_id],
            )
            _record(approval, case, by, ApprovalState.APPROVED)
            notify(
                [approval.asked_by],
                kind=NotificationKind.APPROVAL_DECIDED,
                subject=case.reference,
            )
            return event
    except CaseConflict:
        # Rolled back above (the request was not approved); recorded lapsed now.
        approval.state = ApprovalState.PENDING
        with transaction.atomic():
            _lapse(approval, case, by)
        raise ApprovalLapsed(LAPSED) from None


@transaction.atomic
def approval_decline(
    *, approval: ApprovalRequest, case: Case, by: User, reason: str
) -> ApprovalRequest:
    """The coordinator says no, and why; the one who asked is told."""
    if approval.case_id != case.pk:
        raise ValueError("the request belongs to another case")
    if not permissions.can_decide_approval(by, case, approval.asked_by_id):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the move is declined."))
    decide_once(
        approval,
        by=by,
        state=ApprovalState.DECLINED,
        refused=ALREADY_DECIDED,
        decline_reason=reason,
    )
    _record(approval, case, by, ApprovalState.DECLINED, text=reason)
    notify([approval.asked_by], kind=NotificationKind.APPROVAL_DECIDED, subject=case.reference)
    return approval
