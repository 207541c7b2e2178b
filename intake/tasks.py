"""Celery tasks of intake: nothing carried but ids, nothing done twice."""

from celery import shared_task

from intake import retention


@shared_task(name="intake.tasks.purge_expired_requests")
def purge_expired_requests() -> int:
    """Run by beat every night; see intake.retention."""
    return retention.purge_expired_requests()
