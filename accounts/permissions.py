"""Who may act on whose account. One condition per line, shared by views and services."""

from accounts.models import AccessChange, User
from accounts.roles import Role

Kind = AccessChange.Kind


def shares_a_team(first: User, second: User) -> bool:
    return bool(first.team_ids & second.team_ids)


def can_manage_accounts(actor: User) -> bool:
    return actor.is_active and actor.has_perm("accounts.manage_accounts")


def can_see_member_list(actor: User) -> bool:
    return can_manage_accounts(actor) or actor.has_role(Role.COORDINATOR)


def can_reset_second_factor(actor: User, target: User) -> bool:
    if actor.pk == target.pk:
        return False  # one's own authenticator is replaced by enrolling again, verified
    if not actor.has_perm("accounts.reset_second_factor"):
        return False
    if can_manage_accounts(actor):
        return True
    # A coordinator helps the volunteers of their own teams, nobody else.
    return (
        actor.has_role(Role.COORDINATOR)
        and target.roles == frozenset({Role.VOLUNTEER})
        and shares_a_team(actor, target)
    )


def coordinates_team(user: User, team_id: int | None) -> bool:
    return user.is_active and user.has_role(Role.COORDINATOR) and team_id in user.team_ids


def coordinates_a_team_of(user: User, target: User) -> bool:
    return any(coordinates_team(user, team_id) for team_id in target.team_ids)


def can_propose_change(actor: User, target: User, kind: str, team_id: int | None) -> bool:
    """Admins propose any change; a coordinator proposes team changes for their own teams
    and the volunteer role for their teams' members. Nobody proposes for themselves."""
    if not actor.is_active or actor.pk == target.pk:
        return False
    if can_manage_accounts(actor):
        return True
    if kind in (Kind.ADD_TEAM, Kind.REMOVE_TEAM):
        return coordinates_team(actor, team_id)
    return kind in (Kind.ADD_ROLE, Kind.REMOVE_ROLE) and coordinates_a_team_of(actor, target)


def can_decide_change(actor: User, change: AccessChange) -> bool:
    """The second person: never the one who proposed it, never the account it changes.

    A volunteer's team is decided by that team's coordinator; a coordinator's team by
    another admin or a coordinator of the team; a role by another admin or a coordinator
    of every team of the account; the admin role by another admin.
    """
    if not actor.is_active or not change.is_pending:
        return False
    if actor.pk in (change.proposed_by_id, change.target_id):
        return False
    target = change.target
    admin = can_manage_accounts(actor)
    if change.kind == Kind.REACTIVATE or change.role == Role.ADMIN:
        return admin
    if change.kind in (Kind.ADD_TEAM, Kind.REMOVE_TEAM):
        if coordinates_team(actor, change.team_id):
            return True
        # Taking someone out of a team gives nothing; a coordinator's team is theirs to run.
        return admin and (change.kind == Kind.REMOVE_TEAM or target.has_role(Role.COORDINATOR))
    # A role counts in every team of the account, so a coordinator decides it only for an
    # account all of whose teams they coordinate: a coordinator of one team must not make
    # someone a coordinator of another. An invitation's role waits beside its team.
    teams = target.team_ids or (
        frozenset(_teams_on_the_way(target)) if change.role == Role.VOLUNTEER else frozenset()
    )
    if teams and all(coordinates_team(actor, team_id) for team_id in teams):
        return True
    # The volunteer role of someone in no team yet opens nothing: another admin will do.
    return admin and (change.role == Role.COORDINATOR or not target.team_ids)


def _teams_on_the_way(target: User) -> list[int]:
    return list(
        AccessChange.objects.filter(
            target=target, kind=Kind.ADD_TEAM, state=AccessChange.State.PENDING
        ).values_list("team_id", flat=True)
    )


def can_issue_link(actor: User, target: User) -> bool:
    """A password-reset link: whoever may reset the member's second factor."""
    return can_reset_second_factor(actor, target)


def can_deactivate(actor: User, target: User) -> bool:
    return actor.pk != target.pk and can_manage_accounts(actor)


def can_unlock(actor: User, target: User) -> bool:
    return actor.pk != target.pk and can_manage_accounts(actor)


def can_end_sessions(actor: User, target: User) -> bool:
    return actor.pk != target.pk and actor.has_perm("accounts.end_sessions")


def can_contain_account(actor: User, target: User) -> bool:
    """Locking a compromised account: an admin, on anyone but themselves."""
    if actor.pk == target.pk:
        # Another admin does it: the list it makes needs someone outside the account.
        return False
    return (
        can_manage_accounts(actor)
        and actor.has_perm("accounts.end_sessions")
        and actor.has_perm("accounts.reset_second_factor")
    )
