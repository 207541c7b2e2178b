"""Reads of the audit log: admins see all of it, coordinators their teams' case history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from audit.models import AccessEvent, InsiderAlert

PAGE = 50
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class EventFilters:
    actor: str = ""
    target: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def events(filters: EventFilters) -> QuerySet[AccessEvent]:
    """Newest first; every filter is served by an index on (column, -seq)."""
    rows = AccessEvent.objects.select_related("actor").only(
        "seq",
        "created_at",
        "action",
        "target_type",
        "target_ref",
        "source_address",
        "request_id",
        "actor__username",
    )
    if filters.actor:
        rows = rows.filter(actor__username=filters.actor)
    if filters.target:
        rows = rows.filter(target_ref=filters.target)
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.since:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(created_at__lt=filters.until)
    return rows.order_by("-seq")


def before_from(raw: str) -> int | None:
    """The keyset cursor from a URL: ASCII digits that fit a bigint, else the first page
    ("²" is a digit to isdigit() and a ValueError to int())."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def page_before(rows: QuerySet[AccessEvent], before: int | None) -> list[AccessEvent]:
    """One page by keyset (seq), so page 20,000 costs what page 1 does: no OFFSET, no COUNT."""
    if before:
        rows = rows.filter(seq__lt=before)
    return list(rows[: PAGE + 1])


def case_history(reference: str, team_id: int) -> QuerySet[AccessEvent]:
    return events(EventFilters(target=reference)).filter(team_id=team_id)


def alerts() -> QuerySet[InsiderAlert]:
    return InsiderAlert.objects.select_related("actor").order_by("-created_at")[:200]
