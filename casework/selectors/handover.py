"""Reads for handover and transfer, and "since your last shift".

A pending transfer is seen by the coordinators of both teams, and by nobody else (the same
404 as a transfer that does not exist). Before accepting, the receiving team learns what it
needs to decide: the reference, the stage and how long it has been there, the risk flags,
lost contact and a suspected provocation, and the asker's note. Not the person's details,
the codename, the destination or the route: those come with the case, once accepted.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Team, User
from accounts.roles import Role
from casework.models import RISK_FLAGS, Case, CaseEvent, CaseTransfer, TransferState
from casework.selectors.cases import _own

# What the receiving team may know of a case before it accepts it.
PENDING_CASE_FIELDS = (
    "case__reference",
    "case__stage",
    "case__stage_entered_at",
    "case__team_id",
    "case__version",
    "case__purged_at",
    "case__lost_contact_at",
    "case__provocation_flagged_at",
    *(f"case__{flag}" for flag in RISK_FLAGS),
)
TRANSFER_FIELDS = (
    "seal",
    "note",
    "reason",
    "state",
    "asked_at",
    "decided_at",
    "case_id",
    "from_team__name",
    "to_team__name",
    "asked_by__username",
    "decided_by__username",
)


def handover_candidates(case: Case, by: User) -> QuerySet[User]:
    """The active volunteers of the case's team it could be handed to (not `by`)."""
    return (
        User.objects.filter(teams=case.team_id, is_active=True, groups__name=Role.VOLUNTEER)
        .exclude(pk=by.pk)
        .only("id", "username", "is_active")
    )


def handover_candidate(case: Case, by: User, username: str) -> User | None:
    """The colleague named, if they are one the case could be handed to; else None (the
    same answer for an unknown name and for someone of another team)."""
    return handover_candidates(case, by).filter(username=username.strip()).first()


def transfer_targets(case: Case) -> QuerySet[Team]:
    """Every other team: whether it has a coordinator to decide is the service's question,
    answered with a message (a team's name is no secret among members)."""
    return Team.objects.exclude(pk=case.team_id).order_by("name")


def receiving_members(transfer: CaseTransfer) -> QuerySet[User]:
    """Whom the accepting coordinator may assign the case to: their team's active members."""
    return (
        User.objects.filter(teams=transfer.to_team_id, is_active=True)
        .only("id", "username", "is_active")
        .order_by("username")
    )


def _scope(user: User) -> Q:
    if not (user.is_active and user.has_role(Role.COORDINATOR)):
        return Q(pk__in=[])
    teams = sorted(user.team_ids)
    return Q(to_team_id__in=teams) | Q(from_team_id__in=teams)


def _transfers(user: User) -> QuerySet[CaseTransfer]:
    return (
        CaseTransfer.objects.filter(_scope(user))
        .select_related("case", "from_team", "to_team", "asked_by", "decided_by")
        .only(*TRANSFER_FIELDS, *PENDING_CASE_FIELDS)
    )


def transfer_for(user: User, pk: int) -> CaseTransfer:
    """One transfer, for the coordinators of the two teams; 404 for anyone else."""
    return get_object_or_404(_transfers(user), pk=pk)


def transfers_for(user: User, limit: int = 50) -> tuple[list[CaseTransfer], list[CaseTransfer]]:
    """The transfers waiting for the user's teams to decide, oldest first; and the latest
    ones the user's teams asked or decided, newest first."""
    if not (user.is_active and user.has_role(Role.COORDINATOR)):
        return [], []
    teams = sorted(user.team_ids)
    waiting = list(
        _transfers(user)
        .filter(to_team_id__in=teams, state=TransferState.PENDING)
        .defer("note", "reason")
        .order_by("asked_at", "id")[:limit]
    )
    waiting_ids = [transfer.pk for transfer in waiting]
    others = list(
        _transfers(user)
        .exclude(pk__in=waiting_ids)
        .defer("note", "reason")
        .order_by("-asked_at", "-id")[:limit]
    )
    return waiting, others


def pending_transfer_of(case: Case) -> CaseTransfer | None:
    """The proposal waiting on a case, for its own team's page."""
    return (
        CaseTransfer.objects.filter(case=case, state=TransferState.PENDING)
        .select_related("to_team", "asked_by")
        .only("state", "asked_at", "case_id", "to_team__name", "asked_by__username")
        .first()
    )


# Since your last shift -----------------------------------------------------------------------

# The most entries the page shows; the counts per case are exact however many there are.
SINCE_LIMIT = 300


@dataclass(frozen=True)
class CaseChanges:
    case: Case
    count: int
    events: list[CaseEvent]


def _your_cases(user: User) -> Q:
    """A volunteer's own cases, a coordinator's teams' cases (not break-glass opens)."""
    if not user.is_active:
        return Q(pk__in=[])
    scope = Q(pk__in=[])
    if user.has_role(Role.COORDINATOR):
        scope |= Q(team_id__in=sorted(user.team_ids))
    if user.has_role(Role.VOLUNTEER):
        scope |= _own(user)
    return scope


def changes_since(user: User, since: datetime) -> list[CaseChanges]:
    """Timeline entries made by anyone else (or by the system) on the user's cases since
    `since`, grouped by case, the most recently changed case first. Two queries, however
    many cases and entries; no encrypted text is read."""
    cases = Case.objects.filter(_your_cases(user)).values("pk")
    events = CaseEvent.objects.filter(case__in=cases, created_at__gt=since).exclude(actor=user)
    counts = dict(
        events.order_by()
        .values_list("case_id")
        .annotate(count=Count("id"))
        .values_list("case_id", "count")
    )
    if not counts:
        return []
    shown = (
        events.select_related("case", "case__person", "actor")
        .only(
            "kind",
            "created_at",
            "from_stage",
            "to_stage",
            "detail",
            "facts",
            "case_id",
            "actor__username",
            "case__reference",
            "case__stage",
            "case__person__codename",
        )
        .order_by("-created_at", "-id")[:SINCE_LIMIT]
    )
    grouped: dict[int, CaseChanges] = {}
    for event in shown:
        if event.case_id not in grouped:
            grouped[event.case_id] = CaseChanges(event.case, counts[event.case_id], [])
        grouped[event.case_id].events.append(event)
    return list(grouped.values())
