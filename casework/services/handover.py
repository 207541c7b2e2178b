"""Handing a case to another volunteer of its team, and transferring it to another team.

What moves with the case follows need-to-know:

- A handover passes the case within the team. The route legs the old volunteer held go to
  the new one (a leg someone else holds stays theirs), and the follow-ups the old
  volunteer set on the case are addressed to the new one. Reminders addressed to "the
  assignee" (overdue stage, missed check-ins) follow the case by themselves.
- An accepted transfer passes the case to another team, and nobody of the old team keeps
  it: it arrives unassigned (or with the assignee the accepting coordinator chose), with
  that coordinator as its coordinator. Legs whose volunteer is not a member of the new team
  lose their volunteer; follow-ups set by anyone outside the new team go to the new
  assignee, or else the accepting coordinator; every open reminder, and the requests that
  led to the case, become the new team's.

Before accepting, the other team sees what it needs to decide and nothing that identifies
the person (casework.selectors.handover.transfer_for).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from accounts.roles import Role
from audit.models import Action
from casework import event_details, permissions
from casework.models import (
    Case,
    CaseEvent,
    CaseTransfer,
    EventKind,
    NotificationKind,
    Reminder,
    ReminderKind,
    ReminderState,
    RouteLeg,
    TransferState,
)
from casework.notifications import notify, retire
from casework.scheduling import team_coordinators
from casework.services.cases import _claim_version, _conflict, audit_case, timeline_add
from casework.services.decisions import decide_once

OPEN_REMINDERS = (ReminderState.PENDING, ReminderState.SENT)
NO_COORDINATOR = gettext_lazy(
    "%(team)s has no active coordinator to accept the case. Ask an admin to give the team a "
    "coordinator first, or choose another team."
)

ALREADY_DECIDED = gettext_lazy("This transfer has already been decided or withdrawn.")
NO_LONGER_OPEN = gettext_lazy(
    "The case was closed, merged into another case or put on legal hold since this transfer "
    "was asked: it stays with its team. Nothing was changed."
)
ON_LEGAL_HOLD = gettext_lazy(
    "This case is on legal hold: it stays with its team until a coordinator lifts the hold."
)


@transaction.atomic
def case_hand_over(
    *, case: Case, to: User, by: User, note: str, expected_version: int
) -> CaseEvent:
    """The assignee hands the case to another active volunteer of its team, with a note
    for them (encrypted, on the timeline). The new assignee is told."""
    if not permissions.can_hand_over(by, case):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ValidationError(_("Write a handover note: what the next volunteer must know."))
    if (
        to.pk == by.pk
        or not to.is_active
        or not to.has_role(Role.VOLUNTEER)
        or case.team_id not in to.team_ids
    ):
        raise ValidationError(_("Choose another active volunteer of the case's team."))
    _claim_version(case, expected_version, assignee=to)
    legs = RouteLeg.objects.filter(case=case, volunteer=by).update(
        volunteer=to, updated_at=timezone.now()
    )
    follow_ups = Reminder.objects.filter(
        case=case, state=ReminderState.PENDING, recipient=by
    ).update(recipient=to)
    notify([to], kind=NotificationKind.HANDOVER, subject=case.reference)
    event = timeline_add(case, by, EventKind.HANDOVER, detail=to.username, text=note)
    audit_case(
        case,
        by,
        Action.CASE_HANDED_OVER,
        reason=f"to user {to.pk}; {legs} legs, {follow_ups} follow-ups",
    )
    return event


def pending_transfer(case: Case) -> CaseTransfer | None:
    return case.transfers.filter(state=TransferState.PENDING).first()


@transaction.atomic
def case_transfer_ask(
    *, case: Case, to_team: Team, by: User, note: str, expected_version: int
) -> CaseTransfer:
    """A coordinator of the case's team proposes moving it to `to_team`. Refused, with
    everything typed kept by the caller, when that team has no active coordinator to
    decide. The other team's coordinators are told at once (urgent)."""
    if not permissions.can_ask_transfer(by, case):
        raise PermissionDenied
    if case.version != expected_version:
        raise _conflict(case, expected_version)
    note = note.strip()
    if not note:
        raise ValidationError(_("Write a note for the other team: why, and what they must know."))
    if to_team.pk == case.team_id:
        raise ValidationError(_("The case is in that team already."))
    if case.on_legal_hold:
        raise ValidationError(ON_LEGAL_HOLD)
    if pending_transfer(case) is not None:
        raise ValidationError(_("A transfer of this case is already waiting for an answer."))
    deciders = team_coordinators({to_team.pk})[to_team.pk]
    if not deciders:
        raise ValidationError(NO_COORDINATOR % {"team": to_team.name}, code="no_coordinator")
    _claim_version(case, expected_version)
    try:
        with transaction.atomic():
            transfer = CaseTransfer.objects.create(
                case=case, from_team_id=case.team_id, to_team=to_team, asked_by=by, note=note
            )
    except IntegrityError:  # another proposal won the race
        raise ValidationError(
            _("A transfer of this case is already waiting for an answer.")
        ) from None
    notify(deciders, kind=NotificationKind.TRANSFER_ASKED, subject=case.reference, urgent=True)
    timeline_add(
        case,
        by,
        EventKind.TRANSFER,
        facts=event_details.facts("transfer_asked", team=to_team.name),
        text=note,
    )
    audit_case(case, by, Action.TRANSFER_ASKED, reason=f"to team {to_team.pk}")
    return transfer


def _members(team: Team) -> set[int]:
    """The active members of the team, by id."""
    return set(
        User.teams.through.objects.filter(team_id=team.pk, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


@transaction.atomic
def case_transfer_accept(
    *,
    transfer: CaseTransfer,
    by: User,
    expected_version: int,
    assignee: User | None = None,
) -> CaseEvent:
    """A coordinator of the receiving team accepts: the case becomes that team's, and the
    old team loses it at once (see the module's docstring for legs and reminders).

    Refused, changing nothing, unless the case is still open, unmerged and not on legal
    hold: closing it or setting a hold withdraws its transfer, and a merge waits for the
    transfer's answer (services.merge.merge_problems), but the case is read again under its
    row lock here, so a change a moment ago, or a transfer left waiting from before those
    rules, cannot hand another team a case its own team has finished with."""
    if not permissions.can_decide_transfer(by, transfer):
        raise PermissionDenied
    case = Case.objects.select_for_update().get(pk=transfer.case_id)
    to_team = transfer.to_team
    if case.is_purged or case.team_id != transfer.from_team_id:
        raise ValidationError(_("This case can no longer be transferred."))
    if case.is_closed or case.is_merged or case.on_legal_hold:
        raise ValidationError(NO_LONGER_OPEN)
    members = _members(to_team)
    if assignee is not None and (
        not assignee.is_active
        or assignee.pk not in members
        or not (assignee.has_role(Role.VOLUNTEER) or assignee.has_role(Role.COORDINATOR))
    ):
        raise ValidationError(_("The assignee must be an active member of your team."))
    decide_once(transfer, by=by, state=TransferState.ACCEPTED, refused=ALREADY_DECIDED)
    from_team_id = case.team_id
    _claim_version(case, expected_version, team=to_team, coordinator=by, assignee=assignee)
    now = timezone.now()
    legs = (
        RouteLeg.objects.filter(case=case, volunteer__isnull=False)
        .exclude(volunteer_id__in=members)
        .update(volunteer=None, updated_at=now)
    )
    reminders = Reminder.objects.filter(case=case, state__in=OPEN_REMINDERS)
    readdressed = (
        reminders.filter(kind=ReminderKind.FOLLOW_UP, state=ReminderState.PENDING)
        .exclude(Q(recipient__isnull=True) | Q(recipient_id__in=members))
        .update(recipient=assignee or by)
    )
    reminders.update(team=to_team)
    case.intake_requests.update(team=to_team)
    retire(kind=NotificationKind.TRANSFER_ASKED, subject=case.reference)
    notify([transfer.asked_by], kind=NotificationKind.TRANSFER_DECIDED, subject=case.reference)
    if assignee is not None and assignee.pk != by.pk:
        notify([assignee], kind=NotificationKind.ASSIGNED, subject=case.reference)
    event = timeline_add(
        case,
        by,
        EventKind.TRANSFER,
        facts=event_details.facts("transfer_accepted", team=to_team.name),
    )
    audit_case(
        case,
        by,
        Action.TRANSFER_DECIDED,
        reason=(
            f"accepted: from team {from_team_id} to team {to_team.pk}; {legs} legs unassigned, "
            f"{readdressed} follow-ups readdressed"
        ),
    )
    return event


@transaction.atomic
def case_transfer_decline(*, transfer: CaseTransfer, by: User, reason: str) -> CaseEvent:
    """A coordinator of the receiving team declines, saying why; the case stays put and the
    asker is told. The reason goes on the case's timeline, for its own team."""
    if not permissions.can_decide_transfer(by, transfer):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the transfer is declined."))
    decide_once(
        transfer, by=by, state=TransferState.DECLINED, refused=ALREADY_DECIDED, reason=reason
    )
    case = transfer.case
    retire(kind=NotificationKind.TRANSFER_ASKED, subject=case.reference)
    notify([transfer.asked_by], kind=NotificationKind.TRANSFER_DECIDED, subject=case.reference)
    event = timeline_add(
        case,
        by,
        EventKind.TRANSFER,
        facts=event_details.facts("transfer_declined", team=transfer.to_team.name),
        text=reason,
    )
    audit_case(case, by, Action.TRANSFER_DECIDED, reason=f"declined by team {transfer.to_team_id}")
    return event


@transaction.atomic
def case_transfer_withdraw(*, transfer: CaseTransfer, by: User) -> CaseEvent:
    """A coordinator of the asking team takes the proposal back while it waits."""
    if not permissions.can_withdraw_transfer(by, transfer):
        raise PermissionDenied
    decide_once(transfer, by=by, state=TransferState.WITHDRAWN, refused=ALREADY_DECIDED)
    case = transfer.case
    retire(kind=NotificationKind.TRANSFER_ASKED, subject=case.reference)
    event = timeline_add(
        case,
        by,
        EventKind.TRANSFER,
        facts=event_details.facts("transfer_withdrawn", team=transfer.from_team.name),
    )
    audit_case(case, by, Action.TRANSFER_DECIDED, reason="withdrawn")
    return event
