"""Telling people what others did: one inbox row each, a kind and a reference, nothing
personal; e-mail copies are queued by id once the transaction commits."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from casework.models import Notification, Reminder


def notify(
    users: Iterable[User | None],
    *,
    kind: str,
    subject: str,
    urgent: bool = False,
    reminder: Reminder | None = None,
) -> list[int]:
    """One notification per active user (each once), in the caller's transaction; returns
    their ids."""
    from casework.reminders import queue_emails

    unique = {user.pk: user for user in users if user is not None and user.is_active}
    now = timezone.now()
    made = Notification.objects.bulk_create(
        Notification(
            user=user,
            kind=kind,
            subject=subject,
            urgent=urgent,
            reminder=reminder,
            created_at=now,
        )
        for user in unique.values()
    )
    ids = [notification.pk for notification in made]
    if ids:
        transaction.on_commit(lambda: queue_emails(ids))
    return ids
