"""Replies from the app reach the person: through the fake Bot API for Telegram, at once for
the public form; a bot that is down, refuses or throttles delays a reply, never loses it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework.models import CaseEvent, EventKind
from intake import replies
from intake.conversations import conversation_receive, reply_send
from intake.models import Channel, Delivery, IntakeRequest, Message
from intake.replies import MAX_ATTEMPTS, send_due
from intake.services import intake_accept
from tests.intake.telegram.conftest import post_update, update

pytestmark = pytest.mark.django_db

CHAT = "700100200"


@pytest.fixture
def request_(client, team, bot_api):
    """A request the bot opened, its answer already sent."""
    post_update(client, update("I need to leave the country."))
    send_due()
    bot_api.calls.clear()
    return IntakeRequest.objects.get()


def due_now() -> None:
    """The back-off has passed."""
    Message.objects.filter(state=Delivery.QUEUED).update(next_attempt_at=timezone.now())


def reply(request, by, text="We read you. Stay where you are tonight.") -> Message:
    return reply_send(request=IntakeRequest.objects.get(pk=request.pk), by=by, text=text)


def test_a_reply_from_the_case_reaches_the_person(request_, coordinator, volunteer, bot_api):
    case = intake_accept(request=request_, by=coordinator)
    message = reply(request_, coordinator, "Stay where you are tonight; we call at nine.")

    assert send_due() == 1
    assert bot_api.sent() == [
        {"chat_id": CHAT, "text": "Stay where you are tonight; we call at nine."}
    ]
    message.refresh_from_db()
    assert message.state == Delivery.SENT
    assert message.sent_at is not None
    assert message.external_id == "9002"
    assert message.attempts == 1
    assert message.sent_by == coordinator
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE, actor=coordinator).exists()
    assert send_due() == 0  # nothing twice
    assert len(bot_api.sent()) == 1


def test_a_reply_goes_at_once_when_a_worker_is_free(
    request_, volunteer, bot_api, eager_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(request_, volunteer)
    message.refresh_from_db()
    assert message.state == Delivery.SENT
    assert len(bot_api.sent()) == 1


def test_telegram_in_trouble_keeps_the_reply_queued_and_counts_the_try(
    request_, volunteer, bot_api
):
    message = reply(request_, volunteer)
    bot_api.fail_with = 500

    assert send_due() == 0
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error) == (Delivery.QUEUED, 1, "telegram_500")
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert send_due() == 0  # not due again yet
    assert len(bot_api.sent()) == 1

    bot_api.fail_with = None
    due_now()
    assert send_due() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error) == (Delivery.SENT, 2, "")
    assert len(bot_api.sent()) == 2  # the failed try and the one that went


def test_telegram_unreachable_keeps_the_reply_queued_then_it_goes(
    request_, volunteer, bot_api, settings
):
    message = reply(request_, volunteer)
    working = settings.TELEGRAM_API_BASE
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:1"  # nothing listens: connection refused

    assert send_due() == 0
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error) == (
        Delivery.QUEUED,
        1,
        "ConnectionRefusedError",
    )
    settings.TELEGRAM_API_BASE = working
    due_now()
    assert send_due() == 1
    message.refresh_from_db()
    assert message.state == Delivery.SENT


def test_a_bot_that_stopped_answering_rests_for_the_run_and_spares_the_other_replies(
    request_, volunteer, bot_api, settings
):
    for n in range(5):
        reply(request_, volunteer, f"Reply {n}")
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:1"
    assert send_due() == 0
    # One try, then the channel rests: the others were not tried, nor their tries counted.
    tries = Message.objects.filter(sent_by=volunteer).values_list("attempts", flat=True)
    assert sorted(tries) == [0, 0, 0, 0, 1]


def test_a_person_who_blocked_the_bot_fails_at_once_with_its_code(request_, volunteer, bot_api):
    message = reply(request_, volunteer)
    bot_api.fail_with, bot_api.telegram_error = 403, True

    send_due()
    message.refresh_from_db()
    assert (message.state, message.error) == (Delivery.FAILED, "telegram_403")
    assert message.next_attempt_at is None


def test_too_many_messages_waits_as_long_as_telegram_says(request_, volunteer, bot_api):
    message = reply(request_, volunteer)
    bot_api.fail_with, bot_api.telegram_error, bot_api.retry_after = 429, True, 600

    send_due()
    message.refresh_from_db()
    assert (message.state, message.error) == (Delivery.QUEUED, "telegram_429")
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=590)


def test_a_reply_that_keeps_failing_is_given_up_after_the_last_try(request_, volunteer, bot_api):
    message = reply(request_, volunteer)
    bot_api.fail_with = 502
    for _ in range(MAX_ATTEMPTS):
        due_now()
        send_due()
    message.refresh_from_db()
    assert (message.state, message.attempts, message.error) == (
        Delivery.FAILED,
        MAX_ATTEMPTS,
        "telegram_502",
    )
    due_now()
    send_due()
    assert len(bot_api.sent()) == MAX_ATTEMPTS


def test_a_reply_to_a_request_purged_before_it_went_fails_with_a_clear_code(
    request_, coordinator, bot_api
):
    message = reply(request_, coordinator)
    IntakeRequest.objects.filter(pk=request_.pk).purge(timezone.now())

    assert send_due() == 0
    message.refresh_from_db()
    assert (message.state, message.error) == (Delivery.FAILED, replies.PURGED)
    assert bot_api.calls == []


def test_replies_wait_untried_while_the_bot_is_off(request_, volunteer, bot_api, settings):
    message = reply(request_, volunteer)
    settings.TELEGRAM_BOT_TOKEN = ""

    assert send_due() == 0
    message.refresh_from_db()
    assert (message.state, message.attempts) == (Delivery.QUEUED, 0)

    settings.TELEGRAM_BOT_TOKEN = "123456:fake-token-for-tests"
    assert send_due() == 1


def test_a_reply_on_the_public_form_is_sent_at_once_with_no_call_anywhere(team, volunteer, bot_api):
    received = conversation_receive(
        channel=Channel.WEB_FORM, address="form-request-1", text="Please write back"
    )
    message = reply_send(request=received.request, by=volunteer, text="We will.")

    assert send_due() == 1
    message.refresh_from_db()
    assert message.state == Delivery.SENT
    assert message.read_at is None
    assert bot_api.calls == []


def test_of_two_senders_holding_the_same_reply_only_one_sends_it(request_, volunteer, bot_api):
    reply(request_, volunteer)
    [first] = replies._due(timezone.now(), set())
    [second] = replies._due(timezone.now(), set())

    assert replies._send_one(first) == 1
    assert replies._send_one(second) == 0
    assert len(bot_api.sent()) == 1
