"""The dashboard's reads: what is next for a volunteer, how the teams are doing for a
coordinator, counts for an admin.

Every read is scoped here the way casework.selectors scopes the rest: a volunteer's own
cases (`assignee`), a coordinator's teams (`team_ids`), and for admins counts only. Each
panel costs a fixed number of queries whatever the number of rows; the weekly chart one
grouped query per series.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce, Least, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from casework.models import (
    BreakGlass,
    Case,
    CaseEvent,
    EventKind,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from casework.scheduling import stage_limit
from casework.selectors.cases import cases_assigned_to, oldest_in_stages
from casework.workflow import FORWARD
from intake.selectors import requests_of_teams

WEEKS = 12
# The funnel's bars: the way forward, then the cases parked on hold.
FUNNEL_STAGES = (*FORWARD, Stage.ON_HOLD)
# What a case row on the dashboard reads: nothing encrypted.
ROW_FIELDS = (
    "reference",
    "stage",
    "stage_entered_at",
    "next_action_due",
    "team_id",
    "assignee_id",
    "lost_contact_at",
    "person__codename",
    "assignee__username",
)


# Funnel --------------------------------------------------------------------------------


def _open_counts(cases: QuerySet[Case]) -> list[tuple[Stage, int]]:
    # Count("stage"), not Count("id"): the (team, stage, …) index alone answers it.
    rows = cases.exclude(stage=Stage.CLOSED).values("stage").annotate(n=Count("stage")).order_by()
    counts = {row["stage"]: row["n"] for row in rows}
    return [(stage, counts.get(stage.value, 0)) for stage in FUNNEL_STAGES]


def own_stage_counts(user: User) -> list[tuple[Stage, int]]:
    """The user's own open cases per stage (a volunteer's funnel)."""
    return _open_counts(cases_assigned_to(user))


def team_stage_counts(user: User) -> list[tuple[Stage, int]]:
    """Open cases per stage over every team the user belongs to (a coordinator's funnel);
    kept a minute, like the weekly figures: it counts every open case of the teams."""
    teams = user.team_ids
    return _kept("funnel", teams, lambda: _open_counts(Case.objects.filter(team_id__in=teams)))


def group_stage_counts() -> list[tuple[Stage, int]]:
    """Open cases per stage over the whole group: numbers only, for admins; kept a minute."""
    return _kept("funnel", {"all"}, lambda: _open_counts(Case.objects.all()))


# Weekly activity -----------------------------------------------------------------------


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, this one last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def per_week(rows: QuerySet, field: str, starts: list[date]) -> list[int]:
    """How many rows fall in each week starting on `starts`: one grouped query."""
    since, until = _midnight(starts[0]), _midnight(starts[-1] + timedelta(weeks=1))
    grouped = (
        rows.filter(**{f"{field}__gte": since, f"{field}__lt": until})
        .annotate(week=TruncWeek(field))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()  # a model's default ordering would split the groups
    )
    counts = {timezone.localtime(row["week"]).date(): row["n"] for row in grouped}
    return [counts.get(start, 0) for start in starts]


def crossings(teams: Collection[int]) -> QuerySet[CaseEvent]:
    """Completed crossings: a case moved on from `crossing` to `arrived`.

    Only the forward move counts: the workflow allows no other way into `arrived` from
    the border, while a case coming back from on hold or stepping back from follow-up
    enters `arrived` again without crossing anything. Served by the event_crossed index.
    """
    return CaseEvent.objects.filter(
        kind=EventKind.STAGE,
        from_stage=Stage.CROSSING,
        to_stage=Stage.ARRIVED,
        case__team_id__in=teams,
    )


@dataclass(frozen=True)
class Weekly:
    starts: list[date]
    requests: list[int]
    crossings: list[int]


# Team-wide figures that move slowly are kept for a minute in the cache (Django's default,
# each process's own memory): their queries read thousands of rows at 100,000 cases, and
# they are counts per team and week, nothing about anyone.
FIGURES_SECONDS = 60


def _kept(name: str, teams: Collection[int] | Collection[str], compute):
    teams_key = "-".join(str(team) for team in sorted(teams))
    key = f"dashboard:{name}:{timezone.localdate().isoformat()}:{teams_key}"
    return cache.get_or_set(key, compute, FIGURES_SECONDS)


def weekly_activity(user: User, today: date | None = None) -> Weekly:
    """Requests received and crossings completed per week in the user's teams."""
    starts = week_starts(today or timezone.localdate())
    teams = user.team_ids if user.is_active else frozenset()

    def count() -> Weekly:
        return Weekly(
            starts=starts,
            requests=per_week(requests_of_teams(teams), "received_at", starts),
            crossings=per_week(crossings(teams), "created_at", starts),
        )

    return count() if today else _kept("weekly", teams, count)


# A volunteer's next actions ------------------------------------------------------------

# What each pending reminder is, seen as a thing still to come.
COMING = {
    ReminderKind.FOLLOW_UP: _("Follow-up reminder"),
    ReminderKind.STAGE_OVERDUE: _("Stage time limit"),
    ReminderKind.CROSSING_CHECK_IN: _("Crossing check-in"),
    ReminderKind.TRANSIT_CHECK_IN: _("Transit check-in"),
}
NEXT_ACTION = _("Next action")


@dataclass(frozen=True)
class NextStep:
    case: Case
    what: str
    # A date for the case's own next-action date, a datetime for a reminder; None if
    # nothing is scheduled.
    when: date | datetime | None
    overdue: bool

    @property
    def has_time(self) -> bool:
        return isinstance(self.when, datetime)


def _first_pending(user: User) -> QuerySet[Reminder]:
    # Somebody else's follow-up is their own business; the rest concern whoever works it.
    return (
        Reminder.objects.filter(case=OuterRef("pk"), state=ReminderState.PENDING)
        .filter(kind__in=list(COMING))
        .filter(~Q(kind=ReminderKind.FOLLOW_UP) | Q(recipient=user))
        .order_by("due_at", "pk")
    )


def next_steps(user: User, limit: int = 20) -> list[NextStep]:
    """The user's open cases, soonest next step first: the earlier of the case's
    next-action date and its first pending reminder. Cases with neither come last.

    Two queries: the order is found on the case and reminder tables alone, then only the
    cases shown are read with their person (joining first makes PostgreSQL read every
    person to sort a volunteer's thousand cases).
    """
    if not user.is_active:
        return []
    pending = _first_pending(user)
    action_at = Cast("next_action_due", DateTimeField())
    # Least() of a NULL is NULL on SQLite: each side falls back on the other.
    order = list(
        cases_assigned_to(user)
        .exclude(stage=Stage.CLOSED)
        .annotate(
            reminder_at=Subquery(pending.values("due_at")[:1]),
            reminder_kind=Subquery(pending.values("kind")[:1]),
        )
        .annotate(
            next_at=Least(Coalesce(action_at, "reminder_at"), Coalesce("reminder_at", action_at))
        )
        .order_by(F("next_at").asc(nulls_last=True), "stage_entered_at", "pk")
        .values("pk", "reminder_at", "reminder_kind")[:limit]
    )
    cases = (
        Case.objects.select_related("person", "assignee")
        .only(*ROW_FIELDS)
        .in_bulk([row["pk"] for row in order])
    )
    now, today = timezone.now(), timezone.localdate()
    steps = []
    for row in order:
        case = cases[row["pk"]]
        candidates = []
        if case.next_action_due:
            candidates.append((_midnight(case.next_action_due), NEXT_ACTION, case.next_action_due))
        if row["reminder_at"]:
            candidates.append(
                (row["reminder_at"], COMING[row["reminder_kind"]], row["reminder_at"])
            )
        if not candidates:
            steps.append(NextStep(case, "", None, False))
            continue
        _at, what, when = min(candidates, key=lambda candidate: candidate[0])
        overdue = when < now if isinstance(when, datetime) else when < today
        steps.append(NextStep(case, str(what), when, overdue))
    return steps


# Overdue -------------------------------------------------------------------------------


def over_limit(now: datetime) -> Q:
    """Open cases that have sat in their stage longer than its time limit."""
    late = Q(pk__in=[])
    for stage in FUNNEL_STAGES:
        limit = stage_limit(stage)
        if limit:
            late |= Q(stage=stage, stage_entered_at__lt=now - limit)
    return late


@dataclass(frozen=True)
class Late:
    case: Case
    action_due: date | None  # set when the next-action date has passed
    in_stage: timedelta | None  # set when the stage's time limit has passed
    limit: timedelta | None


def overdue_for(user: User, limit: int = 20) -> list[Late]:
    """The user's own open cases whose next-action date or stage time limit has passed,
    longest in their stage first."""
    if not user.is_active:
        return []
    now, today = timezone.now(), timezone.localdate()
    cases = (
        cases_assigned_to(user)
        .exclude(stage=Stage.CLOSED)
        .filter(Q(next_action_due__lt=today) | over_limit(now))
        .select_related("person", "assignee")
        .only(*ROW_FIELDS)
        .order_by("stage_entered_at", "pk")[:limit]
    )
    found = []
    for case in cases:
        stage_time = stage_limit(case.stage)
        in_stage = now - case.stage_entered_at
        found.append(
            Late(
                case=case,
                action_due=(
                    case.next_action_due
                    if case.next_action_due and case.next_action_due < today
                    else None
                ),
                in_stage=in_stage if stage_time and in_stage > stage_time else None,
                limit=stage_time,
            )
        )
    return found


# A coordinator's view ------------------------------------------------------------------


@dataclass(frozen=True)
class Stuck:
    case: Case
    in_stage: timedelta
    limit: timedelta | None

    @property
    def over_by(self) -> timedelta | None:
        if self.limit is None or self.in_stage <= self.limit:
            return None
        return self.in_stage - self.limit


def stuck_longest(user: User, limit: int = 10) -> list[Stuck]:
    """Open cases of the user's teams furthest past their stage's time limit (then the
    longest in a stage without one), with how long they have sat and the limit.

    Measured against the limit, not the bare time in the stage: follow-up lasts months by
    design (30 days allowed) and would otherwise crowd out a new case left for a week.
    The furthest past are among the longest in each stage, so each stage gives its
    `limit` oldest of each team from the (team, stage, stage_entered_at, id) index
    (oldest_in_stages), instead of sorting every open case of the teams; then only the
    cases shown are read with their person and assignee.
    """
    if not user.is_active:
        return []
    now = timezone.now()
    candidates = oldest_in_stages(user.team_ids, FUNNEL_STAGES, limit)

    def furthest_past(row: tuple) -> tuple:
        pk, stage, entered_at = row
        in_stage, stage_time = now - entered_at, stage_limit(stage)
        if stage_time is None:
            return (1, -in_stage.total_seconds(), pk)
        return (0, -(in_stage - stage_time).total_seconds(), pk)

    shown = sorted(candidates, key=furthest_past)[:limit]
    cases = (
        Case.objects.select_related("person", "assignee")
        .only(*ROW_FIELDS)
        .in_bulk([pk for pk, _stage, _entered_at in shown])
    )
    return [
        Stuck(cases[pk], now - entered_at, stage_limit(stage))
        for pk, stage, entered_at in shown
        if pk in cases
    ]


def action_overdue_count(user: User) -> int:
    """Open cases of the user's teams whose next-action date has passed."""
    teams = user.team_ids
    return _kept(
        "action-overdue",
        teams,
        lambda: (
            Case.objects.filter(team_id__in=teams, next_action_due__lt=timezone.localdate())
            .exclude(stage=Stage.CLOSED)
            .count()
        ),
    )


def reassessments_for(user: User, limit: int = 20) -> QuerySet[Reminder]:
    """Open re-assessment tasks of the user's teams (a compromised account touched these):
    references only, oldest first."""
    return (
        Reminder.objects.filter(
            team_id__in=user.team_ids,
            # The reminder_reassess_open index's condition, word for word.
            kind=ReminderKind.REASSESS,
            state__in=[ReminderState.PENDING, ReminderState.SENT],
            urgent=True,
        )
        .only("subject", "case_id", "due_at", "team_id")
        .order_by("due_at", "pk")[:limit]
    )


# An admin's view -----------------------------------------------------------------------


def unreviewed_break_glass_count() -> int:
    return BreakGlass.objects.filter(reviewed_at__isnull=True).count()
