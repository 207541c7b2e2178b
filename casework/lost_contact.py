"""Lost contact: a flag the dispatcher raises on a case that has gone quiet, cleared by
the next logged contact or check-in.

Raised when either holds for an open case:
- silence: no contact or check-in for the stage's silence limit (the stage table in
  casework/workflow.py, numbers overridden by `LOST_CONTACT_HOURS_<STAGE>`), counted from the
  last one logged, or from entering the stage if that is later (a stage move is made right
  after talking to the person; a case just moved on must not be flagged for the old silence).
  A case held from in transit or crossing is still on the road: it keeps that stage's limit;
- a missed check-in: a crossing or transit check-in sent (missed) after the last contact,
  in the current stage.

Raising is a conditional UPDATE (`lost_contact_at IS NULL`), so two dispatchers, or one run
twice, raise it once: one timeline event, one audit event (actor None: the system), one
urgent reminder that the dispatcher turns into notifications for the assignee and the
case's coordinator (the team's coordinators when it has none).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from audit.log import record
from audit.models import Action
from casework import workflow
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)

SWEEP_BATCH = 500
CHECK_IN_KINDS = (ReminderKind.CROSSING_CHECK_IN, ReminderKind.TRANSIT_CHECK_IN)
# Codes in the timeline's `detail` (clear text, no personal data); pages translate them.
SILENCE = gettext_noop("no contact for too long")
MISSED_CHECK_IN = gettext_noop("a check-in was missed")
# Cleared (not raised) when a request from the person is attached to the case.
WROTE_AGAIN = gettext_noop("cleared: the person wrote again")


def _in_touch() -> Q:
    return Q(lost_contact_at__isnull=True, purged_at__isnull=True)


def silent_cases(now: datetime) -> Q:
    """Open cases silent longer than their stage allows.

    A case held while the person is on the road keeps the limit of the stage it was held
    from, counted from entering that stage: the hold restarts no clock (if on hold has a
    limit of its own, the shorter wins).
    """
    silent = Q(pk__in=[])
    for stage in Stage:
        row = workflow.rule(stage)
        if row.silence_limit is None:
            continue
        cutoff = now - row.silence_limit
        quiet = Q(last_contact_at__isnull=True) | Q(last_contact_at__lte=cutoff)
        silent |= Q(stage=stage, stage_entered_at__lte=cutoff) & quiet
        if row.on_the_road:
            entered_since = CaseEvent.objects.filter(
                case=OuterRef("pk"), kind=EventKind.STAGE, to_stage=stage, created_at__gt=cutoff
            )
            silent |= Q(stage=Stage.ON_HOLD, held_from=stage) & ~Q(Exists(entered_since)) & quiet
    return silent


def missed_check_in_cases() -> Q:
    """Open cases with a check-in missed in their current stage since the last contact."""
    missed = Reminder.objects.filter(
        case=OuterRef("pk"),
        kind__in=CHECK_IN_KINDS,
        sent_at__isnull=False,
        due_at__gt=OuterRef("stage_entered_at"),
    ).filter(Q(case__last_contact_at__isnull=True) | Q(due_at__gt=OuterRef("last_contact_at")))
    return Q(Exists(missed))


def raise_due(now: datetime | None = None, batch: int = SWEEP_BATCH) -> list[str]:
    """Raises the flag on every case that lost contact; returns their references."""
    now = now or timezone.now()
    raised: list[str] = []
    for why, condition in (
        (SILENCE, silent_cases(now)),
        (MISSED_CHECK_IN, missed_check_in_cases()),
    ):
        while True:
            with transaction.atomic():
                found = _raise_batch(now, why, condition, batch)
            raised += found
            if len(found) < batch:
                break
    return raised


def _raise_batch(now: datetime, why: str, condition: Q, batch: int) -> list[str]:
    candidates = list(
        Case.objects.select_for_update(skip_locked=True)
        .filter(_in_touch(), condition)
        .exclude(stage=Stage.CLOSED)
        .order_by("pk")
        .values_list("pk", "reference", "team_id", "stage", "version")[:batch]
    )
    raised = []
    for pk, reference, team_id, stage, version in candidates:
        # Claimed here so two dispatchers never raise (and notify) twice.
        if not Case.objects.filter(pk=pk, lost_contact_at__isnull=True).update(lost_contact_at=now):
            continue
        CaseEvent.objects.create(
            case_id=pk,
            kind=EventKind.LOST_CONTACT,
            actor=None,
            created_at=now,
            version=version,
            detail=why,
        )
        Reminder.objects.create(
            kind=ReminderKind.LOST_CONTACT,
            due_at=now,
            case_id=pk,
            team_id=team_id,
            subject=reference,
            stage=stage,
            urgent=True,
        )
        record(
            Action.LOST_CONTACT,
            actor=None,
            target_type="case",
            target_ref=reference,
            team_id=team_id,
            reason=why,
        )
        raised.append(reference)
    return raised


def on_contact(case: Case, by: User | None) -> bool:
    """A contact or check-in was logged: the silence ends, and a raised flag is cleared.

    Runs inside the caller's transaction, which holds the case's row lock. Returns whether a
    flag was cleared (the caller audits it).
    """
    now = timezone.now()
    was_lost = Case.objects.filter(pk=case.pk, lost_contact_at__isnull=False).exists()
    Case.objects.filter(pk=case.pk).update(last_contact_at=now, lost_contact_at=None)
    case.last_contact_at, case.lost_contact_at = now, None
    if was_lost:
        Reminder.objects.filter(
            case=case,
            kind=ReminderKind.LOST_CONTACT,
            state__in=(ReminderState.PENDING, ReminderState.SENT),
        ).update(state=ReminderState.DONE, closed_at=now, acknowledged_by=by)
    return was_lost
