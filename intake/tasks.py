"""Celery tasks of intake: nothing carried but ids, nothing done twice."""

from celery import shared_task

from intake import conversations, replies, retention


@shared_task(name="intake.tasks.purge_expired_requests")
def purge_expired_requests() -> int:
    """Run by beat every night; see intake.retention."""
    return retention.purge_expired_requests()


@shared_task(name="intake.tasks.release_held")
def release_held() -> int:
    """Run by beat every VOLUME_RELEASE_SECONDS; see intake.conversations.held_release."""
    released = conversations.held_release()
    return released.requests + released.messages


@shared_task(name="intake.tasks.send_due_replies")
def send_due_replies() -> int:
    """Run by beat every REPLY_SEND_SECONDS, and asked for when a reply is queued
    (intake.replies.send_soon); see intake.replies. Takes no arguments: what is due is in the rows,
    so a lost or repeated message loses or repeats nothing."""
    return replies.send_due()


@shared_task(name="intake.tasks.prune_telegram_updates")
def prune_telegram_updates() -> int:
    """Run by beat every night while the bot is on; see intake.retention."""
    return retention.telegram_updates_prune()
