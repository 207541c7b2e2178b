"""E-mail copies of notifications: a state on each row, sent by a periodic task.

A copy is marked pending in the transaction that makes its notification (notifications.
notification_for) and sent by `send_due`, which beat runs every EMAIL_SEND_SECONDS. The
broker carries neither ids nor copies: while it is down, copies wait in their rows and go
when the sender runs again.

Each copy is claimed just before it is sent, by a conditional UPDATE that counts the try and
moves its next try on by the back-off: two senders at once never both take it, and one that
dies mid-send leaves it to be sent again when that time comes. At least once, then: the
side we prefer to err on for an alarm.
"""

import contextlib
import logging
import smtplib
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casework.models import EmailState, Notification, NotificationKind
from casework.notifications import wants_email

log = logging.getLogger(__name__)

# A copy refused this many times is given up on and counted on the health page.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
BATCH = 200
# A run stops taking new copies after this long, so it never holds a worker for minutes;
# the next run goes on where it stopped.
RUN_SECONDS = 20
# Copies still pending this long after their notification show as late on the health page.
LATE_AFTER = timedelta(minutes=15)


def backoff(attempts: int) -> timedelta:
    """How long after its n-th try a copy is tried again: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 10), LONGEST_RETRY)


def send_due() -> int:
    """Sends the copies that are due, urgent ones first; returns how many went.

    A mail server that cannot be reached delays the copies without using up their tries; a
    failure while sending counts one try for that copy and, unless the server refused only
    its address, ends the run.
    """
    started = time.monotonic()
    connection = get_connection()
    try:
        connection.open()
    except OSError as error:
        log.warning("e-mail copies wait: the mail server is unreachable (%s)", type(error).__name__)
        return 0
    sent = 0
    try:
        while time.monotonic() - started < RUN_SECONDS:
            batch = _due(timezone.now())
            if not batch:
                break
            for notification in batch:
                if time.monotonic() - started >= RUN_SECONDS:
                    return sent
                outcome = _send_one(notification, connection)
                if outcome is None:
                    return sent
                sent += outcome
    finally:
        with contextlib.suppress(OSError):
            connection.close()
    return sent


def _due(now) -> list[Notification]:
    return list(
        Notification.objects.filter(email_state=EmailState.PENDING, email_next_try_at__lte=now)
        .select_related("user")
        .only(
            "kind",
            "subject",
            "urgent",
            "email_attempts",
            "user",
            "user__seal",  # what the encrypted address is checked against (privacy.seal)
            "user__is_active",
            "user__email_notifications",
            "user__email_kinds_off",
            "user__notification_email",
            "user__language",
        )
        .order_by("-urgent", "email_next_try_at", "pk")[:BATCH]
    )


def _send_one(notification: Notification, connection: BaseEmailBackend) -> int | None:
    """1 if this copy went, 0 if not (taken by another sender, not wanted, or refused for its
    address), None if the run should stop (the server failed)."""
    mine = Notification.objects.filter(pk=notification.pk, email_state=EmailState.PENDING)
    tried = notification.email_attempts + 1
    # The try is counted, and the next one scheduled, before the copy goes: a sender that
    # dies mid-send leaves it due again then, not lost. The count doubles as a version,
    # so of two senders holding the same row only one updates it.
    claimed = mine.filter(email_attempts=notification.email_attempts).update(
        email_attempts=tried, email_next_try_at=timezone.now() + backoff(tried)
    )
    if not claimed:
        return 0
    user = notification.user
    # Asked again as it goes: the user may have turned copies of this kind off since.
    if not (wants_email(user, notification.kind) and user.notification_email):
        mine.update(email_state=EmailState.NOT_WANTED)
        return 0
    try:
        _message(notification, connection).send()
    except smtplib.SMTPRecipientsRefused as error:
        _failed(notification.pk, tried, error)
        return 0
    except OSError as error:  # smtplib's errors are OSErrors too
        _failed(notification.pk, tried, error)
        return None
    mine.update(email_state=EmailState.SENT, emailed_at=timezone.now(), email_error="")
    return 1


def _message(notification: Notification, connection: BaseEmailBackend) -> EmailMessage:
    """A reference and a link, nothing about the person, in the recipient's language."""
    user = notification.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if notification.urgent:
            subject = _("[SP] URGENT: %(reference)s") % {"reference": notification.subject}
        elif notification.kind in NotificationKind.values:
            # What others did: the kind's name and the reference, still nothing personal.
            subject = _("[SP] %(kind)s: %(reference)s") % {
                "kind": notification.get_kind_display(),
                "reference": notification.subject,
            }
        else:
            subject = _("[SP] Reminder: %(reference)s") % {"reference": notification.subject}
        body = _("Open the inbox to see what is due: %(link)s") % {
            "link": settings.SITE_URL.rstrip("/") + reverse("casework:inbox")
        }
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.notification_email],
        connection=connection,
    )


def _failed(pk: int, tried: int, error: Exception) -> None:
    """Records the failure by the exception's class only: its message can quote the address."""
    name = type(error).__name__[:64]
    state = EmailState.FAILED if tried >= MAX_ATTEMPTS else EmailState.PENDING
    Notification.objects.filter(pk=pk, email_state=EmailState.PENDING).update(
        email_state=state, email_error=name
    )
    log.warning("e-mail copy of notification %s not sent, try %s (%s)", pk, tried, name)
