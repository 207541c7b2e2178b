from accounts.models import Team, User
from casework.permissions import team_ids
from intake.models import IntakeRequest, TriageState


def is_team_member(user: User, team_id: int) -> bool:
    return team_id in team_ids(user)


def can_log_intake(user: User, team: Team) -> bool:
    return user.is_active and user.has_perm("accounts.log_intake") and is_team_member(user, team.pk)


def can_view_request(user: User, request: IntakeRequest) -> bool:
    return (
        user.is_active
        and user.has_perm("accounts.log_intake")
        and is_team_member(user, request.team_id)
    )


def can_triage(user: User, request: IntakeRequest) -> bool:
    return can_view_request(user, request) and request.state == TriageState.NEW
