"""Actions on accounts. Each takes the acting user and checks its own permission."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from accounts import permissions
from accounts.models import User
from accounts.second_factor import devices_remove
from audit.log import record
from audit.models import Action


def sessions_end_all(*, target: User, by: User) -> None:
    """Logs the user out everywhere: every session they hold stops authenticating."""
    if not permissions.can_end_sessions(by, target):
        raise PermissionDenied
    with transaction.atomic():
        _bump_session_generation(target)
        record(Action.SESSIONS_ENDED, actor=by, target_type="user", target_ref=str(target.pk))


def second_factor_reset(*, target: User, by: User) -> None:
    """Removes the user's authenticator and backup codes and ends all their sessions.

    At their next login they must enrol a new authenticator.
    """
    if not permissions.can_reset_second_factor(by, target):
        raise PermissionDenied
    with transaction.atomic():
        devices_remove(user=target)
        _bump_session_generation(target)
        record(Action.DEVICE_RESET, actor=by, target_type="user", target_ref=str(target.pk))


def _bump_session_generation(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
