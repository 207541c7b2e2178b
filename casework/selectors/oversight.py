"""Reads for oversight: the admins' break-glass review queue and the containments of
compromised accounts with what each account touched. For admins only; everyone else gets
a 403 or an empty list.

No list loads a break-glass reason: it is read one at a time, audited
(services.oversight.break_glass_reason_reveal).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts import permissions as account_permissions
from accounts.models import Containment, User
from audit import selectors as audit_selectors
from casework import permissions
from casework.models import BreakGlass, Reminder, ReminderKind

QUEUE_LIMIT = 100
REVIEWED_LIMIT = 50
# Loaded for the lists: the grant, who opened it, the reference; nothing of the case else,
# and not the reason (break_glass_reason_reveal).
FIELDS = (
    "seal",
    "case__reference",
    "case__team",
    "user__username",
    "reviewed_by__username",
    "created_at",
    "expires_at",
    "reviewed_at",
    "review_comment",
)


def _grants(user: User) -> QuerySet[BreakGlass]:
    if not permissions.can_review_break_glass(user):
        raise PermissionDenied
    return BreakGlass.objects.select_related("case", "user", "reviewed_by").only(*FIELDS)


def break_glass_queue(user: User) -> QuerySet[BreakGlass]:
    """Grants nobody has reviewed yet, newest first."""
    return _grants(user).filter(reviewed_at__isnull=True).order_by("-created_at", "-pk")


def break_glass_reviewed(user: User) -> QuerySet[BreakGlass]:
    """Grants already reviewed, the latest review first."""
    return _grants(user).filter(reviewed_at__isnull=False).order_by("-reviewed_at", "-pk")


def break_glass_for_review(user: User, pk: int) -> BreakGlass:
    return get_object_or_404(_grants(user), pk=pk)


@dataclass
class Affected:
    """A line of the containment's list: the reference, what was done, and its task."""

    touched: audit_selectors.Touched
    task: Reminder | None


def containments_for(user: User) -> QuerySet[Containment]:
    """Every containment, newest first, for those who may contain accounts; none otherwise."""
    rows = (
        Containment.objects.select_related("user", "by")
        .defer("reason")
        .order_by("-created_at", "-pk")
    )
    return rows if account_permissions.can_manage_accounts(user) else rows.none()


def affected(containment: Containment) -> list[Affected]:
    """What the account touched between `since` and its containment, as the log says, with
    the task each got (none when its team was unknown, or after the case was purged)."""
    touched = audit_selectors.touched_by(
        containment.user_id, since=containment.since, before_seq=containment.audit_seq
    )
    # The tasks were written in the same transaction, with the containment's own time.
    tasks = {
        task.subject: task
        for task in Reminder.objects.filter(
            kind=ReminderKind.REASSESS,
            created_at=containment.created_at,
            created_by_id=containment.by_id,
            subject__in=[t.reference for t in touched],
        ).only("subject", "state", "closed_at")
    }
    return [Affected(item, tasks.get(item.reference)) for item in touched]
