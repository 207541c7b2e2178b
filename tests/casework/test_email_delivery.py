"""E-mail copies of notifications are rows with a delivery state: marked with the
notification, sent by the periodic sender, tried again with back-off, given up on in
sight of the admins, sent again rather than lost when a sender dies mid-send."""

import logging
import smtplib
import socket
import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import InsiderAlert
from casework import emails, scheduling
from casework.models import EmailState, Notification, ReminderKind
from casework.notifications import notify
from tests.concurrency import needs_postgres, run_together
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HERE = "tests.casework.test_email_delivery"


class DroppingBackend(BaseEmailBackend):
    """A mail server that answers, then drops every message, quoting the address."""

    tries = 0

    def send_messages(self, email_messages):
        DroppingBackend.tries += 1
        raise smtplib.SMTPServerDisconnected(f"closed while sending to {email_messages[0].to[0]}")


class RefusingBackend(MemoryBackend):
    """Delivers, except to one address it refuses."""

    def send_messages(self, email_messages):
        for message in email_messages:
            if "refused@example.org" in message.to:
                raise smtplib.SMTPRecipientsRefused({"refused@example.org": (550, b"no such")})
        return super().send_messages(email_messages)


class WorkerLost(BaseException):
    """The process dies: nothing after this line runs, no handler catches it."""


class DyingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise WorkerLost


class SlowBackend(MemoryBackend):
    """Delivers in a millisecond or two, so two senders overlap."""

    def send_messages(self, email_messages):
        time.sleep(0.002)
        return super().send_messages(email_messages)


def wanting(name: str, **fields):
    return UserFactory(
        username=name,
        email_notifications=True,
        notification_email=f"{name}@example.org",
        **fields,
    )


def copy_of(user) -> Notification:
    return Notification.objects.get(user=user)


@pytest.fixture
def memory_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_a_copy_is_pending_with_the_notification_only_for_those_who_want_copies(team):
    keen = wanting("keen")
    quiet = UserFactory(username="quiet", notification_email="quiet@example.org")
    notify([keen, quiet], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    assert copy_of(keen).email_state == EmailState.PENDING
    assert copy_of(keen).email_next_try_at is not None
    assert copy_of(quiet).email_state == EmailState.NOT_WANTED


def test_the_sender_sends_each_copy_once(memory_mail):
    keen = wanting("keen")
    notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001", urgent=True)
    assert emails.send_due() == 1
    assert emails.send_due() == 0
    (message,) = mail.outbox
    assert message.to == ["keen@example.org"]
    assert message.subject == "[SP] URGENT: C-2026-00001"
    assert "/inbox/" in message.body
    sent = copy_of(keen)
    assert (sent.email_state, sent.email_attempts) == (EmailState.SENT, 1)
    assert sent.emailed_at is not None


def test_security_alerts_go_by_email_too(memory_mail, admin_user):
    admin_user.email_notifications = True
    admin_user.notification_email = "watch@example.org"
    admin_user.save()
    InsiderAlert.objects.create(kind=InsiderAlert.Kind.CHECK_FAILED)
    scheduling.dispatch_due()
    assert emails.send_due() == 1
    assert mail.outbox[0].to == ["watch@example.org"]


def test_a_copy_the_server_keeps_dropping_is_tried_with_back_off_then_given_up(
    settings, caplog, admin_client_verified
):
    settings.EMAIL_BACKEND = f"{HERE}.DroppingBackend"
    DroppingBackend.tries = 0
    keen = wanting("keen")
    waits = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
        for _ in range(emails.MAX_ATTEMPTS):
            assert emails.send_due() == 0
            row = copy_of(keen)
            waits.append(round((row.email_next_try_at - timezone.now()).total_seconds() / 60))
            clock.move_to(row.email_next_try_at - timedelta(seconds=1))
            assert emails.send_due() == 0  # not before its time
            clock.move_to(row.email_next_try_at)
        clock.shift(timedelta(days=1))
        assert emails.send_due() == 0
    assert DroppingBackend.tries == emails.MAX_ATTEMPTS
    assert waits[:-1] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    row = copy_of(keen)
    assert (row.email_state, row.email_attempts) == (EmailState.FAILED, 10)
    assert row.email_error == "SMTPServerDisconnected"  # the class, not its message
    assert "keen@example.org" not in caplog.text
    page = admin_client_verified.get(reverse("dashboard:health")).content.decode()
    assert "E-mail copies given up on</dt><dd><strong" in page


def test_an_unreachable_mail_server_delays_copies_without_using_up_their_tries(settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    people = [wanting(f"keen{n}") for n in range(3)]
    notify(people, kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _hour in range(24):
            assert emails.send_due() == 0
            clock.shift(timedelta(hours=1))
        rows = Notification.objects.all()
        assert {(row.email_state, row.email_attempts) for row in rows} == {(EmailState.PENDING, 0)}
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert emails.send_due() == 3
    assert sorted(message.to[0] for message in mail.outbox) == [
        "keen0@example.org",
        "keen1@example.org",
        "keen2@example.org",
    ]


def test_a_refused_address_does_not_hold_up_the_others(settings):
    settings.EMAIL_BACKEND = f"{HERE}.RefusingBackend"
    refused = UserFactory(
        username="refused", email_notifications=True, notification_email="refused@example.org"
    )
    keen = wanting("keen")
    notify([refused, keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001", urgent=True)
    assert emails.send_due() == 1
    assert [message.to for message in mail.outbox] == [["keen@example.org"]]
    row = copy_of(refused)
    assert (row.email_state, row.email_attempts) == (EmailState.PENDING, 1)
    assert row.email_error == "SMTPRecipientsRefused"


def test_a_sender_dying_mid_send_leaves_the_copy_to_be_sent_again(settings):
    settings.EMAIL_BACKEND = f"{HERE}.DyingBackend"
    keen = wanting("keen")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
        with pytest.raises(WorkerLost):
            emails.send_due()
        row = copy_of(keen)
        assert (row.email_state, row.email_attempts) == (EmailState.PENDING, 1)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert emails.send_due() == 0  # the dead sender's claim holds for its back-off
        clock.shift(emails.backoff(1))
        assert emails.send_due() == 1
    assert copy_of(keen).email_state == EmailState.SENT
    assert len(mail.outbox) == 1


def test_a_copy_no_longer_wanted_is_not_sent(memory_mail):
    keen = wanting("keen")
    notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    keen.email_notifications = False
    keen.save()
    assert emails.send_due() == 0
    assert copy_of(keen).email_state == EmailState.NOT_WANTED
    assert not mail.outbox


def test_the_health_page_counts_late_copies(admin_client_verified, settings):
    settings.EMAIL_BACKEND = f"{HERE}.DroppingBackend"
    keen = wanting("keen", role=Role.VOLUNTEER)
    notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    emails.send_due()
    page = admin_client_verified.get(reverse("dashboard:health")).content.decode()
    assert "not sent after 15 minutes</dt><dd>0" in page
    with time_machine.travel(timezone.now() + emails.LATE_AFTER + timedelta(minutes=1)):
        page = admin_client_verified.get(reverse("dashboard:health")).content.decode()
    assert "not sent after 15 minutes</dt><dd><strong" in page


def test_the_log_names_no_address(settings, caplog):
    settings.EMAIL_BACKEND = f"{HERE}.DroppingBackend"
    caplog.set_level(logging.INFO)
    keen = wanting("keen")
    notify([keen], kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    emails.send_due()
    assert "SMTPServerDisconnected" in caplog.text
    assert "keen" not in caplog.text


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_copy_once(settings):
    settings.EMAIL_BACKEND = f"{HERE}.SlowBackend"
    people = [wanting(f"keen{n}") for n in range(5)]
    for number in range(60):
        notify(people, kind=ReminderKind.FOLLOW_UP, subject=f"C-2026-{number:05d}")
    results = run_together(emails.send_due)
    assert sum(results) == 300
    copies = Counter((message.to[0], message.subject) for message in mail.outbox)
    assert len(copies) == 300
    assert max(copies.values()) == 1
    assert not Notification.objects.exclude(email_state=EmailState.SENT).exists()
