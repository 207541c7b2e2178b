"""Celery tasks: ids in, rows looked up, nothing done twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casework import reminders, retention
from casework.models import Notification


@shared_task(name="casework.tasks.dispatch_reminders")
def dispatch_reminders() -> int:
    """Run by beat every minute; see casework.reminders.dispatch_due."""
    return len(reminders.dispatch_due())


@shared_task(name="casework.tasks.purge_expired_cases")
def purge_expired_cases() -> int:
    """Run by beat every night; see casework.retention. Running it twice purges nothing twice."""
    return retention.purge_expired_cases()


@shared_task(name="casework.tasks.worker_heartbeat")
def worker_heartbeat() -> None:
    reminders.heartbeat("worker")


@shared_task(
    name="casework.tasks.notification_email",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def notification_email(notification_id: int) -> bool:
    """E-mails one notification: a reference and a link, nothing about the person.

    The row is locked while sending and marked in the same transaction, so a retry after a
    crash finds it either marked (and does nothing) or not (and sends). The one gap is a
    crash between the mail server accepting and the commit: then the copy goes twice,
    which is the side we prefer to err on for an alarm.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        user = notification.user
        if not (user.is_active and user.email_notifications and user.notification_email):
            return False
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = _("[SP] Reminder: %(reference)s") % {"reference": notification.subject}
            if notification.urgent:
                subject = _("[SP] URGENT: %(reference)s") % {"reference": notification.subject}
            body = _("Open the inbox to see what is due: %(link)s") % {
                "link": settings.SITE_URL.rstrip("/") + reverse("casework:inbox")
            }
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.notification_email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True
