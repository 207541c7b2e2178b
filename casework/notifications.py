"""Telling people what others did: one inbox row each, a kind and a reference, nothing
personal. An e-mail copy, for those who asked for copies of that kind, is a state on the
same row, made in the same transaction and sent by casework.emails: never a message in the
broker."""

from collections.abc import Iterable

from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from casework.models import EmailState, Notification, Reminder


def wants_email(user: User, kind: str) -> bool:
    """Whether the user wants e-mail copies of this kind of notification."""
    return user.is_active and user.email_notifications and kind not in user.email_kinds_off


def notification_for(user: User, **fields) -> Notification:
    """An unsaved inbox row for the user, its e-mail copy pending if they want copies of its
    kind (the address is checked when it is sent)."""
    if wants_email(user, fields.get("kind", "")):
        fields["email_state"] = EmailState.PENDING
        fields["email_next_try_at"] = fields.get("created_at") or timezone.now()
    return Notification(user=user, **fields)


def notify(
    users: Iterable[User | None],
    *,
    kind: str,
    subject: str,
    urgent: bool = False,
    reminder: Reminder | None = None,
    by: User | None = None,
) -> list[int]:
    """One notification per active user (each once), in the caller's transaction; returns
    their ids. `by`, who did what the notification tells, is never told of it."""
    unique = {
        user.pk: user
        for user in users
        if user is not None and user.is_active and (by is None or user.pk != by.pk)
    }
    now = timezone.now()
    made = Notification.objects.bulk_create(
        notification_for(
            user, kind=kind, subject=subject, urgent=urgent, reminder=reminder, created_at=now
        )
        for user in unique.values()
    )
    return [notification.pk for notification in made]


def retire(*, kind: str, subject: str) -> int:
    """What asked people to act on `subject` (an approval or a transfer waiting) and no
    longer does, since it was decided, lapsed or withdrawn: every recipient's notification of
    `kind` about it is read and no longer urgent, in the caller's transaction, so no inbox
    nor header count calls for a decision already made. Returns how many changed."""
    return (
        Notification.objects.filter(kind=kind, subject=subject)
        .filter(Q(read_at__isnull=True) | Q(urgent=True))
        .update(urgent=False, read_at=Coalesce("read_at", Value(timezone.now())))
    )
