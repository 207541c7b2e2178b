"""Reads of accounts, scoped to what the asking user may see."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts import permissions
from accounts.models import Team, User
from accounts.roles import Role


def members_visible_to(user: User) -> QuerySet[User]:
    """Admins see every account; coordinators the members of their own teams; others none."""
    queryset = User.objects.order_by("username").prefetch_related(
        "groups", Prefetch("teams", queryset=Team.objects.order_by("name"))
    )
    if permissions.can_manage_accounts(user):
        return queryset
    if user.has_role(Role.COORDINATOR):
        return queryset.filter(teams__in=user.teams.all()).distinct()
    return queryset.none()


def member_for(user: User, pk: int) -> User:
    """One member the user may see; the same 404 whether missing or out of reach."""
    return get_object_or_404(members_visible_to(user), pk=pk)
