"""Changes to a case's reminders: follow-ups, snoozing, dismissing and acknowledging.

Like casework.services: the acting user is checked, one transaction, timeline and audit.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from casework import event_details, permissions, scheduling
from casework.models import Case, EventKind, Reminder, ReminderState
from casework.services.cases import audit_case, timeline_add


@transaction.atomic
def follow_up_set(*, case: Case, by: User, due_at, note: str = "") -> Reminder:
    """ "Contact again on …": a reminder for the one who sets it."""
    if not permissions.can_work_case(by, case):
        raise PermissionDenied
    if due_at <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    reminder = scheduling.follow_up_schedule(case, by, due_at, note.strip())
    audit_case(case, by, Action.REMINDER_CHANGED)
    timeline_add(
        case,
        by,
        EventKind.REMINDER,
        facts=event_details.facts("follow_up_set", when=due_at),
        text=note.strip(),
    )
    return reminder


def _own_reminder(reminder: Reminder, by: User) -> Case:
    case = reminder.case
    if case is None or not permissions.can_work_case(by, case):
        raise PermissionDenied
    return case


@transaction.atomic
def reminder_snooze(*, reminder: Reminder, by: User, until, reason: str) -> None:
    """Moves a pending reminder later; the reason goes on the timeline. An urgent check-in
    put off tells the coordinators (scheduling.check_ins_cancelled)."""
    case = _own_reminder(reminder, by)
    if not reason.strip():
        raise ValidationError(_("Say why the reminder can wait."))
    if until <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    moved = Reminder.objects.filter(pk=reminder.pk, state=ReminderState.PENDING).update(
        due_at=until
    )
    if not moved:
        raise ValidationError(_("This reminder was already sent or closed."))
    if reminder.kind in scheduling.CHECK_IN_KINDS and until > reminder.due_at:
        # An alarm put off is an alarm silenced for a while.
        scheduling.check_ins_cancelled(
            case, by, [reminder], how=f"snoozed until {until.isoformat()}"
        )
    audit_case(case, by, Action.REMINDER_CHANGED)
    timeline_add(
        case,
        by,
        EventKind.REMINDER,
        facts=event_details.facts("snoozed", reminder=reminder.kind, when=until),
        text=reason.strip(),
    )


@transaction.atomic
def reminder_dismiss(*, reminder: Reminder, by: User, reason: str) -> None:
    """Cancels a pending reminder, or acknowledges a sent alarm; the reason is recorded. An
    urgent check-in cancelled tells the coordinators (scheduling.check_ins_cancelled)."""
    case = _own_reminder(reminder, by)
    if not reason.strip():
        raise ValidationError(_("Say why the reminder is no longer needed."))
    was_sent = reminder.state == ReminderState.SENT
    closed = Reminder.objects.filter(pk=reminder.pk, state=reminder.state).update(
        state=ReminderState.DONE if was_sent else ReminderState.CANCELLED,
        closed_at=timezone.now(),
        acknowledged_by=by,
    )
    if not closed:
        raise ValidationError(_("This reminder was already closed."))
    if reminder.kind in scheduling.CHECK_IN_KINDS and not was_sent:
        # Acknowledging a missed one is not silencing: it already alarmed the coordinators,
        # and the lost contact it raised stays until someone hears from the person.
        scheduling.check_ins_cancelled(case, by, [reminder], how="dismissed")
    audit_case(case, by, Action.REMINDER_CHANGED)
    step = "acknowledged" if was_sent else "dismissed"
    timeline_add(
        case,
        by,
        EventKind.REMINDER,
        facts=event_details.facts(step, reminder=reminder.kind),
        text=reason.strip(),
    )
