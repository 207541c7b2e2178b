"""Celery tasks of intake: nothing carried but ids, nothing done twice."""

import logging

from celery import shared_task

from intake import conversations, replies, retention

log = logging.getLogger(__name__)


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
    (send_due_replies_soon); see intake.replies. Takes no arguments: what is due is in the rows,
    so a lost or repeated message loses or repeats nothing."""
    return replies.send_due()


def send_due_replies_soon() -> None:
    """Asks a worker to send the due replies now rather than at beat's next run; called once
    a reply is committed (transaction.on_commit). A broker that cannot be reached only
    delays the reply to that run, and the page that queued it works all the same."""
    app = send_due_replies.app
    if app.conf.task_always_eager:
        send_due_replies.apply()
        return
    try:
        # One try to connect, on a connection of its own: the app's pooled connections wait
        # out a broker outage however long it lasts (CELERY_BROKER_CONNECTION_MAX_RETRIES),
        # which is right for a worker and would hold the page for ever.
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            producer = app.amqp.Producer(connection)
            send_due_replies.apply_async(producer=producer, retry=False)
    except Exception as error:  # kombu's, redis's and the socket's own errors alike
        log.warning("replies wait for beat: the broker refused the task (%s)", type(error).__name__)


@shared_task(name="intake.tasks.prune_telegram_updates")
def prune_telegram_updates() -> int:
    """Run by beat every night while the bot is on; see intake.retention."""
    return retention.telegram_updates_prune()
