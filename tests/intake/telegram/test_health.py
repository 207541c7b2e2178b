"""The admins' health page counts what the bot and the reply sender did, and nothing else:
no text, no chat, no contact."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.conversations import reply_send
from intake.models import IntakeRequest, Message
from intake.replies import send_due
from tests.dashboard.test_dashboard import fact
from tests.intake.telegram.conftest import post_update, update

pytestmark = pytest.mark.django_db


def health(client) -> str:
    response = client.get(reverse("dashboard:health"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_health_page_counts_the_bots_day_and_the_replies_stuck(
    client, team, volunteer, admin_client_verified, bot_api
):
    post_update(client, update("Qzhealth words", username="qzhealthfox"))
    post_update(client, update("Qzhealth again"))
    post_update(client, update("Hi all", chat=-100200, chat_type="group"))
    post_update(client, update("Forged"), secret="not-the-secret")
    send_due()  # the answer to the first message goes
    request = IntakeRequest.objects.get()
    late = reply_send(request=request, by=volunteer, text="Waiting for Telegram")
    Message.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    failed = reply_send(request=request, by=volunteer, text="Blocked")
    bot_api.fail_with, bot_api.telegram_error = 403, True
    Message.objects.filter(pk=late.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    send_due()

    html = health(admin_client_verified)
    assert fact(html, "Telegram messages stored \\(24 hours\\)") == "2"
    assert fact(html, "Telegram updates not stored \\(24 hours\\)") == "1"
    assert fact(html, "Forged Telegram webhook calls refused \\(24 hours\\)") == "1"
    assert fact(html, "Replies to people not sent after 15 minutes") == "1"
    assert fact(html, "Replies to people given up on") == "1"
    assert Message.objects.get(pk=failed.pk).error == "telegram_403"
    for needle in ("Qzhealth", "qzhealthfox", "700100200", request.reference):
        assert needle not in html


def test_without_the_bot_the_page_says_nothing_of_telegram(admin_client_verified, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    html = health(admin_client_verified)
    assert "Telegram" not in html
    assert fact(html, "Replies to people given up on") == "0"
