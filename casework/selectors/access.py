"""Reads of role and team change requests, scoped to who may see them."""

from django.db.models import Q, QuerySet

from accounts import permissions as account_permissions
from accounts.models import AccessChange, User
from accounts.roles import Role

Kind = AccessChange.Kind


def changes_visible_to(user: User) -> QuerySet[AccessChange]:
    """Admins see every change; a coordinator those of their teams and their teams'
    members; everyone the changes they proposed. Newest first."""
    changes = AccessChange.objects.select_related("target", "team", "proposed_by", "decided_by")
    if not user.is_active:
        return changes.none()
    if account_permissions.can_manage_accounts(user):
        return changes.order_by("-proposed_at", "-id")
    scope = Q(proposed_by=user)
    if user.has_role(Role.COORDINATOR):
        teams = list(user.team_ids)
        joining = AccessChange.objects.filter(kind=Kind.ADD_TEAM, team_id__in=teams)
        scope |= (
            Q(team_id__in=teams)
            | Q(target__teams__in=teams)
            | Q(target__in=joining.values("target"))
        )
    return changes.filter(scope).distinct().order_by("-proposed_at", "-id")
