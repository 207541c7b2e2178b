"""What a contact or check-in logged at one tap changed, kept for a few minutes so the one
who tapped can take it back (casework.services.undo.case_note_undo).

A tap on the wrong case, or twice, would otherwise stand as contact with the person: the
silence clock restarted, a lost-contact alarm closed, a missed check-in answered. The
snapshot is taken before the tap's changes and recorded after them, in its transaction.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from casework.models import (
    Case,
    CaseEvent,
    Reminder,
    ReminderKind,
    ReminderState,
    TimelineUndo,
)

# What a contact or check-in may close: the check-ins it answers, the lost-contact alarm.
CLOSABLE = (
    ReminderKind.CROSSING_CHECK_IN,
    ReminderKind.TRANSIT_CHECK_IN,
    ReminderKind.LOST_CONTACT,
)
OPEN = (ReminderState.PENDING, ReminderState.SENT)


def window() -> timedelta:
    return timedelta(minutes=settings.UNDO_MINUTES)


@dataclass
class Snapshot:
    last_contact_at: datetime | None
    lost_contact_at: datetime | None
    open_reminders: dict[int, str] = field(default_factory=dict)


def snapshot(case: Case) -> Snapshot:
    """The case's contact state before a tap; the caller holds the case's row lock."""
    last, lost = (
        Case.objects.filter(pk=case.pk).values_list("last_contact_at", "lost_contact_at").get()
    )
    reminders = Reminder.objects.filter(case=case, kind__in=CLOSABLE, state__in=OPEN)
    return Snapshot(last, lost, dict(reminders.values_list("pk", "state")))


def record_undo(case: Case, event: CaseEvent, by: User, before: Snapshot) -> TimelineUndo:
    """Records what the tap that wrote `event` changed since `before`."""
    now_open = Reminder.objects.filter(case=case, kind__in=CLOSABLE, state__in=OPEN)
    still_open = dict(now_open.values_list("pk", "state"))
    closed = {str(pk): state for pk, state in before.open_reminders.items() if pk not in still_open}
    scheduled = next(
        (pk for pk in sorted(still_open, reverse=True) if pk not in before.open_reminders), None
    )
    return TimelineUndo.objects.create(
        case=case,
        event=event,
        kind=event.kind,
        by=by,
        expires_at=timezone.now() + window(),
        last_contact_at_before=before.last_contact_at,
        last_contact_at_set=case.last_contact_at,
        lost_contact_at_before=before.lost_contact_at,
        reminders_closed=closed,
        reminder_scheduled_id=scheduled,
    )
