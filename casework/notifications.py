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


def queue_emails(notification_ids: list[int]) -> None:
    """E-mail copies for those who asked for them, one task per notification, by id."""
    from casework.tasks import notification_email

    wanted = Notification.objects.filter(
        pk__in=notification_ids, user__email_notifications=True
    ).values_list("pk", flat=True)
    for pk in wanted:
        notification_email.delay(pk)
