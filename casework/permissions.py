"""Who may see and do what on a case. One condition per line; services, selectors and
templates all ask these, so the list, the page and the action never disagree."""

from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.models import Case


def team_ids(user: User) -> set[int]:
    if not hasattr(user, "_team_ids"):
        user._team_ids = set(user.teams.values_list("pk", flat=True))
    return user._team_ids


def is_team_coordinator(user: User, case: Case) -> bool:
    return user.has_role(Role.COORDINATOR) and case.team_id in team_ids(user)


def is_assignee(user: User, case: Case) -> bool:
    return user.has_role(Role.VOLUNTEER) and case.assignee_id == user.pk


def has_break_glass(user: User, case: Case) -> bool:
    return case.break_glass.filter(user=user, expires_at__gt=timezone.now()).exists()


def can_view_case(user: User, case: Case) -> bool:
    if not user.is_active:
        return False
    if is_team_coordinator(user, case) or is_assignee(user, case):
        return True
    return user.has_perm("accounts.break_glass") and has_break_glass(user, case)


def can_work_case(user: User, case: Case) -> bool:
    """Notes, check-ins, edits and ordinary stage moves: the assignee and the coordinator.

    Break-glass opens a case for reading only; an anonymised case is read-only for everyone
    (nothing personal may be written back onto it).
    """
    return (
        user.is_active
        and not case.is_purged
        and (is_team_coordinator(user, case) or is_assignee(user, case))
    )


def can_assign(user: User, case: Case) -> bool:
    return user.is_active and not case.is_purged and is_team_coordinator(user, case)


def can_take(user: User, case: Case) -> bool:
    """A volunteer may take an unassigned, open case of their own team."""
    return (
        user.is_active
        and user.has_role(Role.VOLUNTEER)
        and case.assignee_id is None
        and not case.is_closed
        and case.team_id in team_ids(user)
    )


def can_break_glass(user: User, case: Case) -> bool:
    return (
        user.is_active
        and user.has_perm("accounts.break_glass")
        and case.team_id not in team_ids(user)
    )


def can_set_legal_hold(user: User, case: Case) -> bool:
    """Setting or lifting a legal hold: the coordinators of the case's team, while there is
    still personal data to hold."""
    return user.is_active and not case.is_purged and is_team_coordinator(user, case)


def can_erase_case(user: User, case: Case) -> bool:
    """Executing a person's erasure request: the coordinators of the case's team. A legal
    hold blocks it too, but that is a state of the case, refused with its own message."""
    return user.is_active and not case.is_purged and is_team_coordinator(user, case)


def can_review_break_glass(user: User) -> bool:
    """The admins who review the audit log review break-glass opens, reasons included."""
    return user.is_active and user.has_perm("accounts.review_audit")
