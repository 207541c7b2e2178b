"""A broker outage delays e-mail copies and loses none (issue 19: 976 of 4,000 were lost).

Notifications are made while the Celery broker cannot be reached (a closed port: the shared
Redis server is never stopped); then the broker is back and beat's tasks run. Every copy
must arrive, once. The count test runs the tasks in this process; the worker test runs a
real `celery worker -B` on Redis.
"""

import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import kombu.pools
import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import Notification, Reminder, ReminderKind, Stage
from casework.notifications import notify
from casework.tasks import dispatch_reminders
from config.celery import app as celery_app
from tests.config.test_celery_worker import REDIS_URL, redis_reachable
from tests.config.test_reminder_worker import start_beat_worker
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
DEAD_BROKER = "redis://127.0.0.1:1/0"
COPIES = 4000


@contextmanager
def broker_at(url: str):
    """Points this process's publishing at `url`; kombu's pooled connections go with it."""
    names = ("broker_url", "broker_write_url")
    saved = {name: celery_app.conf[name] for name in names}

    def reset_pools():
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_pools()
    for name in names:
        celery_app.conf[name] = url
    try:
        yield
    finally:
        reset_pools()
        for name, value in saved.items():
            celery_app.conf[name] = value


@contextmanager
def published():
    """The task messages this process publishes, as (task, args)."""
    messages: list[tuple[str, list]] = []

    def record(sender=None, body=None, headers=None, **kwargs):
        args = body[0] if isinstance(body, list | tuple) and body else []
        messages.append(((headers or {}).get("task", sender), list(args)))

    before_task_publish.connect(record, weak=False)
    try:
        yield messages
    finally:
        before_task_publish.disconnect(record)


def beat_minute(messages: list[tuple[str, list]]) -> None:
    """What beat starts within a minute in casework (the dispatcher, the heartbeat, the
    e-mail sender where there is one), then every task message published meanwhile, each
    run as a worker would run it."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        every = entry["schedule"]
        if (
            entry["task"].startswith("casework.")
            and isinstance(every, timedelta)
            and (every <= timedelta(minutes=1))
        ):
            celery_app.tasks[entry["task"]].apply(throw=True)
    while messages:
        name, args = messages.pop(0)
        celery_app.tasks[name].apply(args=args, throw=True)


def wanting(name: str, **fields):
    return UserFactory(
        username=name, email_notifications=True, notification_email=f"{name}@example.org", **fields
    )


def expected_copies() -> Counter:
    return Counter(
        (note.user.notification_email, note.subject)
        for note in Notification.objects.select_related("user")
        if note.user.email_notifications
    )


def received(outbox) -> Counter:
    return Counter((message.to[0], message.subject.rsplit(" ", 1)[-1]) for message in outbox)


@pytest.mark.django_db(transaction=True)
def test_no_copy_is_lost_when_the_broker_is_down_during_a_dispatch(team, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = [wanting(f"keen{n}") for n in range(20)]
    cases = [CaseFactory(team=team) for _ in range(20)]
    now = timezone.now()
    Reminder.objects.bulk_create(
        Reminder(
            kind=ReminderKind.FOLLOW_UP,
            due_at=now,
            case=case,
            team=team,
            subject=case.reference,
            recipient=person,
        )
        for number in range(COPIES)
        for case, person in [(cases[number % 20], people[number // 200])]
    )
    # The worker already holds the dispatcher's message when the broker goes away.
    started = time.monotonic()
    with broker_at(DEAD_BROKER):
        try:
            dispatch_reminders()
            outage_error = None
        except Exception as error:  # what the worker would log
            outage_error = type(error).__name__
    outage_seconds = time.monotonic() - started
    # The broker is back: beat runs its tasks, the worker takes what is published.
    started = time.monotonic()
    with broker_at("memory://"), published() as messages:
        for _minute in range(30):
            before = len(mail.outbox)
            beat_minute(messages)
            if len(mail.outbox) == before and not Reminder.objects.filter(state="pending"):
                break
    sending_seconds = time.monotonic() - started
    expected, got = expected_copies(), received(mail.outbox)
    figures = {
        "notifications": Notification.objects.count(),
        "sent": len(mail.outbox),
        "lost": sum((expected - got).values()),
        "duplicates": sum((got - expected).values()),
        "error during the outage": outage_error,
    }
    with capsys.disabled():
        print(
            f"\noutage test: {figures}, outage phase {outage_seconds:.1f} s,"
            f" sending {sending_seconds:.1f} s"
        )
    assert figures == {
        "notifications": COPIES,
        "sent": COPIES,
        "lost": 0,
        "duplicates": 0,
        "error during the outage": None,
    }


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_is_told_by_email_of_a_cancelled_check_in_made_during_the_outage(
    team, volunteer, settings
):
    """A page that notifies someone works while the broker is down, and the copy follows."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    coordinator = wanting("coordinator1", role="coordinator", teams=[team])
    case = CaseFactory(team=team, assignee=volunteer, coordinator=coordinator, stage=Stage.CROSSING)
    check_in = Reminder.objects.create(
        kind=ReminderKind.CROSSING_CHECK_IN,
        due_at=timezone.now() + timedelta(hours=6),
        case=case,
        team=team,
        subject=case.reference,
        urgent=True,
    )
    client = verified_client(volunteer)
    url = reverse("casework:reminder_change", args=[case.reference, check_in.pk])
    with broker_at(DEAD_BROKER):
        try:
            status = client.post(url, {"action": "dismiss", "reason": "They called."}).status_code
        except Exception as error:
            status = type(error).__name__
    assert status == 302
    with broker_at("memory://"), published() as messages:
        beat_minute(messages)
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["coordinator1@example.org"], f"[SP] URGENT: {case.reference}")
    ]


@pytest.mark.redis
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a shared database"
)
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_copies_made_while_the_broker_was_down(team, tmp_path):
    if not redis_reachable(REDIS_URL):
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    people = [wanting(f"keen{n}") for n in range(5)]
    with broker_at(DEAD_BROKER):
        for number in range(10):
            try:
                with transaction.atomic():
                    notify(people, kind=ReminderKind.FOLLOW_UP, subject=f"C-2026-{number:05d}")
            except Exception:  # noqa: S112 - on the old path the copy's message could not go
                continue
    assert Notification.objects.count() == 50
    worker = start_beat_worker(
        tmp_path,
        EMAIL_SEND_SECONDS="1",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    try:
        deadline = time.monotonic() + 45
        sent = Notification.objects.filter(emailed_at__isnull=False)
        while time.monotonic() < deadline and sent.count() < 50:
            time.sleep(0.5)
        count = sent.count()
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert count == 50, output[-3000:]
    lines = output.splitlines()
    subjects = Counter(line.split(": ", 1)[1] for line in lines if line.startswith("Subject: "))
    assert len(subjects) == 10 and set(subjects.values()) == {5}, output[-3000:]
