"""Roles and teams change only with two people: one proposes, another approves.

Each step (proposal, approval, refusal, withdrawal) is an audit event in the same
transaction, and the admins and the team's coordinators are told. Leaving a team (or a
role) takes the member's open cases and route legs of it away from them at once, and
tells the coordinators who must hand them on. Who may propose and who may decide is in
accounts.permissions; what makes a change impossible is `change_problem`.
"""

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions as account_permissions
from accounts import services as account_services
from accounts.models import AccessChange, AccountLink, Team, User
from accounts.roles import Role
from audit.log import record
from audit.models import Action
from casework.models import Case, EventKind, ReminderKind, RouteLeg
from casework.notifications import notify
from casework.permissions import can_work_case, is_leg_volunteer
from casework.scheduling import team_coordinators
from casework.services.cases import audit_case, timeline_add
from casework.services.decisions import decide_once

Kind = AccessChange.Kind
State = AccessChange.State
CASE_ROLES = {Role.VOLUNTEER, Role.COORDINATOR}

ALREADY_DECIDED = gettext_lazy("Someone has already decided this change.")


def change_problem(change: AccessChange) -> str | None:
    """Why this change cannot take effect on the account as it is now, or None."""
    target = change.target
    roles = target.roles
    if change.kind == Kind.ADD_ROLE:
        if Role(change.role) in roles:
            return _("The account already has that role.")
        # An admin has no path to personal data: never a role that works cases as well.
        if change.role == Role.ADMIN and roles & CASE_ROLES:
            return _(
                "An admin works no cases: take the volunteer and coordinator roles away first."
            )
        if change.role != Role.ADMIN and Role.ADMIN in roles:
            return _("An admin works no cases: take the admin role away first.")
    elif change.kind == Kind.REMOVE_ROLE:
        if Role(change.role) not in roles:
            return _("The account does not have that role.")
    elif change.kind == Kind.ADD_TEAM:
        if change.team_id in target.team_ids:
            return _("The account is already in that team.")
        if Role.ADMIN in roles:
            return _("Admins belong to no team.")
    elif change.kind == Kind.REMOVE_TEAM:
        if change.team_id not in target.team_ids:
            return _("The account is not in that team.")
    elif change.kind == Kind.REACTIVATE and target.is_active:
        return _("The account is active already.")
    return None


def _audit(change: AccessChange, action: str, by: User, reason: str = "") -> None:
    record(
        action,
        actor=by,
        target_type="access",
        target_ref=change.reference,
        team_id=change.team_id,
        reason=reason,
    )


def _deciders(change: AccessChange) -> list[User]:
    """The admins, and the coordinators of the team in question (or of the account's)."""
    admins = User.objects.filter(is_active=True, groups__name=Role.ADMIN)
    team_ids = {change.team_id} if change.team_id else set(change.target.team_ids)
    coordinators = [user for users in team_coordinators(team_ids).values() for user in users]
    return [*admins, *coordinators]


def _tell(change: AccessChange, kind: str, *, besides: list[User], skip: User) -> None:
    notify(
        [user for user in [*_deciders(change), *besides] if user.pk != skip.pk],
        kind=kind,
        subject=change.reference,
    )


@transaction.atomic
def access_change_propose(
    *, target: User, by: User, kind: str, role: str = "", team: Team | None = None
) -> AccessChange:
    """Proposes one change of role or team; a second person must approve it."""
    if not account_permissions.can_propose_change(by, target, kind, team.pk if team else None):
        raise PermissionDenied
    change = AccessChange(target=target, kind=kind, role=role, team=team, proposed_by=by)
    if kind in (Kind.ADD_ROLE, Kind.REMOVE_ROLE) and not role:
        raise ValidationError(_("Choose a role."))
    if kind in (Kind.ADD_TEAM, Kind.REMOVE_TEAM) and team is None:
        raise ValidationError(_("Choose a team."))
    problem = change_problem(change)
    if problem:
        raise ValidationError(problem)
    waiting = AccessChange.objects.filter(
        target=target, kind=kind, role=role, team=team, state=State.PENDING
    )
    if waiting.exists():
        raise ValidationError(_("The same change is already waiting for a second person."))
    change.save()
    _audit(change, Action.GRANT_PROPOSED, by)
    _tell(change, ReminderKind.GRANT, besides=[], skip=by)
    return change


def access_change_approve(*, change: AccessChange, by: User) -> AccessChange:
    """The second person's yes: the change takes effect now. An attempt by someone who may
    not decide it (its proposer, the account it changes) is refused and recorded."""
    if not account_permissions.can_decide_change(by, change):
        with transaction.atomic():
            _audit(change, Action.REFUSED, by)
        raise PermissionDenied
    with transaction.atomic():
        problem = change_problem(change)
        if problem:
            raise ValidationError(problem)
        decide_once(change, by=by, state=State.APPROVED, refused=ALREADY_DECIDED)
        _apply(change, by)
        _audit(change, Action.GRANT_APPROVED, by)
        _tell(change, ReminderKind.GRANT_DECIDED, besides=[change.proposed_by], skip=by)
    return change


@transaction.atomic
def access_change_refuse(*, change: AccessChange, by: User, reason: str) -> AccessChange:
    if not account_permissions.can_decide_change(by, change):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("Say why the change is refused."))
    decide_once(change, by=by, state=State.REFUSED, refused=ALREADY_DECIDED, reason=reason.strip())
    _audit(change, Action.GRANT_REFUSED, by, reason.strip())
    _tell(change, ReminderKind.GRANT_DECIDED, besides=[change.proposed_by], skip=by)
    return change


@transaction.atomic
def access_change_withdraw(*, change: AccessChange, by: User) -> AccessChange:
    """The proposer takes a waiting change back."""
    if change.proposed_by_id != by.pk or not change.is_pending:
        raise PermissionDenied
    decide_once(change, by=by, state=State.WITHDRAWN, refused=ALREADY_DECIDED)
    _audit(change, Action.GRANT_REVOKED, by)
    return change


def _apply(change: AccessChange, by: User) -> None:
    target = change.target
    if change.kind in (Kind.ADD_ROLE, Kind.REMOVE_ROLE):
        group = Group.objects.get(name=change.role)
        if change.kind == Kind.ADD_ROLE:
            target.groups.add(group)
        else:
            target.groups.remove(group)
        if change.role == Role.ADMIN:
            # Django's admin site lets staff in; only admins are staff.
            target.is_staff = change.kind == Kind.ADD_ROLE
            target.save(update_fields=["is_staff"])
    elif change.kind in (Kind.ADD_TEAM, Kind.REMOVE_TEAM):
        team = change.team
        if team is None:
            # access_change_propose makes no team change without its team: refuse a row
            # that lost it rather than fail inside the many-to-many manager.
            raise ValidationError(_("Choose a team."))
        if change.kind == Kind.ADD_TEAM:
            target.teams.add(team)
        else:
            target.teams.remove(team)
    elif change.kind == Kind.REACTIVATE:
        User.objects.filter(pk=target.pk).update(is_active=True)
    # The account as it is now, not as this request first read it.
    fresh = User.objects.get(pk=target.pk)
    if change.kind in (Kind.REMOVE_ROLE, Kind.REMOVE_TEAM):
        member_work_revoke(member=fresh, by=by)


def member_work_revoke(*, member: User, by: User | None) -> list[str]:
    """Takes from the member every open case and route leg they may no longer work (after
    leaving a team or a role), tells the team's coordinators, and audits each case.

    Runs in the caller's transaction; returns the references of the cases changed.
    """
    cases = list(
        Case.objects.filter(Q(assignee=member) | Q(coordinator=member) | Q(legs__volunteer=member))
        .exclude(stage="closed")
        .distinct()
        .select_related("team")
        .defer("route_summary")
    )
    changed = []
    for case in cases:
        fields = []
        if case.assignee_id == member.pk and not can_work_case(member, case):
            case.assignee = None
            fields.append("assignee")
        if case.coordinator_id == member.pk and case.team_id not in member.team_ids:
            case.coordinator = None
            fields.append("coordinator")
        legs = RouteLeg.objects.filter(case=case, volunteer=member)
        lost_legs = [leg.pk for leg in legs if not is_leg_volunteer(member, case, leg)]
        if not fields and not lost_legs:
            continue
        if fields:
            case.save(update_fields=fields)
        RouteLeg.objects.filter(pk__in=lost_legs).update(volunteer=None)
        audit_case(case, by, Action.TEAM_LEFT)
        timeline_add(case, by, EventKind.ASSIGNMENT, detail="")
        changed.append(case)
    coordinators = team_coordinators({case.team_id for case in changed})
    for case in changed:
        notify(coordinators[case.team_id], kind=ReminderKind.MEMBER_LEFT, subject=case.reference)
    if changed:
        record(
            Action.TEAM_LEFT,
            actor=by,
            target_type="user",
            target_ref=str(member.pk),
            reason=f"{len(changed)} cases",
        )
    return [case.reference for case in changed]


@transaction.atomic
def member_invite(*, by: User, username: str, role: str, team: Team | None) -> tuple[User, str]:
    """A new account that its member completes with their own password and authenticator.

    The role and team are proposed, not given: a second person approves them. Returns the
    account and the invitation token, to be shown once.
    """
    if not account_permissions.can_manage_accounts(by):
        raise PermissionDenied
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("That username is taken."))
    user = User.objects.create_user(username)  # no usable password until the link is used
    token = account_services.link_issue(target=user, by=by, purpose=AccountLink.Purpose.INVITE)
    if role:
        access_change_propose(target=user, by=by, kind=Kind.ADD_ROLE, role=role)
    if team is not None:
        access_change_propose(target=user, by=by, kind=Kind.ADD_TEAM, team=team)
    return user, token
