"""Django's sign-in signals feed the audit log (the only signal receivers we keep)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import User
from audit.log import record
from audit.models import Action


@receiver(user_logged_in, dispatch_uid="audit_login")
def on_login(sender, request, user, **kwargs):
    record(Action.LOGIN, actor=user, target_type="user", target_ref=str(user.pk))


@receiver(user_logged_out, dispatch_uid="audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, actor=user, target_type="user", target_ref=str(user.pk))


# Who sent the failure says which step failed; anything else is a wrong password.
FAILURE_ACTIONS = {
    "accounts.views": Action.SECOND_FACTOR_FAILED,
    "accounts.step_up": Action.STEP_UP_FAILED,
}


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The typed username is kept only when it names an account: a password typed into the
    # username field must not end up in the log.
    user = User.objects.filter(username=credentials.get("username", "")).first()
    action = FAILURE_ACTIONS.get(sender, Action.LOGIN_FAILED)
    record(action, actor=user, target_type="user", target_ref=str(user.pk) if user else "")


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    user = User.objects.filter(username=username or "").first()
    record(
        Action.LOCKED_OUT, actor=user, target_type="user", target_ref=str(user.pk) if user else ""
    )
