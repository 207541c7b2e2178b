"""Migration 0014 gives existing notifications an e-mail state: those e-mailed are sent,
unsent ones of the last day (in the broker, or lost by it, when the old task went away) go
out once, and older ones stay unsent, so a deploy mails no backlog."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from casework.models import EmailState, Notification
from tests.audit.test_address_migration import migrate_to_latest
from tests.conftest import as_database_owner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("casework", "0013_seal")]


@pytest.fixture
def before_0014():
    with as_database_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        yield executor.loader.project_state(BEFORE).apps
        migrate_to_latest()


def test_existing_notifications_get_their_email_state(before_0014):
    keen = UserFactory(username="keen", email_notifications=True, notification_email="k@x.org")
    quiet = UserFactory(username="quiet")
    now = timezone.now()
    Old = before_0014.get_model("casework", "Notification")
    made = {
        name: Old.objects.create(
            user_id=user.pk, kind="follow_up", subject=name, created_at=at, emailed_at=emailed
        ).pk
        for name, user, at, emailed in [
            ("emailed", keen, now - timedelta(days=3), now - timedelta(days=3)),
            ("unsent", keen, now - timedelta(hours=2), None),
            ("old", keen, now - timedelta(days=2), None),
            ("unwanted", quiet, now - timedelta(hours=2), None),
        ]
    }
    migrate_to_latest()
    states = {
        name: Notification.objects.values_list("email_state", flat=True).get(pk=pk)
        for name, pk in made.items()
    }
    assert states == {
        "emailed": EmailState.SENT,
        "unsent": EmailState.PENDING,
        "old": EmailState.NOT_WANTED,
        "unwanted": EmailState.NOT_WANTED,
    }
