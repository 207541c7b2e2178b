"""Changes to a case's route legs: the coordinators of the case's team only.

Each claims the case version (a leg is part of the case: a stale page is refused with
CaseConflict), keeps the legs numbered 1..n with their planned dates in order, and writes
the timeline event and the audit row in the same transaction. Neither names a place, a
contact or the leg's volunteer on the timeline: the assignee reads it too.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from casework import event_details, permissions
from casework.models import Case, EventKind, RouteLeg
from casework.services.cases import _claim_version, audit_case, timeline_add

LEG_FIELDS = (
    "origin",
    "destination",
    "means",
    "planned_on",
    "contact",
    "safe_house",
    "notes",
    "volunteer",
)


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def dates_in_order(legs: list[RouteLeg]) -> None:
    """Raises a ValidationError on `planned_on` if a leg is planned before an earlier one
    (legs without a date are not compared)."""
    previous: tuple[int, date] | None = None
    for number, leg in enumerate(legs, start=1):
        if leg.planned_on is None:
            continue
        if previous and leg.planned_on < previous[1]:
            raise ValidationError(
                {
                    "planned_on": _(
                        "Leg %(number)s would be planned for %(date)s, before leg %(previous)s "
                        "(%(previous_date)s): legs run in order. Change the date, or the "
                        "leg's place in the route."
                    )
                    % {
                        "number": number,
                        "date": _day(leg.planned_on),
                        "previous": previous[0],
                        "previous_date": _day(previous[1]),
                    }
                }
            )
        previous = (number, leg.planned_on)


def _check_volunteer(case: Case, volunteer: User | None) -> None:
    if volunteer is None:
        return
    if not volunteer.is_active or case.team_id not in volunteer.team_ids:
        raise ValidationError(
            {"volunteer": _("The leg's volunteer must be an active member of the case's team.")}
        )


def _route_order(case: Case, leg: RouteLeg, number: int | None) -> list[RouteLeg]:
    """The case's legs with `leg` put at place `number` (1-based; None or past the end:
    last), read after the version claim so two changes never interleave."""
    others = list(
        RouteLeg.objects.filter(case=case)
        .exclude(pk=leg.pk)
        .only("id", "position", "planned_on")
        .order_by("position", "id")
    )
    place = len(others) if number is None else min(max(number, 1), len(others) + 1) - 1
    others.insert(place, leg)
    return others


def _renumber(legs: list[RouteLeg], skip: RouteLeg | None = None) -> None:
    moved = []
    for number, leg in enumerate(legs, start=1):
        if leg.position != number:
            leg.position = number
            if leg is not skip:
                moved.append(leg)
    if moved:
        RouteLeg.objects.bulk_update(moved, ["position"])


def _apply(leg: RouteLeg, details: dict) -> list[str]:
    changed = []
    for name, value in details.items():
        if name not in LEG_FIELDS:
            raise ValueError(f"not a leg field: {name}")
        if getattr(leg, name) != value:
            setattr(leg, name, value)
            changed.append(name)
    return changed


def _require(by: User, case: Case) -> None:
    if not permissions.can_manage_legs(by, case):
        raise PermissionDenied


def _record(case: Case, by: User, facts: dict, audit_reason: str = "") -> None:
    audit_case(case, by, Action.ROUTE_CHANGED, reason=audit_reason)
    timeline_add(case, by, EventKind.ROUTE, facts=facts)


@transaction.atomic
def leg_add(
    *, case: Case, by: User, expected_version: int, details: dict, number: int | None = None
) -> RouteLeg:
    """Adds a leg at place `number` (default: last). Refused on a case frozen as a
    suspected provocation."""
    _require(by, case)
    if case.is_frozen:
        raise ValidationError(
            _("This case is frozen as a suspected provocation: no legs can be added.")
        )
    leg = RouteLeg(case=case, position=0)
    _apply(leg, details)
    _check_volunteer(case, leg.volunteer)
    leg.full_clean(exclude=["case", "position", "volunteer"])
    _claim_version(case, expected_version)
    legs = _route_order(case, leg, number)
    dates_in_order(legs)
    _renumber(legs, skip=leg)
    leg.save()
    reason = f"leg {leg.position} added"
    if leg.volunteer is not None:
        reason += f"; volunteer {leg.volunteer.username}"
    _record(case, by, event_details.facts("leg_added", number=leg.position), reason)
    return leg


@transaction.atomic
def leg_change(
    *,
    case: Case,
    leg: RouteLeg,
    by: User,
    expected_version: int,
    details: dict,
    number: int | None = None,
) -> RouteLeg:
    """Edits a leg's details, its volunteer and its place in the route."""
    _require(by, case)
    if leg.case_id != case.pk:
        raise PermissionDenied
    old_volunteer = leg.volunteer_id
    changed = _apply(leg, details)
    _check_volunteer(case, leg.volunteer)
    leg.full_clean(exclude=["case", "position", "volunteer"])
    old_position = leg.position
    _claim_version(case, expected_version)
    legs = _route_order(case, leg, number)
    dates_in_order(legs)
    _renumber(legs, skip=leg)
    if leg.position != old_position:
        changed.append("position")
    if not changed:
        transaction.set_rollback(True)  # nothing to record: leave the version alone
        return leg
    leg.updated_at = timezone.now()
    leg.save(update_fields=[*changed, "updated_at"])
    what: dict = {"number": leg.position}
    reason = f"leg {leg.position} changed: {', '.join(changed)}"
    if "position" in changed:
        what["moved_from"] = old_position
    if leg.volunteer_id != old_volunteer:
        what["volunteer_changed"] = True
        reason += f"; volunteer {leg.volunteer.username if leg.volunteer else '-'}"
    _record(case, by, event_details.facts("leg_changed", **what), reason)
    return leg


@transaction.atomic
def leg_remove(*, case: Case, leg: RouteLeg, by: User, expected_version: int) -> None:
    """Removes a leg; the ones after it move up. Allowed on a frozen case: taking a safe
    house off a route suspected to be a provocation must stay possible."""
    _require(by, case)
    if leg.case_id != case.pk:
        raise PermissionDenied
    _claim_version(case, expected_version)
    number = leg.position
    # Its files go with it (documents.models.DocumentQuerySet.purge: the blobs too).
    leg.documents.purge()
    leg.delete()
    legs = list(RouteLeg.objects.filter(case=case).only("id", "position").order_by("position"))
    _renumber(legs)
    _record(case, by, event_details.facts("leg_removed", number=number), f"leg {number} removed")
