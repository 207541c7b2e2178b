"""Volume at triage: the queue shows each request's channel and age, says how many the rate
limits hold, and marks a possible flood, which volunteers review and reject together, with
a reason, through the real views."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from intake.conversations import conversation_receive
from intake.models import Channel, IntakeRequest, TriageState
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

QUEUE = reverse("intake:queue")
FLOOD = reverse("intake:flood")
SPAM = "Free visas to Georgia! Write to @not_a_real_helper for the route."


@pytest.fixture(autouse=True)
def _channels_bring_to_north(settings, team):
    settings.CHANNEL_TEAM = team.name


def chat(text, address="700100200", **extra):
    return conversation_receive(channel=Channel.TELEGRAM, address=address, text=text, **extra)


def queue_rows(client) -> dict[str, str]:
    page = client.get(QUEUE).content.decode()
    return {
        match.group(1): row
        for row in page.split("<tr>")[2:]
        if (match := re.search(r"(R-\d{4}-\d{5})", row))
    }


def test_the_queue_shows_each_requests_channel_and_age(team, volunteer):
    telegram = chat("From the bot", received_at=timezone.now() - timedelta(hours=3)).request
    web = conversation_receive(
        channel=Channel.WEB_FORM, address="form-1", text="From the form", source="198.51.100.7"
    ).request
    rows = queue_rows(verified_client(volunteer))
    assert "Telegram" in rows[telegram.reference] and "3\xa0hours" in rows[telegram.reference]
    assert "Web form" in rows[web.reference] and "0\xa0minutes" in rows[web.reference]


def test_the_queue_says_how_many_are_held(team, volunteer, settings):
    settings.VOLUME_ALL_REQUESTS = 1
    for number in range(4):
        chat(f"Request {number}", address=f"chat-{number}")
    page = verified_client(volunteer).get(QUEUE).content.decode()
    assert "3 requests are held by the rate limits" in page
    assert len(queue_rows(verified_client(volunteer))) == 1


@pytest.fixture
def flood(team, settings):
    settings.VOLUME_FLOOD_ADDRESSES = 10
    return [chat(SPAM, address=f"chat-{n}").request for n in range(12)]


def test_the_queue_marks_a_flood_and_leads_to_its_review(flood, volunteer, team):
    real = chat("Please, I need help leaving.", address="chat-real").request
    client = verified_client(volunteer)
    rows = queue_rows(client)
    assert all("possible flood" in rows[request.reference] for request in flood)
    assert "possible flood" not in rows[real.reference]
    page = client.get(QUEUE).content.decode()
    assert "12 requests are marked as a possible flood" in page
    assert f'href="{FLOOD}"' in page


def test_a_flood_is_reviewed_and_rejected_together_with_a_reason(flood, volunteer, team):
    client = verified_client(volunteer)
    page = client.get(FLOOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "12 requests with this text" in html
    assert "Free visas to Georgia!" in html
    # The text is read from one request: that read is audited.
    viewed = AccessEvent.objects.filter(action=Action.REQUEST_VIEWED, actor=volunteer)
    assert viewed.count() == 1

    keep = flood[0].reference
    chosen = [request.reference for request in flood[1:]]
    refused = client.post(FLOOD, {"requests": chosen, "reason": " "})
    assert refused.status_code == 400
    assert "Give a reason for rejecting the request." in refused.content.decode()
    assert not IntakeRequest.objects.filter(state=TriageState.REJECTED).exists()

    done = client.post(FLOOD, {"requests": chosen, "reason": "The same spam from 12 chats"})
    assert done.status_code == 302
    rejected = IntakeRequest.objects.filter(state=TriageState.REJECTED)
    assert set(rejected.values_list("reference", flat=True)) == set(chosen)
    assert rejected.first().rejection_reason == "The same spam from 12 chats"
    triaged = AccessEvent.objects.filter(action=Action.REQUEST_TRIAGED, actor=volunteer)
    assert triaged.count() == 11
    assert IntakeRequest.objects.get(reference=keep).state == TriageState.NEW
    assert "11 requests rejected." in client.get(FLOOD).content.decode()


def test_only_listed_requests_can_be_rejected_in_bulk(flood, volunteer, team, coordinator):
    other = chat("A real request, not a flood.", address="chat-real").request
    client = verified_client(volunteer)
    answer = client.post(FLOOD, {"requests": [other.reference], "reason": "Spam"})
    assert answer.status_code == 400
    other.refresh_from_db()
    assert other.state == TriageState.NEW


def test_another_team_sees_no_flood_and_an_admin_is_refused(
    flood, other_volunteer, admin_client_verified
):
    client = verified_client(other_volunteer)
    assert "No waiting request is marked" in client.get(FLOOD).content.decode()
    references = [request.reference for request in flood]
    assert client.post(FLOOD, {"requests": references, "reason": "x"}).status_code == 400
    assert admin_client_verified.get(FLOOD).status_code == 403
    assert not IntakeRequest.objects.filter(state=TriageState.REJECTED).exists()


def test_the_request_page_marks_a_possible_flood(flood, volunteer):
    page = verified_client(volunteer).get(reverse("intake:detail", args=[flood[0].reference]))
    assert "possible flood" in page.content.decode()
