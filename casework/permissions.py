"""Who may see and do what on a case. One condition per line; services, selectors and
templates all ask these, so the list, the page and the action never disagree."""

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.models import BreakGlass, Case


def is_team_coordinator(user: User, case: Case) -> bool:
    return user.has_role(Role.COORDINATOR) and case.team_id in user.team_ids


def is_assignee(user: User, case: Case) -> bool:
    """Assigned to the case while still a member of its team: leaving the team is losing
    its cases, at the next request, whatever the assignment still says."""
    return (
        user.has_role(Role.VOLUNTEER)
        and case.assignee_id == user.pk
        and case.team_id in user.team_ids
    )


def granted_case_ids(user: User) -> list[int]:
    """The cases a live break-glass grant opens to the user. Read once per User object (so
    per request) into Django's prefetch cache of `user.break_glass`, which a grant created
    through that manager (services.oversight.case_break_glass) empties, so it is read again."""
    live = BreakGlass.objects.filter(expires_at__gt=timezone.now()).only("user_id", "case_id")
    prefetch_related_objects([user], Prefetch("break_glass", queryset=live))
    return [grant.case_id for grant in user.break_glass.all()]


def has_break_glass(user: User, case: Case) -> bool:
    return case.pk in granted_case_ids(user)


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
        and case.team_id in user.team_ids
    )


def can_break_glass(user: User, case: Case) -> bool:
    return (
        user.is_active
        and user.has_perm("accounts.break_glass")
        and case.team_id not in user.team_ids
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


# Route legs and suspected provocation -----------------------------------------------------


def is_leg_volunteer(user: User, case: Case, leg) -> bool:
    """The volunteer handling this leg, while still a member of the case's team."""
    return user.is_active and leg.volunteer_id == user.pk and case.team_id in user.team_ids


def can_see_route(user: User, case: Case) -> bool:
    """The route summary and any leg's details at all: a suspected provocation hides them
    from everyone but the team's coordinators."""
    return is_team_coordinator(user, case) or not case.is_frozen


def can_see_leg(user: User, case: Case, leg) -> bool:
    """A leg's details: the team's coordinators, and the leg's own volunteer while the case
    is open and not suspected to be a provocation. The case's assignee is not enough."""
    if not user.is_active or case.is_purged:
        return False
    if is_team_coordinator(user, case):
        return True
    return can_see_route(user, case) and not case.is_closed and is_leg_volunteer(user, case, leg)


def can_manage_legs(user: User, case: Case) -> bool:
    """Adding, editing, reordering and removing legs, and choosing their volunteers: the
    coordinators of the case's team (the assignee proposes through the route summary)."""
    return (
        user.is_active
        and not case.is_purged
        and not case.is_closed
        and is_team_coordinator(user, case)
    )


def can_flag_provocation(user: User, case: Case) -> bool:
    """The screener (the case's assignee) or a coordinator of the team, on an open case."""
    return (
        user.is_active
        and not case.is_purged
        and not case.is_closed
        and (is_team_coordinator(user, case) or is_assignee(user, case))
    )


def can_clear_provocation(user: User, case: Case) -> bool:
    return user.is_active and not case.is_purged and is_team_coordinator(user, case)


# Merging duplicates --------------------------------------------------------------------


def can_merge(user: User, case: Case) -> bool:
    """Merging a case with another of its team's, or undoing that: the coordinators of
    the case's team, while it still has personal data and was not merged itself."""
    return (
        user.is_active
        and not case.is_purged
        and not case.is_merged
        and is_team_coordinator(user, case)
    )


# Handover and transfer between teams ------------------------------------------------------


def can_hand_over(user: User, case: Case) -> bool:
    """The assignee (a volunteer of the case's team) hands their open case to another."""
    return user.is_active and not case.is_purged and not case.is_closed and is_assignee(user, case)


def can_ask_transfer(user: User, case: Case) -> bool:
    """Proposing to move an open case to another team: the coordinators of its team."""
    return (
        user.is_active
        and not case.is_purged
        and not case.is_closed
        and is_team_coordinator(user, case)
    )


# Approval requests --------------------------------------------------------------------------


def can_ask_approval(user: User, case: Case) -> bool:
    """Asking the team's coordinator to make a move: whoever else may work the case (a
    coordinator makes the move themselves)."""
    return can_work_case(user, case) and not case.is_closed and not is_team_coordinator(user, case)


def can_decide_approval(user: User, case: Case, asked_by_id: int) -> bool:
    """Approving or declining a move asked for: a coordinator of the case's team, the one
    the workflow table names as approver, never the one who asked."""
    return (
        user.is_active
        and not case.is_purged
        and is_team_coordinator(user, case)
        and user.pk != asked_by_id
    )


def can_decide_transfer(user: User, transfer) -> bool:
    """Accepting or declining: the coordinators of the team the case would go to."""
    return (
        user.is_active and user.has_role(Role.COORDINATOR) and transfer.to_team_id in user.team_ids
    )


def can_withdraw_transfer(user: User, transfer) -> bool:
    """Taking a proposal back: the coordinators of the team that asked."""
    return (
        user.is_active
        and user.has_role(Role.COORDINATOR)
        and transfer.from_team_id in user.team_ids
    )
