"""Celery tasks: ids in, rows looked up, nothing done twice."""

from celery import shared_task

from casework import emails, scheduling
from casework.services import retention


@shared_task(name="casework.tasks.dispatch_reminders")
def dispatch_reminders() -> int:
    """Run by beat every minute; see casework.scheduling.dispatch_due."""
    return len(scheduling.dispatch_due())


@shared_task(name="casework.tasks.purge_expired_cases")
def purge_expired_cases() -> int:
    """Run by beat every night; see casework.services.retention. Running it twice purges
    nothing twice."""
    return retention.purge_expired_cases()


@shared_task(name="casework.tasks.worker_heartbeat")
def worker_heartbeat() -> None:
    scheduling.heartbeat("worker")


@shared_task(name="casework.tasks.send_due_emails")
def send_due_emails() -> int:
    """Run by beat every EMAIL_SEND_SECONDS; see casework.emails. Takes no arguments: what
    is due is in the rows, so a lost or repeated message loses or repeats nothing."""
    return emails.send_due()
