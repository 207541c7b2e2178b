"""Reads of the audit log: admins see all of it, coordinators their teams' case history."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, QuerySet, Subquery

from audit.models import AccessEvent, Action, ChainHead, InsiderAlert

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
        "source_network",
        "request_id",
        "actor__username",
    )
    if filters.actor:
        # The actor's id as a scalar subquery: PostgreSQL then reads the (actor, action, -seq)
        # index for that id. Joined by username, it walked the whole log backwards looking
        # for them: 0.8 s at 130,000 events for someone who never did what was asked.
        actor_id = get_user_model().objects.filter(username=filters.actor).values("pk")[:1]
        rows = rows.filter(actor_id=Subquery(actor_id))
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


# Views of one case by one person closer together than this show as one row.
FOLD_WITHIN = timedelta(minutes=1)
FOLDED_ACTIONS = (Action.CASE_VIEWED,)


@dataclass
class EventRow:
    """A line of the log as shown: one event, or a run of views of one case by one person
    within a minute (shown as "Case viewed" times 5); the stored events are untouched. A
    target account is named by its username, as its actor is."""

    event: AccessEvent  # the newest of the run
    target_label: str
    oldest: AccessEvent | None = None  # the oldest, when more than one
    count: int = 1

    def takes(self, event: AccessEvent) -> bool:
        newest = self.event
        return (
            event.action in FOLDED_ACTIONS
            and event.action == newest.action
            and event.actor_id == newest.actor_id
            and event.target_ref == newest.target_ref
            and newest.created_at - event.created_at <= FOLD_WITHIN
        )


def usernames_of(events: list[AccessEvent]) -> dict[str, str]:
    """The usernames of the accounts these events are about, by id: one query."""
    ids = {e.target_ref for e in events if e.target_type == "user" and e.target_ref.isdigit()}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=sorted(int(pk) for pk in ids))
    return {str(pk): name for pk, name in users.values_list("pk", "username")}


def all_usernames() -> dict[str, str]:
    """Every account's username by its id as the log writes it (a string): one query."""
    users = get_user_model().objects.values_list("pk", "username")
    return {str(pk): name for pk, name in users}


def event_rows(events: list[AccessEvent]) -> list[EventRow]:
    """The rows of a page of events, newest first, runs of the same view folded."""
    names = usernames_of(events)
    rows: list[EventRow] = []
    for event in events:
        # Only the next row of the page joins a run: anything between breaks it.
        if rows and rows[-1].takes(event):
            rows[-1].oldest = event
            rows[-1].count += 1
            continue
        label = event.target_ref
        if event.target_type == "user":
            label = names.get(event.target_ref, event.target_ref)
        rows.append(EventRow(event=event, target_label=label))
    return rows


def case_history(reference: str, team_id: int) -> QuerySet[AccessEvent]:
    return events(EventFilters(target=reference)).filter(team_id=team_id)


def alerts() -> QuerySet[InsiderAlert]:
    return InsiderAlert.objects.select_related("actor").order_by("-created_at")[:200]


# What a compromised account may have read or changed: people's cases and requests.
TOUCHABLE_TYPES = ("case", "request")


@dataclass
class Touched:
    """One case or request an account read or changed, by reference only."""

    target_type: str
    reference: str
    team_id: int | None
    first_at: datetime
    last_at: datetime
    events: int = 0
    actions: list[str] = field(default_factory=list)

    @property
    def action_labels(self) -> list[str]:
        return [str(Action(action).label) for action in self.actions if action in Action]


def touched_by(actor_id: int, *, since: datetime, before_seq: int | None = None) -> list[Touched]:
    """Every case and request the actor read or changed since then, oldest touch first.

    One grouped query (served by the (actor, action, created_at) index), however many
    events; `before_seq` bounds it at a moment of the log, so the answer never changes.
    """
    rows = AccessEvent.objects.filter(
        actor_id=actor_id, created_at__gte=since, target_type__in=TOUCHABLE_TYPES
    ).exclude(target_ref="")
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    grouped = (
        rows.values("target_type", "target_ref", "action")
        .annotate(
            first=Min("created_at"), last=Max("created_at"), team=Max("team_id"), n=Count("pk")
        )
        .order_by()
    )
    found: dict[tuple[str, str], Touched] = {}
    for row in grouped:
        key = (row["target_type"], row["target_ref"])
        touched = found.get(key)
        if touched is None:
            touched = found[key] = Touched(
                row["target_type"], row["target_ref"], row["team"], row["first"], row["last"]
            )
        touched.first_at = min(touched.first_at, row["first"])
        touched.last_at = max(touched.last_at, row["last"])
        touched.team_id = touched.team_id if touched.team_id is not None else row["team"]
        touched.events += row["n"]
        touched.actions.append(row["action"])
    order = {value: position for position, value in enumerate(Action.values)}
    for touched in found.values():
        touched.actions.sort(key=lambda action: order.get(action, len(order)))
    return sorted(found.values(), key=lambda t: (t.first_at, t.target_type, t.reference))


# What the admins' dashboard lists as security events: sign-in trouble, opening cases
# beyond one's teams, and what admins did to accounts and keys.
SECURITY_ACTIONS = (
    Action.LOGIN_FAILED,
    Action.SECOND_FACTOR_FAILED,
    Action.LOCKED_OUT,
    Action.BREAK_GLASS,
    Action.DEVICE_RESET,
    Action.SESSIONS_ENDED,
    Action.ACCOUNT_CONTAINED,
    Action.KEYS_ROTATED,
)


@dataclass(frozen=True)
class SecurityEvent:
    event: AccessEvent
    target_label: str  # an account by its username, anything else by its reference


def security_events(limit: int = 20) -> list[SecurityEvent]:
    """The latest security events, newest first: action, actor, time and target reference
    only (the reason, which may say more, is not even read). An account that is the
    target is named by its username, as its actor would be, instead of a bare number."""
    rows = list(
        AccessEvent.objects.filter(action__in=SECURITY_ACTIONS)
        .select_related("actor")
        .only("seq", "created_at", "action", "target_type", "target_ref", "actor__username")
        .order_by("-seq")[:limit]
    )
    user_ids = {row.target_ref for row in rows if row.target_type == "user"}
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[ref for ref in user_ids if ref.isdigit()])
        .values_list("pk", "username")
    )
    return [
        SecurityEvent(
            event=row,
            target_label=names.get(int(row.target_ref), row.target_ref)
            if row.target_type == "user" and row.target_ref.isdigit()
            else row.target_ref,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class AuditHealth:
    events: int
    # The last verification written to the log, and the last broken chain alerted.
    last_verified: AccessEvent | None
    last_broken: InsiderAlert | None

    @property
    def broken(self) -> bool:
        """The latest word on the chain is that it is broken."""
        if self.last_broken is None:
            return False
        return self.last_verified is None or self.last_broken.created_at > (
            self.last_verified.created_at
        )


def audit_health() -> AuditHealth:
    """Four small reads: the sealed head's count and the few events not sealed yet, and
    the latest verdict either way."""
    head = ChainHead.objects.filter(id=1).first()
    return AuditHealth(
        events=(head.seq if head else 0) + AccessEvent.objects.filter(position=None).count(),
        last_verified=AccessEvent.objects.filter(action=Action.AUDIT_VERIFIED)
        .only("seq", "created_at")
        .order_by("-seq")
        .first(),
        last_broken=InsiderAlert.objects.filter(
            kind__in=[InsiderAlert.Kind.CHAIN_BROKEN, InsiderAlert.Kind.CHECK_FAILED]
        )
        .only("created_at", "event_seq")
        .order_by("-created_at", "-pk")
        .first(),
    )
