"""The sender of replies to the person, for every channel: a state on each reply row, sent by
a periodic task.

A reply is queued as a row (intake.conversations.reply_send, or the bot's own answer to a
first message) and sent by `send_due`, which beat runs every REPLY_SEND_SECONDS and which a
new reply asks a worker to run at once (intake.replies.send_soon). The broker
carries no ids and no text: while it is down, replies wait in their rows and go when the
sender runs again.

Each reply is claimed just before it goes, by a conditional UPDATE that counts the try and
moves its next try on by the back-off: two senders at once never both take it, and one that
dies mid-send leaves it to be sent again when that time comes (at least once: a reply sent
twice is better than one lost). How it goes depends on the request's channel:

- Telegram: the Bot API's sendMessage to the chat (the request's reply address); Telegram's
  id of the message sent is kept, to find it again. Waits, untried, while the bot is off.
- the public form: nothing to push; the person reads it with their passphrase. Sent at once.

A failure is recorded by a code (Telegram's error code, an exception's class), never a text.
"""

import logging
import time
from datetime import timedelta

from celery import current_app
from django.db.models import Count, Q
from django.utils import timezone

from intake.channels import bot_api
from intake.models import Channel, Delivery, Direction, Message

log = logging.getLogger(__name__)

# A reply refused this many times is given up on (FAILED), and its page says so.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=30)
BATCH = 100
# A run stops taking new replies after this long, so it never holds a worker for minutes;
# the next run goes on where it stopped.
RUN_SECONDS = 20

# Replies still waiting this long after they were written show as late on the health page.
LATE_AFTER = timedelta(minutes=15)

# Why a reply was given up on without a try: its request's personal data was purged (the
# address with it), or its channel is one the app cannot answer through.
PURGED = "purged"
NO_CHANNEL = "no_channel"


def backoff(attempts: int) -> timedelta:
    """How long after its n-th try a reply is tried again: 30 s, 1, 2, 4 … min, at most 30."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 10), LONGEST_RETRY)


def send_due() -> int:
    """Sends the replies that are due, oldest first; returns how many went.

    A channel that fails for a reason of its own (Telegram down or unreachable, too many
    messages) is left alone for the rest of the run; the other channels go on."""
    started = time.monotonic()
    resting: set[str] = set()
    sent = 0
    while time.monotonic() - started < RUN_SECONDS:
        batch = _due(timezone.now(), resting)
        if not batch:
            break
        for message in batch:
            if time.monotonic() - started >= RUN_SECONDS:
                return sent
            channel = message.request.channel
            if channel in resting:
                continue
            outcome = _send_one(message)
            if outcome is None:
                resting.add(channel)
            else:
                sent += outcome
    return sent


def _due(now, resting: set[str]) -> list[Message]:
    waiting = set(resting)
    if not bot_api.is_on():
        waiting.add(Channel.TELEGRAM)  # no bot, no try: they wait for one
    return list(
        Message.objects.filter(
            direction=Direction.OUT, state=Delivery.QUEUED, next_attempt_at__lte=now
        )
        .exclude(request__channel__in=waiting)
        .select_related("request")
        .only(
            "seal",  # what the encrypted text is checked against (privacy.seal)
            "text",
            "attempts",
            "request__seal",
            "request__channel",
            "request__reply_address",
            "request__purged_at",
        )
        .order_by("next_attempt_at", "pk")[:BATCH]
    )


def _send_one(message: Message) -> int | None:
    """1 if this reply went, 0 if not (taken by another sender, or given up on), None if its
    channel failed and should rest for the rest of the run."""
    mine = Message.objects.filter(pk=message.pk, state=Delivery.QUEUED)
    tried = message.attempts + 1
    # The try is counted, and the next one scheduled, before the reply goes: a sender that
    # dies mid-send leaves it due again then, not lost. The count doubles as a version, so
    # of two senders holding the same row only one updates it.
    claimed = mine.filter(attempts=message.attempts).update(
        attempts=tried, next_attempt_at=timezone.now() + backoff(tried)
    )
    if not claimed:
        return 0
    request = message.request
    if request.purged_at is not None or not request.reply_address or not message.text:
        mine.update(state=Delivery.FAILED, error=PURGED, next_attempt_at=None)
        return 0
    if request.channel == Channel.WEB_FORM:
        _sent(mine)
        return 1
    if request.channel != Channel.TELEGRAM:
        mine.update(state=Delivery.FAILED, error=NO_CHANNEL, next_attempt_at=None)
        return 0
    try:
        external_id = bot_api.send_message(request.reply_address, message.text)
    except bot_api.BotOff:
        # Turned off between the query and the try: not a try.
        mine.update(attempts=message.attempts, next_attempt_at=timezone.now())
        return None
    except bot_api.BotFailure as error:
        return _failed(message.pk, tried, error)
    _sent(mine, external_id=external_id[:32])
    return 1


def _sent(mine, external_id: str = "") -> None:
    mine.update(
        state=Delivery.SENT,
        sent_at=timezone.now(),
        external_id=external_id,
        error="",
        next_attempt_at=None,
    )


def _failed(pk: int, tried: int, error: bot_api.BotFailure) -> int | None:
    """Records the failure by its code; a refusal for this chat (blocked, gone) gives up on
    the reply at once, anything else waits for the back-off and rests the channel."""
    mine = Message.objects.filter(pk=pk, state=Delivery.QUEUED)
    if error.permanent or tried >= MAX_ATTEMPTS:
        mine.update(state=Delivery.FAILED, error=error.code, next_attempt_at=None)
        log.warning("reply %s not delivered, try %s (%s): given up", pk, tried, error.code)
        return 0
    fields: dict = {"error": error.code}
    if error.retry_after:
        # Telegram said when: not before, and not much later.
        fields["next_attempt_at"] = timezone.now() + timedelta(seconds=error.retry_after)
    mine.update(**fields)
    log.warning("reply %s not delivered, try %s (%s): will try again", pk, tried, error.code)
    return None


def reply_counts(now=None) -> dict[str, int]:
    """For the admins' health page: replies waiting longer than LATE_AFTER, and replies
    given up on (counts only)."""
    now = now or timezone.now()
    return Message.objects.filter(
        direction=Direction.OUT, state__in=[Delivery.QUEUED, Delivery.FAILED]
    ).aggregate(
        replies_late=Count("pk", filter=Q(state=Delivery.QUEUED, created_at__lt=now - LATE_AFTER)),
        replies_failed=Count("pk", filter=Q(state=Delivery.FAILED)),
    )


# Run by beat, and asked for by send_soon.
SEND_TASK = "intake.tasks.send_due_replies"


def send_soon() -> None:
    """Asks a worker to send the due replies now rather than at beat's next run; called once
    a reply is committed (transaction.on_commit). A broker that cannot be reached only
    delays the reply to that run, and the page that queued it works all the same. The task
    is named, not imported: intake.tasks imports this module."""
    app = current_app
    if app.conf.task_always_eager:
        send_due()
        return
    try:
        # One try to connect, on a connection of its own: the app's pooled connections wait
        # out a broker outage however long it lasts (CELERY_BROKER_CONNECTION_MAX_RETRIES),
        # which is right for a worker and would hold the page for ever.
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            producer = app.amqp.Producer(connection)
            app.send_task(SEND_TASK, producer=producer, retry=False)
    except Exception as error:  # kombu's, redis's and the socket's own errors alike
        log.warning("replies wait for beat: the broker refused the task (%s)", type(error).__name__)
