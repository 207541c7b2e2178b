"""Reads of a case's route: its legs, each shown only as far as the asking user may see it.

A leg's places, contact and safe house go to the team's coordinators and the leg's own
volunteer (permissions.can_see_leg); anyone else on the case sees its number and date.
"""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import Role
from casework import permissions
from casework.models import Case, RouteLeg, Stage

# What anyone on the case may know of a leg: its place and its date, nothing encrypted.
LEG_OUTLINE_FIELDS = ("id", "case_id", "position", "planned_on", "volunteer_id")


@dataclass(frozen=True)
class LegView:
    """One leg as the asking user may see it. `details` is the leg with its places,
    contact and safe house, or None: then the page can say "leg 2 of 4, planned 12 Dec" and
    nothing more, because it was never given more."""

    pk: int
    number: int
    total: int
    planned_on: object  # date | None
    details: RouteLeg | None


@dataclass(frozen=True)
class Route:
    legs: list[LegView]
    # The route is hidden from this user because the case is suspected to be a provocation.
    withheld: bool


def route_for(user: User, case: Case) -> Route:
    """The case's legs, with details only where `permissions.can_see_leg` allows: two
    queries at most, whatever the number of legs."""
    if case.is_purged:
        return Route(legs=[], withheld=False)
    outline = list(
        RouteLeg.objects.filter(case=case).only(*LEG_OUTLINE_FIELDS).order_by("position", "id")
    )
    allowed = [leg.pk for leg in outline if permissions.can_see_leg(user, case, leg)]
    detailed = {}
    if allowed:
        detailed = RouteLeg.objects.filter(pk__in=allowed).select_related("volunteer").in_bulk()
    total = len(outline)
    legs = [
        LegView(
            pk=leg.pk,
            number=number,
            total=total,
            planned_on=leg.planned_on,
            details=detailed.get(leg.pk),
        )
        for number, leg in enumerate(outline, start=1)
    ]
    return Route(legs=legs, withheld=not permissions.can_see_route(user, case))


def _leg_scope(user: User) -> Q:
    """Legs of the teams the user coordinates, and legs the user handles in their teams."""
    if not user.is_active:
        return Q(pk__in=[])
    scope = Q(volunteer=user, case__team_id__in=user.team_ids)
    if user.has_role(Role.COORDINATOR):
        scope |= Q(case__team_id__in=user.team_ids)
    return scope


def leg_for(user: User, reference: str, pk: int) -> tuple[Case, LegView]:
    """One leg with its case, for the leg's volunteer and the team's coordinators; the same
    404 for missing, not yours, and any other case's leg. A leg volunteer who is not on the
    case gets a Case holding the reference, stage and codename only."""
    outline = get_object_or_404(
        RouteLeg.objects.filter(_leg_scope(user), case__purged_at__isnull=True)
        .select_related("case", "case__team", "case__person")
        .only(
            *LEG_OUTLINE_FIELDS,
            "case__reference",
            "case__stage",
            "case__team_id",
            "case__team__name",
            "case__assignee_id",
            "case__purged_at",
            "case__provocation_flagged_at",
            "case__person__codename",
        ),
        case__reference=reference,
        pk=pk,
    )
    case = outline.case
    if not (permissions.is_team_coordinator(user, case) or outline.volunteer_id == user.pk):
        raise Http404
    positions = list(
        RouteLeg.objects.filter(case=case).order_by("position", "id").values_list("pk", flat=True)
    )
    details = None
    if permissions.can_see_leg(user, case, outline):
        details = RouteLeg.objects.select_related("volunteer").get(pk=outline.pk)
    view = LegView(
        pk=outline.pk,
        number=positions.index(outline.pk) + 1,
        total=len(positions),
        planned_on=outline.planned_on,
        details=details,
    )
    return case, view


def leg_to_change(user: User, case: Case, pk: int) -> RouteLeg:
    """A leg of a case the user may manage the route of; 404 otherwise."""
    if not permissions.can_manage_legs(user, case):
        raise Http404
    return get_object_or_404(RouteLeg.objects.select_related("volunteer"), case=case, pk=pk)


def legs_handled_by(user: User, limit: int = 100) -> list[RouteLeg]:
    """The legs the user handles on open cases of their teams, outline only (reference,
    place, date): the details are one click further, on an audited page."""
    if not user.is_active:
        return []
    return list(
        RouteLeg.objects.filter(volunteer=user, case__team_id__in=user.team_ids)
        .exclude(case__stage=Stage.CLOSED)
        .filter(case__purged_at__isnull=True)
        .select_related("case")
        .only(*LEG_OUTLINE_FIELDS, "case__reference", "case__stage")
        .annotate(total=Count("case__legs"))
        .order_by("planned_on", "case_id", "position")[:limit]
    )
