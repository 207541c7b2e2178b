import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.purge_expired_lockouts")
def purge_expired_lockouts() -> int:
    """Forgets failed-login records (username, address, browser) once the lock-out window ends."""
    from axes.models import AccessAttempt

    cutoff = timezone.now() - settings.AXES_COOLOFF_TIME
    deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    return deleted


@shared_task(name="accounts.tasks.email_audit_checkpoint")
def email_audit_checkpoint() -> int:
    """Daily: writes an audit checkpoint and e-mails it to every active admin who receives
    e-mail, a copy outside the server that nobody there can take back (audit/checkpoints.py).
    Returns how many were sent. One address the mail server refuses costs only its own copy:
    otherwise the admins after it would never get one, day after day."""
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from accounts.models import User
    from accounts.roles import Role
    from audit import log

    checkpoint = log.checkpoint()
    if checkpoint is None:
        return 0
    admins = User.objects.filter(
        is_active=True, groups__name=Role.ADMIN, email_notifications=True
    ).order_by("pk")
    sent = 0
    for admin in admins:
        if not admin.notification_email:
            continue
        try:
            with translation.override(admin.language or settings.LANGUAGE_CODE):
                sent += send_mail(
                    subject=_("Audit checkpoint #%(seq)s") % {"seq": checkpoint.seq},
                    message=_(
                        "The audit log's head: event #%(seq)s, link %(link)s, at %(at)s.\n\n"
                        "Keep this e-mail where the server cannot reach it. If the log is ever "
                        "cut short or rewritten, an admin running\n"
                        "python manage.py verify_audit --checkpoint %(seq)s:%(link)s\n"
                        "is told so."
                    )
                    % {"seq": checkpoint.seq, "link": checkpoint.link, "at": checkpoint.at},
                    from_email=None,
                    recipient_list=[admin.notification_email],
                )
        except OSError as error:  # smtplib's errors too; by class, never the address
            logger.warning("audit checkpoint e-mail not sent (%s)", type(error).__name__)
    return sent
