"""Two dispatchers at once send every reminder exactly once (real PostgreSQL connections)."""

import pytest
from django.utils import timezone

from casework import scheduling
from casework.models import Notification, Reminder, ReminderKind, ReminderState
from tests.concurrency import needs_postgres, run_together
from tests.factories import CaseFactory


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_send_each_reminder_once(volunteer, team):
    cases = [CaseFactory(team=team, assignee=volunteer) for _ in range(20)]
    now = timezone.now()
    Reminder.objects.bulk_create(
        Reminder(
            kind=ReminderKind.FOLLOW_UP,
            due_at=now,
            case=case,
            team=team,
            subject=case.reference,
            recipient=volunteer,
        )
        for case in cases * 10
    )
    results = run_together(lambda: scheduling.dispatch_due(now=now, batch=7))
    assert len(results) == 2
    assert sum(len(made) for made in results) == 200
    assert all(results)  # skip_locked let both work at once, on different rows
    assert Notification.objects.count() == 200
    assert Notification.objects.values("reminder").distinct().count() == 200
    assert not Reminder.objects.filter(state=ReminderState.PENDING).exists()
