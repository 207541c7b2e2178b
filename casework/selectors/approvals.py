"""Reads of approval requests: the one waiting on a case, the moves that may be asked for,
and what waits for a coordinator. Callers have already found the case through a scoped
selector; the coordinators' list is scoped to their teams here."""

from collections.abc import Collection

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import Role
from casework import workflow
from casework.models import ApprovalRequest, ApprovalState, Case, Stage


def askable_targets(case: Case) -> list[Stage]:
    """The moves the workflow leaves to the team's coordinator alone: refused to someone
    else who works the case, allowed to a coordinator (reason, outcome and the warning's
    confirmation are given when asking or approving)."""
    found = []
    for target in workflow.targets_from(case):

        def problems(coordinator: bool, target: Stage = target) -> list[str]:
            return workflow.move_problems(
                case, target, is_coordinator=coordinator, reason="x", outcome="x", warning_seen=True
            )

        if not problems(True) and problems(False):
            found.append(target)
    return found


def pending_for_case(case: Case) -> ApprovalRequest | None:
    """The request waiting on this case, if any (it may have lapsed: has_lapsed_for)."""
    return (
        ApprovalRequest.objects.filter(case=case, state=ApprovalState.PENDING)
        .select_related("asked_by")
        .defer("asked_by__password", "asked_by__notification_email")
        .first()
    )


def approval_on_case(case: Case, pk: int) -> ApprovalRequest:
    """One request of a case the caller may see; 404 if it belongs to another case."""
    return get_object_or_404(ApprovalRequest.objects.select_related("asked_by"), pk=pk, case=case)


def waiting_for(user: User, limit: int = 50) -> QuerySet[ApprovalRequest]:
    """The live requests a coordinator may decide, oldest first: pending, of their teams,
    asked of the case as it still is, not their own. One query; the notes are not read."""
    if not (user.is_active and user.has_role(Role.COORDINATOR)):
        return ApprovalRequest.objects.none()
    return (
        ApprovalRequest.objects.filter(
            state=ApprovalState.PENDING,
            case__team_id__in=user.team_ids,
            case__version=F("asked_version"),
        )
        .exclude(asked_by=user)
        .select_related("case", "asked_by")
        .only(
            "to_stage",
            "asked_at",
            "asked_version",
            "state",
            "case__reference",
            "case__stage",
            "case__version",
            "asked_by__username",
        )
        .order_by("asked_at", "id")[:limit]
    )


def awaiting_approval(case_ids: Collection[int]) -> set[int]:
    """Which of these cases have a live request waiting (for the board's badge)."""
    return set(
        ApprovalRequest.objects.filter(
            case_id__in=list(case_ids),
            state=ApprovalState.PENDING,
            case__version=F("asked_version"),
        ).values_list("case_id", flat=True)
    )
