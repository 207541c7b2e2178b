"""Reads of accounts, scoped to what the asking user may see."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum
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


def members_matching(
    user: User, *, query: str = "", role: str = "", state: str = "", now: datetime | None = None
) -> QuerySet[User]:
    """The members the user may see, narrowed by username, role and state (the values of
    accounts.forms.MemberFilterForm); an unknown value narrows nothing."""
    members = members_visible_to(user)
    if query:
        members = members.filter(username__icontains=query)
    if role == "none":
        members = members.exclude(groups__name__in=Role.values)
    elif role in Role.values:
        members = members.filter(groups__name=role)
    confirmed = AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    if state == "active":
        members = members.filter(is_active=True)
    elif state == "inactive":
        members = members.filter(is_active=False)
    elif state == "locked":
        members = members.filter(username__in=sorted(locked_out_until(now)))
    elif state == "no_second_factor":
        members = members.filter(~Exists(confirmed), is_active=True)
    elif state == "contained":
        members = members.filter(
            Exists(Containment.objects.filter(user=OuterRef("pk"))), is_active=False
        )
    return members


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
    """Accounts locked out from at least one address right now."""
    return len(locked_out_until(now))


def locked_out_until(now: datetime | None = None) -> dict[str, datetime]:
    """Usernames locked out from at least one address right now, and until when (the last
    lock-out to end). django-axes sums failures per username and address within the
    cool-off; wrong second-factor codes count there too (accounts.views). Typed names that
    are no account are left out: they may be anything, a password typed in the wrong field
    included. One query."""
    from axes.models import AccessAttempt

    since = (now or timezone.now()) - settings.AXES_COOLOFF_TIME
    locked = (
        AccessAttempt.objects.filter(
            attempt_time__gte=since, username__in=User.objects.values("username")
        )
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by()
    )
    until: dict[str, datetime] = {}
    for row in locked:
        ends = row["last"] + settings.AXES_COOLOFF_TIME
        until[row["username"]] = max(ends, until.get(row["username"], ends))
    return until
