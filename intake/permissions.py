"""Who may read and triage a request. One condition per line; the selectors, the service
and the templates ask these, so the queue, the page and the action never disagree."""

from accounts.models import Team, User
from accounts.roles import Role
from casework.permissions import can_view_case, can_work_case
from intake.models import Channel, IntakeRequest, TriageState

# The channels the app can answer through (intake.conversations, intake.replies).
ANSWERABLE = frozenset({Channel.TELEGRAM, Channel.WEB_FORM})


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


def can_reply(user: User, request: IntakeRequest) -> bool:
    """A reply to the person: to a request that came through a channel the app answers
    through (by itself: a request a volunteer logged has no address to answer) and still
    has its personal data, by whoever may triage it or, once it has a case, may work that
    case."""
    if request.channel not in ANSWERABLE or request.purged_at is not None:
        return False
    if not request.address_digest:
        return False
    if not can_view_request(user, request):
        return False
    if request.state == TriageState.NEW:
        return True
    if request.state == TriageState.REJECTED:
        return is_request_coordinator(user, request)
    return request.case is not None and can_work_case(user, request.case)
