"""Reads of accounts, scoped to what the asking user may see."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts import permissions
from accounts.models import AuthenticatorDevice, Containment, Team, User
from accounts.roles import Role


def members_visible_to(user: User) -> QuerySet[User]:
    """Admins see every account; coordinators the members of their own teams; others none."""
    queryset = User.objects.order_by("username").prefetch_related(
        "groups", Prefetch("teams", queryset=Team.objects.order_by("name"))
    )
    if permissions.can_manage_accounts(user):
        return queryset
    if user.has_role(Role.COORDINATOR):
        return queryset.filter(teams__in=sorted(user.team_ids)).distinct()
    return queryset.none()


def member_for(user: User, pk: int) -> User:
    """One member the user may see; the same 404 whether missing or out of reach."""
    return get_object_or_404(members_visible_to(user), pk=pk)


@dataclass(frozen=True)
class AccountCounts:
    """How many accounts there are and in what state: numbers only, for admins."""

    by_role: list[tuple[Role, int, int]]  # role, accounts, of them active
    without_role: int
    without_role_active: int
    total: int
    active: int
    locked_out: int
    without_second_factor: int  # active accounts without a confirmed authenticator
    contained: int  # contained as compromised and not reactivated since


def account_counts(now: datetime | None = None) -> AccountCounts:
    """Three queries, whatever the number of accounts."""
    roles = {
        group.name: (group.total, group.active)
        for group in Group.objects.filter(name__in=Role.values).annotate(
            total=Count("user"), active=Count("user", filter=Q(user__is_active=True))
        )
    }
    totals = User.objects.annotate(
        confirmed=Exists(AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        was_contained=Exists(Containment.objects.filter(user=OuterRef("pk"))),
        # Not has_role: that is User's method, which an annotation would shadow.
        holds_role=Exists(
            User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=Role.values)
        ),
    ).aggregate(
        total=Count("pk"),
        without_role=Count("pk", filter=Q(holds_role=False)),
        without_role_active=Count("pk", filter=Q(holds_role=False, is_active=True)),
        active=Count("pk", filter=Q(is_active=True)),
        without_second_factor=Count("pk", filter=Q(is_active=True, confirmed=False)),
        contained=Count("pk", filter=Q(is_active=False, was_contained=True)),
    )
    return AccountCounts(
        by_role=[(role, *roles.get(role.value, (0, 0))) for role in Role],
        locked_out=locked_out_count(now),
        **totals,
    )


def locked_out_count(now: datetime | None = None) -> int:
    """Accounts locked out from at least one address right now (django-axes sums failures
    per username and address within the cool-off). Typed names that are no account are
    left out: they may be anything, a password typed in the wrong field included."""
    from axes.models import AccessAttempt

    since = (now or timezone.now()) - settings.AXES_COOLOFF_TIME
    locked = (
        AccessAttempt.objects.filter(
            attempt_time__gte=since, username__in=User.objects.values("username")
        )
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by()
    )
    return len({row["username"] for row in locked})
