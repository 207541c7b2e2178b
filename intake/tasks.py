"""Celery tasks of intake: nothing carried but ids, nothing done twice."""

from celery import shared_task

from intake import conversations, retention


@shared_task(name="intake.tasks.purge_expired_requests")
def purge_expired_requests() -> int:
    """Run by beat every night; see intake.retention."""
    return retention.purge_expired_requests()


@shared_task(name="intake.tasks.release_held")
def release_held() -> int:
    """Run by beat every VOLUME_RELEASE_SECONDS; see intake.conversations.held_release."""
    released = conversations.held_release()
    return released.requests + released.messages
