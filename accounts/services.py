"""Actions on accounts. Each takes the acting user and checks its own permission."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from accounts import permissions
from accounts.models import AccountLink, AuthenticatorDevice, BackupCodeDevice, Team, User
from accounts.second_factor import devices_remove
from audit.log import record
from audit.models import Action


def audit_account(action: str, *, target: User, by: User | None) -> None:
    """An account event in the chain: the account by its id, never by anything else."""
    record(action, actor=by, target_type="user", target_ref=str(target.pk))


def sign_in_completed(*, user: User) -> None:
    """Password and code both accepted: the sign-in before this one becomes the previous
    one ("since your last shift"). One UPDATE, which reads the old value on any database."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(previous_login=F("signed_in_at"), signed_in_at=now)
    user.previous_login, user.signed_in_at = user.signed_in_at, now


def sessions_end_all(*, target: User, by: User) -> None:
    """Logs the user out everywhere: every session they hold stops authenticating."""
    if not permissions.can_end_sessions(by, target):
        raise PermissionDenied
    with transaction.atomic():
        _bump_session_generation(target)
        audit_account(Action.SESSIONS_ENDED, target=target, by=by)


def second_factor_reset(*, target: User, by: User) -> None:
    """Removes the user's authenticator and backup codes and ends all their sessions.

    At their next login they must enrol a new authenticator.
    """
    if not permissions.can_reset_second_factor(by, target):
        raise PermissionDenied
    with transaction.atomic():
        devices_remove(user=target)
        _bump_session_generation(target)
        audit_account(Action.DEVICE_RESET, target=target, by=by)


def _bump_session_generation(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def password_change(*, user: User, new_password: str) -> None:
    """The user's own new password; every other session of theirs ends with the old hash."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_account(Action.PASSWORD_CHANGED, target=user, by=user)


def profile_save(*, form, by: User) -> None:
    """Language and e-mail copies; a changed address is an event in the chain."""
    with transaction.atomic():
        changed_email = form.changes_email
        form.save()
        if changed_email:
            audit_account(Action.ACCOUNT_CHANGED, target=by, by=by)


LINK_SPENT = _lazy("This link does not work any more: it was used, or it expired. Ask for another.")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "ignore")).hexdigest()


def link_issue(*, target: User, by: User, purpose: str) -> str:
    """A single-use link for the member to choose a password (and enrol again); returns the
    token, shown once. Earlier unused links of the member stop working. A reset also makes
    the old password and second factor unusable and ends every session at once."""
    with transaction.atomic():
        AccountLink.objects.filter(user=target, used_at__isnull=True).delete()
        token = secrets.token_urlsafe(32)
        AccountLink.objects.create(
            user=target,
            purpose=purpose,
            digest=_token_digest(token),
            created_by=by,
            expires_at=timezone.now() + timedelta(hours=settings.ACCOUNT_LINK_HOURS),
        )
        if purpose == AccountLink.Purpose.RESET:
            target.set_unusable_password()
            target.save(update_fields=["password"])
            devices_remove(user=target)
            _bump_session_generation(target)
        invite = purpose == AccountLink.Purpose.INVITE
        audit_account(
            Action.MEMBER_INVITED if invite else Action.PASSWORD_RESET, target=target, by=by
        )
    return token


def password_reset_issue(*, target: User, by: User) -> str:
    if not permissions.can_issue_link(by, target):
        raise PermissionDenied
    return link_issue(target=target, by=by, purpose=AccountLink.Purpose.RESET)


def link_for(token: str) -> AccountLink | None:
    """The live link this token opens, or None: unknown, used and expired look alike."""
    return (
        AccountLink.objects.select_related("user")
        .filter(
            digest=_token_digest(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )


def link_use(*, token: str, new_password: str) -> User:
    """Sets the password the member chose and spends the link; they enrol an authenticator
    at once (any earlier one is gone). A second use, a race included, finds it spent."""
    with transaction.atomic():
        link = link_for(token)
        if link is None or not AccountLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        ):
            raise ValidationError(LINK_SPENT)
        user = link.user
        user.set_password(new_password)
        user.save(update_fields=["password"])
        devices_remove(user=user)
        _bump_session_generation(user)
        invited = link.purpose == AccountLink.Purpose.INVITE
        audit_account(
            Action.INVITE_COMPLETED if invited else Action.PASSWORD_CHANGED, target=user, by=user
        )
    return user


def member_deactivate(*, target: User, by: User) -> None:
    """Locks the account out for good: it cannot sign in, and every session ends."""
    if not permissions.can_deactivate(by, target):
        raise PermissionDenied
    with transaction.atomic():
        User.objects.filter(pk=target.pk).update(is_active=False)
        target.is_active = False
        _bump_session_generation(target)
        audit_account(Action.ACCOUNT_DEACTIVATED, target=target, by=by)


def lockout_clear(*, target: User, by: User) -> int:
    """Forgets the failed sign-ins that lock the member out (from every address), and the
    wrong codes that make their authenticator wait."""
    from axes.models import AccessAttempt

    if not permissions.can_unlock(by, target):
        raise PermissionDenied
    with transaction.atomic():
        cleared, _kinds = AccessAttempt.objects.filter(username=target.username).delete()
        for device_model in (AuthenticatorDevice, BackupCodeDevice):
            device_model.objects.filter(user=target).update(
                throttling_failure_count=0, throttling_failure_timestamp=None
            )
        audit_account(Action.LOCKOUT_CLEARED, target=target, by=by)
    return cleared


def team_create(*, name: str, by: User) -> Team:
    """A new team, with nobody in it: membership is a change two people make."""
    if not permissions.can_manage_accounts(by):
        raise PermissionDenied
    with transaction.atomic():
        team = Team.objects.create(name=name)
        record(Action.ACCOUNT_CHANGED, actor=by, target_type="team", target_ref=str(team.pk))
    return team
