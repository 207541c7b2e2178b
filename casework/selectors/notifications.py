"""The inbox: a user's notifications grouped by the case (or request) they are about.

Three queries for any number of rows: the groups are counted, one page of them read with
their counts, and the newest rows of those groups read with a window function.
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case as Choose
from django.db.models import Count, F, Max, Q, QuerySet, Value, When, Window
from django.db.models.expressions import OrderBy
from django.db.models.functions import RowNumber

from accounts.models import User
from casework.models import Notification, NotificationKind
from casework.references import CASE_PREFIX, REQUEST_PREFIX

GROUPS_PER_PAGE = 20
# A group shows its newest rows; the rest are counted ("and 12 more").
ROWS_PER_GROUP = 10
# The group of what is about no case or request: security alerts, role and team changes.
OTHER = ""

# A case's or a request's reference is its own group; anything else goes with OTHER.
REFERENCED = Q(subject__startswith=f"{CASE_PREFIX}-") | Q(subject__startswith=f"{REQUEST_PREFIX}-")
GROUP_KEY = Choose(When(REFERENCED, then=F("subject")), default=Value(OTHER))
UNREAD = Q(read_at__isnull=True)
TRANSFER_KINDS = (NotificationKind.TRANSFER_ASKED, NotificationKind.TRANSFER_DECIDED)


@dataclass
class InboxGroup:
    key: str
    unread: int
    urgent: int  # urgent and unread
    total: int
    notifications: list[Notification] = field(default_factory=list)

    @property
    def is_case(self) -> bool:
        return self.key.startswith(f"{CASE_PREFIX}-")

    @property
    def is_request(self) -> bool:
        return self.key.startswith(f"{REQUEST_PREFIX}-")

    @property
    def is_transfer(self) -> bool:
        """Only news of a transfer: a case the reader's team is offered, or one it gave
        away. Its page may not open for them; the transfers page does."""
        return bool(self.notifications) and all(
            note.kind in TRANSFER_KINDS for note in self.notifications
        )

    @property
    def more(self) -> int:
        return self.total - len(self.notifications)


def inbox_groups(user: User, page_number) -> tuple[Page, list[InboxGroup]]:
    """One page of the user's inbox groups: those with urgent unread rows first, then those
    with unread rows, then the most recent; in each, unread first, urgent first among them,
    newest first."""
    counted = (
        Notification.objects.filter(user=user)
        .annotate(group=GROUP_KEY)
        .values("group")
        .annotate(
            unread_count=Count("pk", filter=UNREAD),
            urgent_count=Count("pk", filter=UNREAD & Q(urgent=True)),
            total=Count("pk"),
            latest=Max("created_at"),
            has_urgent=Max(Choose(When(UNREAD & Q(urgent=True), then=1), default=0)),
            has_unread=Max(Choose(When(UNREAD, then=1), default=0)),
        )
        .order_by("-has_urgent", "-has_unread", "-latest", "group")
    )
    page = Paginator(counted, GROUPS_PER_PAGE).get_page(page_number)
    groups = {
        row["group"]: InboxGroup(
            key=row["group"],
            unread=row["unread_count"],
            urgent=row["urgent_count"],
            total=row["total"],
        )
        for row in page.object_list
    }
    if not groups:
        return page, []
    order: list[OrderBy | str] = [
        F("read_at").desc(nulls_first=True),
        F("urgent").desc(),
        "-created_at",
        "-id",
    ]
    rows = (
        Notification.objects.filter(user=user)
        .annotate(group=GROUP_KEY)
        .filter(group__in=list(groups))
        .annotate(rank=Window(RowNumber(), partition_by=[GROUP_KEY], order_by=order))
        .filter(rank__lte=ROWS_PER_GROUP)
        .only("kind", "subject", "urgent", "created_at", "read_at")
        .order_by(*order)
    )
    for notification in rows:
        groups[notification.group].notifications.append(notification)
    return page, list(groups.values())


def inbox_group_rows(user: User, key: str) -> QuerySet[Notification]:
    """The user's notifications of one inbox group (OTHER: those about no case or request)."""
    mine = Notification.objects.filter(user=user)
    return mine.exclude(REFERENCED) if key == OTHER else mine.filter(REFERENCED, subject=key)
