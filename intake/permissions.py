"""Who may read and triage a request. One condition per line; the selectors, the service
and the templates ask these, so the queue, the page and the action never disagree."""

from accounts.models import Team, User
from accounts.roles import Role
from casework.permissions import can_view_case
from intake.models import IntakeRequest, TriageState


def is_team_member(user: User, team_id: int) -> bool:
    return team_id in user.team_ids


def is_intake_member(user: User, team_id: int) -> bool:
    """An active member of the team who works intake (volunteers and coordinators)."""
    return user.is_active and user.has_perm("accounts.log_intake") and is_team_member(user, team_id)


def can_log_intake(user: User, team: Team) -> bool:
    return is_intake_member(user, team.pk)


def is_request_coordinator(user: User, request: IntakeRequest) -> bool:
    """The team's coordinators see every request of the team, as they see every case."""
    return user.has_role(Role.COORDINATOR) and is_intake_member(user, request.team_id)


def can_view_request(user: User, request: IntakeRequest) -> bool:
    """A request's contact and message: the team's coordinators always; a volunteer of the
    team while it waits in the triage queue, or through its case if they may see that
    case. Rejected requests stay with the coordinators."""
    if not is_intake_member(user, request.team_id):
        return False
    if is_request_coordinator(user, request):
        return True
    if request.state == TriageState.NEW:
        return True
    if request.state in (TriageState.ACCEPTED, TriageState.DUPLICATE) and request.case is not None:
        return can_view_case(user, request.case)
    return False


def can_triage(user: User, request: IntakeRequest) -> bool:
    return can_view_request(user, request) and request.state == TriageState.NEW
