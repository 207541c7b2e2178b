"""Who may attach and read a case's documents: the case's own rules (casework.permissions),
and for a leg's files, the leg's (its volunteer and the team's coordinators only)."""

from accounts.models import User
from casework import permissions as case_permissions
from casework.models import Case, RouteLeg


def can_attach(user: User, case: Case, leg: RouteLeg | None = None) -> bool:
    if leg is None:
        return case_permissions.can_work_case(user, case)
    return (
        user.is_active
        and not case.is_purged
        and leg.case_id == case.pk
        and case_permissions.can_see_leg(user, case, leg)
    )


def can_read_leg_document(user: User, case: Case, leg: RouteLeg) -> bool:
    """A leg's file: whoever may see that leg's details, and nobody else on the case."""
    return case_permissions.can_see_leg(user, case, leg)
