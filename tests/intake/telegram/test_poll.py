"""Long polling (`manage.py telegram_poll`) against the fake Bot API: updates are stored as
the webhook stores them, confirmed only once stored, and a restarted poller stores nothing
twice."""

import pytest
from django.core.management import CommandError, call_command

from intake.management.commands import telegram_poll
from intake.management.commands.telegram_poll import Poller
from intake.models import Direction, IntakeRequest, Message, TelegramUpdate
from intake.replies import send_due
from tests.intake.telegram.conftest import update

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_pauses(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr(telegram_poll.time, "sleep", pauses.append)
    return pauses


def offsets(bot_api) -> list:
    return [params.get("offset") for params in bot_api.sent("getUpdates")]


def test_polling_stores_what_the_bot_was_sent_and_confirms_it(team, bot_api, no_pauses):
    bot_api.updates = [
        update("First words", update_id=10),
        update("Hi all", update_id=11, chat=-100200, chat_type="group"),
        update("Second words", update_id=12),
    ]
    poller = Poller(timeout=0)

    assert poller.round() == 3
    assert IntakeRequest.objects.count() == 1
    assert Message.objects.filter(direction=Direction.IN).count() == 2
    assert poller.round() == 0  # Telegram holds nothing after the confirmed offset
    assert offsets(bot_api) == [None, 13]
    assert bot_api.sent("getUpdates")[0]["allowed_updates"] == ["message"]
    send_due()
    assert IntakeRequest.objects.get().reference in bot_api.sent()[0]["text"]


def test_a_restarted_poller_stores_nothing_twice(team, bot_api, no_pauses):
    bot_api.updates = [update("Once", update_id=20), update("Twice?", update_id=21)]
    Poller(timeout=0).round()
    # Stopped before Telegram heard the offset: a new poller is sent the same updates.
    Poller(timeout=0).round()
    assert Message.objects.filter(direction=Direction.IN).count() == 2
    assert TelegramUpdate.objects.count() == 2


def test_the_command_takes_one_round_with_once(team, bot_api, no_pauses):
    bot_api.updates = [update("By command", update_id=30)]
    call_command("telegram_poll", "--once", "--timeout", "0")
    assert IntakeRequest.objects.count() == 1


def test_telegram_down_pauses_the_poller_and_loses_nothing(team, bot_api, settings, no_pauses):
    bot_api.updates = [update("Wait for me", update_id=40)]
    working = settings.TELEGRAM_API_BASE
    settings.TELEGRAM_API_BASE = "http://127.0.0.1:1"
    poller = Poller(timeout=0)
    assert poller.round() == 0
    assert poller.round() == 0
    assert no_pauses == [2, 4]  # longer each time in a row
    settings.TELEGRAM_API_BASE = working
    assert poller.round() == 1
    assert IntakeRequest.objects.count() == 1


def test_an_update_that_cannot_be_stored_is_not_confirmed(team, bot_api, monkeypatch, no_pauses):
    bot_api.updates = [update("Fine", update_id=50), update("Trouble", update_id=51)]
    real = telegram_poll.telegram.update_receive

    def failing(update):
        if update["update_id"] == 51:
            raise ConnectionError("database gone")
        return real(update)

    monkeypatch.setattr(telegram_poll.telegram, "update_receive", failing)
    poller = Poller(timeout=0)
    assert poller.round() == 1
    assert poller.offset == 51  # the failed one is asked for again
    monkeypatch.setattr(telegram_poll.telegram, "update_receive", real)
    assert poller.round() == 1
    assert Message.objects.filter(direction=Direction.IN).count() == 2


def test_polling_refuses_to_start_with_the_bot_off(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="TELEGRAM_BOT_TOKEN"):
        call_command("telegram_poll", "--once")


def test_the_webhook_is_set_with_the_secret_and_only_messages(bot_api, settings, capsys):
    settings.SITE_URL = "https://cases.example.org/"
    call_command("telegram_webhook", "--set")
    [params] = bot_api.sent("setWebhook")
    assert params == {
        "url": "https://cases.example.org/telegram/webhook/",
        "secret_token": settings.TELEGRAM_WEBHOOK_SECRET,
        "allowed_updates": ["message"],
    }
    assert settings.TELEGRAM_BOT_TOKEN not in capsys.readouterr().out


def test_the_webhook_is_not_set_without_a_secret_or_https(bot_api, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    with pytest.raises(CommandError, match="https"):
        call_command("telegram_webhook", "--set")
    settings.SITE_URL = "https://cases.example.org"
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("telegram_webhook", "--set")
    assert bot_api.calls == []


def test_deleting_the_webhook_keeps_the_updates_waiting(bot_api):
    call_command("telegram_webhook", "--delete")
    assert bot_api.sent("deleteWebhook") == [{"drop_pending_updates": False}]


def test_a_refusal_by_telegram_is_named_by_its_code(bot_api):
    bot_api.fail_with, bot_api.telegram_error = 401, True
    with pytest.raises(CommandError, match="telegram_401"):
        call_command("telegram_webhook", "--info")
