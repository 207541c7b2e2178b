"""A broker outage delays replies to the person and loses none.

Messages arrive through the webhook and volunteers reply while the Celery broker cannot be
reached (a closed port; the shared Redis is never stopped): the pages work, the replies wait
in their rows. Then the broker is back and beat's sender runs: every reply reaches the fake
Bot API, once. The last test does it with a real `celery worker -B` on Redis.
"""

import time
from collections import Counter

import pytest
from django.db import connection

from intake.conversations import reply_send
from intake.models import Delivery, Direction, IntakeRequest, Message
from intake.tasks import send_due_replies
from tests.casework.test_email_outage import DEAD_BROKER, broker_at, published
from tests.config.test_celery_worker import REDIS_URL, redis_reachable
from tests.config.test_reminder_worker import start_beat_worker
from tests.intake.telegram.conftest import TOKEN, post_update, update

CHATS = 20
REPLIES_PER_CHAT = 10


def expected(requests) -> Counter:
    return Counter(
        (request.reply_address, message.text)
        for request in requests
        for message in request.messages.filter(direction=Direction.OUT)
    )


def received(bot_api) -> Counter:
    return Counter((params["chat_id"], params["text"]) for params in bot_api.sent())


def talk_during_the_outage(client, volunteer) -> list[IntakeRequest]:
    """First messages through the webhook, and replies from the app, all while the broker
    refuses every connection; each page must answer as usual."""
    with broker_at(DEAD_BROKER):
        for chat in range(CHATS):
            response = post_update(client, update(f"Help {chat}", chat=900_000_000 + chat))
            assert response.status_code == 200
        requests = list(IntakeRequest.objects.order_by("pk"))
        for request in requests:
            for number in range(REPLIES_PER_CHAT):
                reply_send(request=request, by=volunteer, text=f"Reply {number} to {request}")
    return requests


@pytest.mark.django_db(transaction=True)
def test_replies_made_while_the_broker_is_down_all_go_once_it_is_back(
    client, team, volunteer, bot_api, capsys
):
    started = time.monotonic()
    requests = talk_during_the_outage(client, volunteer)
    outage_seconds = time.monotonic() - started
    waiting = Message.objects.filter(direction=Direction.OUT, state=Delivery.QUEUED)
    assert waiting.count() == CHATS * (REPLIES_PER_CHAT + 1)  # the answers to first messages too
    assert bot_api.sent() == []

    # The broker is back: beat runs the sender, a worker takes whatever is published.
    with broker_at("memory://"), published() as messages:
        send_due_replies.apply(throw=True)
        while messages:
            name, args = messages.pop(0)
            send_due_replies.app.tasks[name].apply(args=args, throw=True)
    want, got = expected(requests), received(bot_api)
    figures = {
        "replies": sum(want.values()),
        "sent": sum(got.values()),
        "lost": sum((want - got).values()),
        "duplicates": sum((got - want).values()),
    }
    with capsys.disabled():
        print(f"\nreply outage: {figures}, outage phase {outage_seconds:.1f} s")
    assert figures == {
        "replies": CHATS * (REPLIES_PER_CHAT + 1),
        "sent": CHATS * (REPLIES_PER_CHAT + 1),
        "lost": 0,
        "duplicates": 0,
    }
    assert not waiting.exists()


@pytest.mark.django_db(transaction=True)
def test_a_reply_puts_nothing_on_the_broker_but_the_senders_name(client, team, volunteer, bot_api):
    post_update(client, update("Hello"))
    request = IntakeRequest.objects.get()
    with broker_at("memory://"), published() as messages:
        reply_send(request=request, by=volunteer, text="Secret plan: the 6 am train")
    assert messages == [("intake.tasks.send_due_replies", [])]


@pytest.mark.redis
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a shared database"
)
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_replies_made_while_the_broker_was_down(
    client, team, volunteer, bot_api, tmp_path
):
    if not redis_reachable(REDIS_URL):
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    requests = talk_during_the_outage(client, volunteer)
    total = CHATS * (REPLIES_PER_CHAT + 1)
    worker = start_beat_worker(
        tmp_path,
        REPLY_SEND_SECONDS="1",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=bot_api.base,
    )
    try:
        deadline = time.monotonic() + 45
        sent = Message.objects.filter(direction=Direction.OUT, state=Delivery.SENT)
        while time.monotonic() < deadline and sent.count() < total:
            time.sleep(0.5)
        count = sent.count()
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert count == total, output[-3000:]
    assert received(bot_api) == expected(requests), output[-3000:]
    for needle in ("Reply 0 to", "fake-token", "900000000"):
        assert needle not in output
