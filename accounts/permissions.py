"""Who may act on whose account. One condition per line, shared by views and services."""

from accounts.models import User
from accounts.roles import Role


def shares_a_team(first: User, second: User) -> bool:
    return first.teams.filter(pk__in=second.teams.values("pk")).exists()


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
