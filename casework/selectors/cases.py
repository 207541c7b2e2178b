"""Every read of cases, already scoped to what the asking user may see.

Volunteers see the cases assigned to them; coordinators every case of their teams;
coordinators with a live break-glass grant that one case too; admins nothing.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework import permissions
from casework.models import RISK_FLAGS, BreakGlass, Case, CaseEvent, EventKind, Person, Stage
from privacy.fields import secret_fields

LIST_FIELDS = (
    "reference",
    "stage",
    "stage_entered_at",
    "next_action_due",
    "updated_at",
    "team_id",
    "assignee_id",
    "flag_wanted",
    "flag_criminal_case",
    "flag_internal_passport_only",
    "flag_dependants",
    "flag_health",
    "lost_contact_at",
    "merged_into",
    "person__codename",
    "person__category",
    "team__name",
    "assignee__username",
)


# A case merged into another is open to no action: its reference leads to the case it was
# merged into (casework.selectors.merge). Lists still show it, closed and marked merged:
# filtering it out of every list kept the team indexes from answering alone (a count of
# one team's flagged cases read 3,000 rows instead of an index-only scan).
UNMERGED = Q(merged_into__isnull=True)


def break_glass_case_ids(user: User) -> list[int]:
    """The cases a live break-glass grant opens to the user; read once per request."""
    return permissions.granted_case_ids(user)


def _own(user: User) -> Q:
    """The cases assigned to the user in teams they are still a member of."""
    return Q(assignee=user, team_id__in=sorted(user.team_ids))


def _scope(user: User, granted) -> Q:
    """What the user may see: their teams' cases for a coordinator, their own for a
    volunteer, and the cases `granted` names (ids, or a subquery of them) by break-glass."""
    scope = Q()
    if user.has_role(Role.COORDINATOR):
        scope |= Q(team_id__in=user.team_ids)
    if user.has_role(Role.VOLUNTEER):
        scope |= _own(user)
    if granted is not None and user.has_perm("accounts.break_glass"):
        scope |= Q(pk__in=granted)
    return scope


def _scope_parts(user: User) -> list[Q]:
    """The cases the user may see (as cases_visible_to) in parts that share no case, each
    one a single index range: one per team, then the user's own, then the granted.

    A list read part by part walks each part's index in order; read as one `team IN (1,
    2)` or as an OR, PostgreSQL reads and sorts every matching row to find one page.
    """
    if not user.is_active:
        return []
    parts, covered = [], None
    if user.has_role(Role.COORDINATOR):
        teams = sorted(user.team_ids)
        parts += [Q(team_id=team) for team in teams]
        covered = Q(team_id__in=teams) if teams else None
    if user.has_role(Role.VOLUNTEER):
        own = _own(user)
        parts.append(own & ~covered if covered else own)
        covered = covered | own if covered else own
    granted = break_glass_case_ids(user) if user.has_perm("accounts.break_glass") else []
    if granted:
        parts.append(Q(pk__in=granted) & ~covered if covered else Q(pk__in=granted))
    return parts


def cases_assigned_to(user: User) -> QuerySet[Case]:
    """The user's own cases: assigned to them, in a team they are still a member of."""
    if not user.is_active:
        return Case.objects.none()
    return Case.objects.filter(_own(user))


def cases_visible_to(user: User) -> QuerySet[Case]:
    if not user.is_active:
        return Case.objects.none()
    # Read first, and left out when there is none: "team IN (…) OR pk IN (subquery)"
    # makes PostgreSQL scan every case instead of using the team indexes.
    granted = None
    if user.has_perm("accounts.break_glass"):
        granted = break_glass_case_ids(user) or None
    scope = _scope(user, granted)
    if not scope.children:
        return Case.objects.none()
    return Case.objects.filter(scope)


def one_visible_with_merged(user: User) -> QuerySet[Case]:
    """The cases the user may see, merged ones included (casework.selectors.merge), to
    find one of them by its unique reference: the break-glass grants are asked inside the
    same query (on one row, the scan cases_visible_to avoids cannot happen)."""
    scope = Q(pk__in=[])
    if user.is_active:
        granted = BreakGlass.objects.filter(user=user, expires_at__gt=timezone.now())
        scope = _scope(user, granted.values("case_id")) or scope
    return Case.objects.filter(scope)


def _one_visible(user: User) -> QuerySet[Case]:
    """As one_visible_with_merged, without the merged cases: nothing is done on one."""
    return one_visible_with_merged(user).filter(UNMERGED)


def case_for(user: User, reference: str) -> Case:
    """One case with its person; the same 404 for missing and for not yours."""
    return get_object_or_404(
        _one_visible(user).select_related("person", "team", "assignee", "coordinator"),
        reference=reference,
    )


# What no action on a case reads: the person's encrypted details.
PERSON_SECRETS = secret_fields(Person, "person__")


def case_for_action(user: User, reference: str) -> Case:
    """One case to act on, as case_for finds it, without decrypting its person's details
    (no action reads them). To show the case page, read the case again with case_for."""
    return get_object_or_404(
        _one_visible(user).select_related("person", "team").defer(*PERSON_SECRETS),
        reference=reference,
    )


def unassigned_case_for(user: User, reference: str) -> Case:
    """An open, unassigned case of the user's teams that they could take; else 404."""
    return get_object_or_404(
        Case.objects.filter(team_id__in=user.team_ids, assignee__isnull=True).exclude(
            stage=Stage.CLOSED
        ),
        reference=reference,
    )


@dataclass(frozen=True)
class CaseFilters:
    stage: str = ""
    assignee: str = ""  # "me", "none" or the id of a member of the user's teams
    risk: str = ""  # a flag field name
    overdue: bool = False
    lost_contact: bool = False


# The case list's order; each team's (team, stage_entered_at, id) index gives it.
LIST_ORDER = ("stage_entered_at", "id")
# A stage's cases in the order they entered it: the (team, stage, stage_entered_at, id) index.
STAGE_ORDER = ("stage_entered_at", "id")


def _filtered(cases: QuerySet[Case], user: User, filters: CaseFilters) -> QuerySet[Case]:
    if filters.stage in Stage.values:
        cases = cases.filter(stage=filters.stage)
    if filters.assignee == "me":
        cases = cases.filter(assignee=user)
    elif filters.assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        # By id: the (assignee, team, stage_entered_at, id) index gives one member's
        # cases of a team in the list's order. Scoped anyway: the cases are the user's.
        cases = cases.filter(assignee_id=int(filters.assignee))
    if filters.risk in RISK_FLAGS:
        cases = cases.filter(**{filters.risk: True})
    if filters.overdue:
        cases = cases.filter(next_action_due__lt=timezone.localdate()).exclude(stage=Stage.CLOSED)
    if filters.lost_contact:
        cases = cases.filter(lost_contact_at__isnull=False).exclude(stage=Stage.CLOSED)
    return cases


def case_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The rows of the case list: no encrypted column is read for a list."""
    cases = cases_visible_to(user).select_related("person", "team", "assignee").only(*LIST_FIELDS)
    return _filtered(cases, user, filters).order_by(*LIST_ORDER)


def in_order(
    parts: list[QuerySet],
    order: tuple[str, ...],
    start: int,
    stop: int,
    *,
    descending: bool = False,
) -> list:
    """Rows start:stop of querysets that share no row, taken together in `order` (or its
    reverse): fields that are never NULL, and for values_list() parts every field read,
    in that order.

    Each part is read up to `stop` in its own index order. PostgreSQL merges them in one
    query (a UNION ALL of the parts, merged without sorting); SQLite, which cannot limit
    the parts of a union, is asked once per part.
    """
    if descending:
        order = tuple(f"-{field}" for field in order)
    heads = [part.order_by(*order)[:stop] for part in parts]
    if len(heads) < 2:
        return [row for head in heads for row in head[start:stop]]
    if connection.features.supports_slicing_ordering_in_compound:
        return list(heads[0].union(*heads[1:], all=True).order_by(*order)[start:stop])
    fields = attrgetter(*(field.lstrip("-") for field in order))
    rows = [row for head in heads for row in head]
    rows.sort(key=lambda row: row if isinstance(row, tuple) else fields(row), reverse=descending)
    return rows[start:stop]


def by_team(rows: QuerySet, teams: Collection[int]) -> list[QuerySet]:
    """`rows` as one part per team, for in_order: the (team, …) indexes give one team's
    rows in order, while `team IN (1, 2)` makes PostgreSQL read and sort all of them."""
    return [rows.filter(team_id=team) for team in sorted(teams)]


class _ListIds:
    """A case list's ids in order, as Paginator asks for them: counted on the whole list,
    a page cut from the parts of the user's scope (see _scope_parts).

    A page in the second half is read from the end, backwards: the last page of 10,000
    cases costs what the first does, instead of walking 10,000 index entries to it.
    """

    def __init__(self, cases: QuerySet[Case], parts: list[QuerySet[Case]]):
        self.cases, self.parts = cases, parts
        self.total: int | None = None

    def count(self) -> int:
        if self.total is None:
            self.total = self.cases.count()
        return self.total

    def __getitem__(self, cut: slice) -> list[int]:
        total = self.count()
        if cut.start > total - cut.stop:
            rows = in_order(
                self.parts, LIST_ORDER, total - cut.stop, total - cut.start, descending=True
            )
            rows.reverse()
        else:
            rows = in_order(self.parts, LIST_ORDER, cut.start, cut.stop)
        return [pk for _entered, pk in rows]


def case_list_page(user: User, filters: CaseFilters, number, per_page: int) -> Page[Case]:
    """One page of the case list, found on the case table alone and joined afterwards.

    The page's ids come from each team's (team, stage_entered_at, id) index without a
    join, then only those rows are read with their person, team and assignee: page 400
    costs an index walk, not 10,000 joined rows thrown away by OFFSET.
    """
    cases = case_list(user, filters)
    parts = [
        _filtered(Case.objects.filter(part), user, filters).values_list(*LIST_ORDER)
        for part in _scope_parts(user)
    ]
    # Paginator only counts and slices _ListIds; the stubs' protocol also asks for len()
    # and iteration, which a case list must not offer (it would read every row).
    page: Page[Any] = Paginator(_ListIds(cases, parts), per_page).get_page(number)  # type: ignore[arg-type]
    ids = list(page.object_list)
    rows = {case.id: case for case in cases.filter(id__in=ids)}
    page.object_list = [rows[case_id] for case_id in ids if case_id in rows]
    return page


def stage_counts(user: User, filters: CaseFilters | None = None) -> dict[str, int]:
    # Count("stage"), not Count("id"): the (team, stage, …) index alone answers it.
    cases = _filtered(cases_visible_to(user), user, filters or CaseFilters())
    rows = cases.values("stage").annotate(count=Count("stage")).order_by()
    return {row["stage"]: row["count"] for row in rows}


def my_cases(user: User, limit: int = 20) -> QuerySet[Case]:
    return (
        case_list(user, CaseFilters(assignee="me"))
        .exclude(stage=Stage.CLOSED)
        .order_by("next_action_due", "stage_entered_at")[:limit]
    )


def overdue_cases(user: User, limit: int = 20) -> QuerySet[Case]:
    return case_list(user, CaseFilters(overdue=True)).order_by("next_action_due")[:limit]


def lost_contact_cases(user: User, limit: int = 20) -> QuerySet[Case]:
    """Open cases the user may see that lost contact, longest silent first: a coordinator's
    whole team, a volunteer's own."""
    return case_list(user, CaseFilters(lost_contact=True)).order_by("lost_contact_at", "id")[:limit]


def unassigned_cases_for(user: User, limit: int = 20) -> list[Case]:
    """Open, unassigned cases of the user's teams, longest waiting first: reference,
    codename and stage only, so a volunteer can take one without seeing anyone's details."""
    teams = user.team_ids
    waiting = (
        Case.objects.filter(team_id__in=teams, assignee__isnull=True)
        .exclude(stage=Stage.CLOSED)
        .select_related("person", "team")
        # With what the dashboard's rows ask of a case (lost contact, its next action).
        .only(
            "reference",
            "stage",
            "stage_entered_at",
            "next_action_due",
            "assignee_id",
            "lost_contact_at",
            "person__codename",
            "team__name",
        )
    )
    return in_order(by_team(waiting, teams), LIST_ORDER, 0, limit)


def each_row(heads: list[QuerySet]) -> list[tuple]:
    """The rows of several sliced querysets (of values_list, with the same columns): one
    UNION ALL where the database can limit the parts of a union (PostgreSQL), else one
    query each (SQLite)."""
    if len(heads) > 1 and connection.features.supports_slicing_ordering_in_compound:
        return list(heads[0].union(*heads[1:], all=True))
    return [row for head in heads for row in head]


def oldest_in_stages(
    team_ids: Collection[int], stages: Collection[str], limit: int
) -> list[tuple[int, str, datetime]]:
    """(id, stage, stage_entered_at) of the `limit` cases of each team and stage that
    entered it first, in no particular order.

    PostgreSQL walks the (team, stage, stage_entered_at, id) index once per pair, in one
    statement: a LATERAL join over the pairs, the "first ten of each group" the ORM cannot
    say. As a UNION of one ORM query per pair, building and compiling the 18 queries of a
    two-team coordinator cost more than the rest of the dashboard. SQLite, which has no
    LATERAL, asks each pair (each_row).
    """
    pairs = [(team, stage) for team in sorted(team_ids) for stage in stages]
    if not pairs:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, c.stage, c.stage_entered_at"
                " FROM unnest(%s::bigint[], %s::varchar[]) AS pair (team_id, stage)"
                " CROSS JOIN LATERAL ("
                "  SELECT id, stage, stage_entered_at FROM casework_case"
                "   WHERE team_id = pair.team_id AND stage = pair.stage"
                "   ORDER BY stage_entered_at, id LIMIT %s"
                " ) AS c",
                [[team for team, _ in pairs], [stage for _, stage in pairs], limit],
            )
            return cursor.fetchall()
    return each_row(
        [
            Case.objects.filter(team_id=team, stage=stage)
            .order_by(*STAGE_ORDER)
            .values_list("pk", "stage", "stage_entered_at")[:limit]
            for team, stage in pairs
        ]
    )


def filter_members(user: User) -> QuerySet[User]:
    """Whom a user may filter the case list and the board by: the active members of their
    own teams, for a coordinator (a volunteer sees only their own cases)."""
    if not (user.is_active and user.has_role(Role.COORDINATOR)):
        return User.objects.none()
    return (
        User.objects.filter(teams__in=user.team_ids, is_active=True)
        .distinct()
        .only("id", "username")
        .order_by("username")
    )


def board_columns(
    user: User, per_column: int = 15, filters: CaseFilters | None = None
) -> list[tuple[Stage, list[Case], int]]:
    """Each stage with its longest-waiting cases (as `filters` narrow them) and how many
    there are in all: the oldest of each stage are found part by part of the user's scope
    (see _scope_parts), then only those cases are read."""
    filters = filters or CaseFilters()
    counts = stage_counts(user, filters)
    parts = _scope_parts(user)
    heads = [
        _filtered(Case.objects.filter(part, stage=stage), user, filters)
        .order_by(*LIST_ORDER)
        .values_list(*LIST_ORDER, "stage")[:per_column]
        for stage in Stage
        if counts.get(stage.value)
        for part in parts
    ]
    oldest: dict[str, list[int]] = {stage.value: [] for stage in Stage}
    for _entered, pk, stage in sorted(each_row(heads)):
        oldest[stage].append(pk)
    shown = {stage: pks[:per_column] for stage, pks in oldest.items()}
    cases = case_list(user, CaseFilters()).in_bulk([pk for pks in shown.values() for pk in pks])
    return [
        (stage, [cases[pk] for pk in shown[stage.value] if pk in cases], counts.get(stage.value, 0))
        for stage in Stage
    ]


# The most entries a timeline shows, newest first; the case page shows the newest few and
# loads the older ones (up to the same limit) only when asked.
TIMELINE_LIMIT = 200
TIMELINE_NEWEST = 8


def timeline(case: Case, *, offset: int = 0, limit: int = TIMELINE_LIMIT) -> QuerySet[CaseEvent]:
    """The case's entries newest first, from `offset` up to `limit` (both counted from the
    newest), so the page and its older entries never disagree about where one ends."""
    # The actor is shown by name only: their e-mail is not decrypted for every event.
    return (
        case.events.select_related("actor")
        .defer("actor__password", "actor__notification_email")
        .order_by("-created_at", "-id")[offset:limit]
    )


def timeline_newest(case: Case) -> tuple[list[CaseEvent], int]:
    """The entries the case page shows, and how many older ones wait behind them (within
    TIMELINE_LIMIT). The count is asked only when the page is full: it reads the (case,
    created_at) index and no encrypted text."""
    newest = list(timeline(case, limit=TIMELINE_NEWEST))
    if len(newest) < TIMELINE_NEWEST:
        return newest, 0
    shown = case.events.order_by()[:TIMELINE_LIMIT].count()
    return newest, shown - TIMELINE_NEWEST


def requests_openable(user: User, case: Case, events: list[CaseEvent]) -> set[str]:
    """Which requests these timeline entries name (attached to the case, which the user
    sees) the user may open, by reference: as intake.permissions.can_view_request decides
    for a request whose case the user may see, a member of the request's team who works
    intake. Asked only when an entry names a request; the others show the reference alone."""
    named = {event.detail for event in events if event.kind == EventKind.INTAKE}
    if not named or not (user.is_active and user.has_perm("accounts.log_intake")):
        return set()
    mine = case.intake_requests.filter(reference__in=named, team_id__in=user.team_ids)
    return set(mine.values_list("reference", flat=True))


def case_viewers(case: Case) -> QuerySet[User]:
    """The people who see the case through its team (as permissions.can_view_case): the
    team's active coordinators, and its assignee while a volunteer of the team. These may be
    mentioned in its notes and are told what others do to it.

    Left out: a coordinator of another team reading it by break-glass (an emergency read,
    not a place on the case), and a route leg's volunteer, who sees their leg, not the case.
    """
    is_assignee = Q(pk=case.assignee_id, groups__name=Role.VOLUNTEER)
    coordinates = Q(groups__name=Role.COORDINATOR)
    team = Q(is_active=True, teams=case.team_id)
    who = team & (coordinates | is_assignee) if case.assignee_id else team & coordinates
    return (
        User.objects.filter(who)
        .distinct()
        # With what notify() reads: deferred, each one told would cost a query.
        .only("id", "username", "is_active", "email_notifications", "email_kinds_off")
        .order_by("username")
    )


def assignable_members(case: Case) -> QuerySet[User]:
    # What a choice shows and an assignment checks; no password hash, no e-mail to decrypt.
    return (
        User.objects.filter(teams=case.team_id, is_active=True)
        .only("id", "username", "is_active")
        .order_by("username")
    )
