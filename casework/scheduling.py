"""Reminders: scheduling them with the change that causes them, and dispatching due ones.

Scheduling functions run inside the caller's transaction (a stage move and its reminder
commit together or not at all). The dispatcher claims due rows with a conditional UPDATE
(after `select_for_update(skip_locked=True)` where the database has it), so two dispatchers
running at once, or one run twice, never send a reminder twice.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from audit.log import record
from audit.models import Action
from casework import lost_contact, workflow
from casework.models import (
    Case,
    Heartbeat,
    Notification,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from casework.notifications import notification_for, notify

CHECK_IN_KINDS = (ReminderKind.CROSSING_CHECK_IN, ReminderKind.TRANSIT_CHECK_IN)
DISPATCH_BATCH = 500


def stage_limit(stage: str) -> timedelta | None:
    """The stage's time limit, from the stage table (casework.workflow); None: no limit."""
    return workflow.rule(stage).time_limit


def _pending(case: Case, *kinds: str) -> QuerySet[Reminder]:
    return Reminder.objects.filter(case=case, state=ReminderState.PENDING, kind__in=kinds)


def _schedule(case: Case, kind: str, due_at: datetime, **fields) -> Reminder:
    return Reminder.objects.create(
        kind=kind,
        due_at=due_at,
        case=case,
        team_id=case.team_id,
        subject=case.reference,
        **fields,
    )


def on_stage_entered(case: Case, by: User) -> list[Reminder]:
    """Cancels what belonged to the stage left and schedules what the new one needs.
    Returns what a closing cancelled, for the caller's timeline; [] for any other move.

    A hold keeps the pending check-ins: it pauses our work, not the person's journey. Any
    other move cancels them; unless the stage entered schedules its own (the journey goes
    on) or is arrival (the person is safe), the coordinators are told (check_ins_cancelled).
    """
    now = timezone.now()
    ended: list[Reminder] = []
    if case.stage == Stage.CLOSED:
        # The work is over: every reminder about it goes (a follow-up would only hold the
        # case's retention clock, casework.services.retention, past its end; one set after
        # the closing stays). A re-assessment stays: it is about who touched the case.
        ended = list(
            Reminder.objects.filter(case=case, state=ReminderState.PENDING)
            .exclude(kind__in=[ReminderKind.REASSESS, *CHECK_IN_KINDS])
            .select_for_update()
            .only("pk", "kind")
        )
        Reminder.objects.filter(pk__in=[reminder.pk for reminder in ended]).update(
            state=ReminderState.CANCELLED, closed_at=now
        )
    else:
        _pending(case, ReminderKind.STAGE_OVERDUE).update(
            state=ReminderState.CANCELLED, closed_at=now
        )
    dropped = [] if case.stage == Stage.ON_HOLD else _cancel_check_ins(case, now)
    limit = stage_limit(case.stage)
    if limit and case.stage != Stage.CLOSED:
        _schedule(case, ReminderKind.STAGE_OVERDUE, now + limit, stage=case.stage, created_by=by)
    replaced = _schedule_crossing_check_in(case, by) is not None
    if case.stage == Stage.IN_TRANSIT and settings.TRANSIT_CHECK_IN_HOURS:
        _schedule_transit_check_in(case, by)
        replaced = True
    if dropped and not replaced and case.stage != Stage.ARRIVED:
        check_ins_cancelled(case, by, dropped, how=f"moved to {Stage(case.stage).value}")
    return [*ended, *dropped] if case.stage == Stage.CLOSED else []


def on_crossing_window_changed(case: Case, by: User) -> None:
    """At the crossing, the check-in moves with the window's end. Put off (or gone with the
    window), it is a cancellation: the coordinators are told."""
    if case.stage != Stage.CROSSING:
        return
    dropped = _cancel_check_ins(case, timezone.now(), ReminderKind.CROSSING_CHECK_IN)
    new = _schedule_crossing_check_in(case, by)
    put_off = [old for old in dropped if new is None or new.due_at > old.due_at]
    if put_off:
        how = f"window moved, due {new.due_at.isoformat()}" if new else "window removed"
        check_ins_cancelled(case, by, put_off, how=how)


def _cancel_check_ins(case: Case, now: datetime, *kinds: str) -> list[Reminder]:
    """Cancels the case's pending check-ins; returns those this call cancelled."""
    found = list(_pending(case, *(kinds or CHECK_IN_KINDS)).select_for_update())
    Reminder.objects.filter(pk__in=[reminder.pk for reminder in found]).update(
        state=ReminderState.CANCELLED, closed_at=now
    )
    return found


def _schedule_crossing_check_in(case: Case, by: User) -> Reminder | None:
    if case.stage != Stage.CROSSING or not case.crossing_window_end:
        return None
    return _schedule(
        case,
        ReminderKind.CROSSING_CHECK_IN,
        case.crossing_window_end + timedelta(hours=settings.CROSSING_GRACE_HOURS),
        stage=case.stage,
        urgent=True,
        created_by=by,
    )


def check_ins_cancelled(case: Case, by: User | None, dropped: list[Reminder], how: str) -> None:
    """Urgent check-ins of the case were cancelled or put off (not answered): tells the
    coordinators urgently and audits it, in the caller's transaction.

    Told: the case's coordinator, or the team's coordinators when it has none, it is no
    longer one of them, or it made the change; never the one who made it, so a coordinator
    cannot quietly silence an alarm either. With nobody else to tell, the audit event stays.
    """
    current = team_coordinators({case.team_id})[case.team_id]
    others = [user for user in current if user.pk != getattr(by, "pk", None)]
    told = [user for user in others if user.pk == case.coordinator_id] or others
    # Linked to the check-in, so it goes with the case's reminders when they are purged.
    notify(
        told,
        kind=ReminderKind.CHECK_IN_CANCELLED,
        subject=case.reference,
        urgent=True,
        reminder=dropped[0],
    )
    kinds = ", ".join(sorted({reminder.kind for reminder in dropped}))
    record(
        Action.CHECK_IN_CANCELLED,
        actor=by,
        target_type="case",
        target_ref=case.reference,
        team_id=case.team_id,
        reason=f"{kinds}: {how}",
    )


def _schedule_transit_check_in(case: Case, by: User | None) -> None:
    _schedule(
        case,
        ReminderKind.TRANSIT_CHECK_IN,
        timezone.now() + timedelta(hours=settings.TRANSIT_CHECK_IN_HOURS),
        stage=Stage.IN_TRANSIT,
        urgent=True,
        created_by=by,
    )


def on_check_in(case: Case, by: User) -> None:
    """A check-in answers the pending one; in transit, the next one is due an interval on."""
    _pending(case, *CHECK_IN_KINDS).update(state=ReminderState.DONE, closed_at=timezone.now())
    if case.stage == Stage.IN_TRANSIT and settings.TRANSIT_CHECK_IN_HOURS:
        _schedule_transit_check_in(case, by)


def follow_up_schedule(case: Case, by: User, due_at: datetime, note: str) -> Reminder:
    return _schedule(case, ReminderKind.FOLLOW_UP, due_at, recipient=by, note=note, created_by=by)


def on_intake_logged(
    team: Team, reference: str, received_at: datetime, by: User | None
) -> Reminder:
    return Reminder.objects.create(
        kind=ReminderKind.UNTRIAGED_INTAKE,
        due_at=received_at + timedelta(hours=settings.INTAKE_TRIAGE_LIMIT_HOURS),
        team=team,
        subject=reference,
        created_by=by,
    )


def on_intake_triaged(reference: str) -> None:
    Reminder.objects.filter(
        kind=ReminderKind.UNTRIAGED_INTAKE, subject=reference, state=ReminderState.PENDING
    ).update(state=ReminderState.DONE, closed_at=timezone.now())


def team_coordinators(team_ids: set[int]) -> dict[int, list[User]]:
    """The active coordinators of each team, in one query for a whole batch."""
    found: dict[int, list[User]] = {team_id: [] for team_id in team_ids}
    members = User.teams.through.objects.filter(
        team_id__in=team_ids,
        user__groups__name=Role.COORDINATOR,
        user__is_active=True,
    ).select_related("user")
    for membership in members:
        found[membership.team_id].append(membership.user)
    return found


def recipients(reminder: Reminder, coordinators: list[User]) -> list[User]:
    """Who is told, given the coordinators of the reminder's team.

    Follow-ups go to whoever set them; untriaged requests, and re-assessments after a
    compromised account, to the team's coordinators; an overdue stage to the assignee (the
    coordinators when there is none); a missed check-in or lost contact to the assignee and
    the case's coordinator (all the team's if it has none) at once.
    """
    case = reminder.case
    # Every kind but the first two below is made for a case; were one ever without it,
    # the team's coordinators are told rather than the dispatcher failing on it.
    assignee = case.assignee if case else None
    case_coordinator = case.coordinator if case else None
    people: Sequence[User | None]
    if reminder.kind == ReminderKind.FOLLOW_UP:
        people = [reminder.recipient]
    elif reminder.kind == ReminderKind.UNTRIAGED_INTAKE:
        people = coordinators
    elif reminder.kind == ReminderKind.REASSESS:
        # Risk is the coordinators' call; the case's own coordinator even if in no team.
        people = [*coordinators, case_coordinator]
    elif reminder.kind == ReminderKind.STAGE_OVERDUE:
        people = [assignee] if assignee else coordinators
    else:
        people = [assignee, *([case_coordinator] if case_coordinator else coordinators)]
    unique = {user.pk: user for user in people if user is not None and user.is_active}
    return list(unique.values())


def dispatch_due(now: datetime | None = None, batch: int = DISPATCH_BATCH) -> list[int]:
    """Sends every due reminder once; returns the ids of the notifications made.

    Each batch is one transaction: claim, mark sent, notify (e-mail copies pending with
    the notifications: casework.emails). A crash rolls the batch back whole and the next run
    takes it again.
    """
    now = now or timezone.now()
    made = _dispatch_reminders(now, batch)
    # Raised after the reminders went out, so a check-in missed in this very run flags the
    # case now; the lost-contact reminders it makes are due at once and go out here too.
    if lost_contact.raise_due(now):
        made += _dispatch_reminders(now, batch)
    made += _notify_security_alerts(now)
    heartbeat("dispatcher", f"{len(made)} notifications")
    return made


def _dispatch_reminders(now: datetime, batch: int) -> list[int]:
    made: list[int] = []
    while True:
        with transaction.atomic():
            candidates = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(state=ReminderState.PENDING, due_at__lte=now)
                .order_by("due_at")
                .values_list("pk", flat=True)[:batch]
            )
            if not candidates:
                break
            claim = uuid.uuid4()
            Reminder.objects.filter(pk__in=candidates, state=ReminderState.PENDING).update(
                state=ReminderState.SENT, sent_at=now, claim=claim
            )
            claimed = list(
                Reminder.objects.filter(claim=claim)
                .select_related("case__assignee", "case__coordinator", "recipient")
                # Nothing encrypted is needed to decide who is told: do not decrypt it.
                .defer("note", "case__route_summary")
            )
            coordinators = team_coordinators({reminder.team_id for reminder in claimed})
            notifications = Notification.objects.bulk_create(
                notification_for(
                    user,
                    reminder=reminder,
                    kind=reminder.kind,
                    subject=reminder.subject,
                    urgent=reminder.urgent,
                    created_at=now,
                )
                for reminder in claimed
                for user in recipients(reminder, coordinators[reminder.team_id])
            )
            made += [notification.pk for notification in notifications]
    return made


@transaction.atomic
def _notify_security_alerts(now: datetime) -> list[int]:
    """Insider alerts from the audit log become urgent notifications for every admin."""
    from audit.models import InsiderAlert

    pending = list(
        InsiderAlert.objects.select_for_update(skip_locked=True)
        .filter(notified_at__isnull=True)
        .values_list("pk", "event_seq")[:DISPATCH_BATCH]
    )
    if not pending:
        return []
    InsiderAlert.objects.filter(pk__in=[pk for pk, _seq in pending]).update(notified_at=now)
    admins = list(
        User.objects.filter(is_active=True, groups__permissions__codename="review_audit").distinct()
    )
    notifications = Notification.objects.bulk_create(
        notification_for(
            admin,
            kind=ReminderKind.SECURITY_ALERT,
            # Named by the event it fired on; one that fired on none (a moved ciphertext, a
            # check that could not run) by its own number, as on the alerts page.
            subject=(f"A-{seq}" if seq else f"alert #{pk}")[:16],
            urgent=True,
            created_at=now,
        )
        for pk, seq in pending
        for admin in admins
    )
    return [notification.pk for notification in notifications]


def duplicate_matches_told(request_reference: str, cases: list[Case]) -> set[int]:
    """Those of these cases whose coordinators were already told this request matches."""
    told = Reminder.objects.filter(kind=ReminderKind.DUPLICATE_MATCH, case__in=cases)
    # Through instances, so each note is checked against its row (Sealed.from_db).
    return {
        reminder.case_id
        for reminder in told.only("seal", "case_id", "note")
        if reminder.case_id is not None and reminder.note == request_reference
    }


def on_duplicate_match(cases: list[Case], request_reference: str, by: User) -> list[int]:
    """Tells the coordinators of each case's team that a request logged in another team
    matches their case; they decide. The notification names their own case, so its link
    opens it. A reminder row, already sent, keeps the request's reference (in its note),
    so each request and case is told once (duplicate_matches_told)."""
    now = timezone.now()
    coordinators = team_coordinators({case.team_id for case in cases})
    made: list[int] = []
    for case in cases:
        reminder = Reminder.objects.create(
            kind=ReminderKind.DUPLICATE_MATCH,
            state=ReminderState.SENT,
            due_at=now,
            sent_at=now,
            case=case,
            team_id=case.team_id,
            subject=case.reference,
            note=request_reference,
            created_by=by,
        )
        made += notify(
            coordinators[case.team_id],
            kind=ReminderKind.DUPLICATE_MATCH,
            subject=case.reference,
            reminder=reminder,
        )
    return made


def heartbeat(name: str, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "detail": detail[:200]}
    )
