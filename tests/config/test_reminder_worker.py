"""A real `celery worker -B` on Redis picks up a reminder that is due and the notification
appears within seconds. Needs a database the worker process can reach: PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from casework.models import Notification, Reminder, ReminderKind
from tests.config.test_celery_worker import REDIS_URL, redis_reachable
from tests.conftest import child_database_env
from tests.factories import CaseFactory

ROOT = Path(__file__).resolve().parents[2]


def start_beat_worker(tmp_path: Path, **env: str) -> subprocess.Popen:
    """A `celery worker -B` on the Redis broker and the test database, as the app's role
    (what a production worker logs in as), with the app's keys (or it refuses to read the
    rows); `env` sets the schedule's numbers. Its output is returned by communicate()."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-B"),
            *("--pool", "solo", "--loglevel", "INFO"),
            *("--schedule", str(tmp_path / "beat-schedule")),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "SAFE_PASSAGE_MODE": "embedded",
            "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
            **child_database_env(),
            "CELERY_BROKER_URL": REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY),
            "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY.hex(),
            "AUDIT_KEY": ",".join(key.hex() for key in settings.AUDIT_KEY),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.redis
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a shared database"
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_with_beat_turns_a_due_reminder_into_a_notification(volunteer, team, tmp_path):
    if not redis_reachable(REDIS_URL):
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    case = CaseFactory(team=team, assignee=volunteer)
    Reminder.objects.create(
        kind=ReminderKind.FOLLOW_UP,
        due_at=timezone.now(),
        case=case,
        team=team,
        subject=case.reference,
        recipient=volunteer,
    )
    worker = start_beat_worker(tmp_path, REMINDER_DISPATCH_SECONDS="1")
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and not Notification.objects.exists():
            time.sleep(0.5)
        arrived = Notification.objects.filter(user=volunteer, subject=case.reference).count()
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert arrived == 1, output[-3000:]
