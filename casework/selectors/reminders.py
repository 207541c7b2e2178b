"""Reads of reminders: the alarms a user must see, and what is coming up on a case."""

from django.db.models import Q, QuerySet

from accounts.models import User
from casework.models import Case, Reminder, ReminderState
from casework.scheduling import CHECK_IN_KINDS
from casework.selectors.cases import cases_visible_to


def alarms_for(user: User) -> QuerySet[Reminder]:
    """Missed check-ins on cases the user may see, until someone acknowledges them."""
    return (
        Reminder.objects.filter(
            kind__in=CHECK_IN_KINDS,
            state=ReminderState.SENT,
            case__in=cases_visible_to(user),
        )
        .only("subject", "kind", "sent_at", "case_id")
        .order_by("sent_at")
    )


def upcoming_for_case(case: Case) -> QuerySet[Reminder]:
    return case.reminders.filter(
        Q(state=ReminderState.PENDING) | Q(state=ReminderState.SENT, urgent=True)
    ).order_by("due_at")
