"""Volume: what the channels bring is never refused or lost. Over a rate limit it is stored
and held, and the release task lets it in at the allowed rate, oldest first; the same text
from many chats is marked as a possible flood, which triage rejects together."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework.models import CaseEvent, EventKind, Reminder, ReminderKind
from intake import volume
from intake.conversations import conversation_receive, held_release
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message, TriageState
from intake.services import intake_accept
from intake.tasks import release_held
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

QUEUE = reverse("intake:queue")
SPAM = "Free visas to Georgia! Write to @not_a_real_helper for the route."


@pytest.fixture(autouse=True)
def _channels_bring_to_north(settings, team):
    settings.CHANNEL_TEAM = team.name


def chat(text, address="700100200", **extra):
    return conversation_receive(channel=Channel.TELEGRAM, address=address, text=text, **extra)


def form(text, address, source):
    return conversation_receive(channel=Channel.WEB_FORM, address=address, text=text, source=source)


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def queue_rows(client) -> dict[str, str]:
    page = client.get(QUEUE).content.decode()
    return {
        match.group(1): row
        for row in page.split("<tr>")[2:]
        if (match := re.search(r"(R-\d{4}-\d{5})", row))
    }


# Per address --------------------------------------------------------------------------------


def test_a_flood_of_1000_messages_from_one_chat_is_all_stored_most_held_none_lost(
    team, coordinator
):
    first = chat("Message 0")
    case = intake_accept(request=first.request, by=coordinator)
    outcomes = [chat(f"Message {number}") for number in range(1, 1000)]

    messages = Message.objects.filter(request=first.request, direction=Direction.IN)
    assert messages.count() == 1000  # nothing refused, nothing lost
    assert messages.filter(state=Delivery.RECEIVED).count() == 20
    assert messages.filter(state=Delivery.HELD).count() == 980
    assert sum(outcome.held for outcome in outcomes) == 980
    assert {outcome.request for outcome in outcomes} == {first.request}
    on_case = CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE)
    assert on_case.count() == 19  # the first message opened the request, not an entry

    # Within the same ten minutes the limit is spent: nothing more is let in.
    assert held_release().messages == 0
    # Then twenty every ten minutes, oldest first, until none is held.
    step, released = 0, []
    while messages.filter(state=Delivery.HELD).exists():
        step += 11
        now = later(step)
        let_in = held_release(now).messages
        assert let_in == 20
        assert held_release(now).messages == 0  # a second run at once lets in nothing more
        released.append(let_in)
    assert sum(released) == 980 and len(released) == 49
    assert messages.filter(state=Delivery.RECEIVED).count() == 1000
    texts = [event.text for event in on_case.order_by("created_at", "id")]
    assert texts == [f"Message {number}" for number in range(1, 1000)]


def test_a_new_message_waits_behind_the_held_ones(team, settings):
    settings.VOLUME_ADDRESS_MESSAGES = 2
    request = chat("one").request
    chat("two")
    assert chat("three").held
    # Long after the window, the fourth still queues behind the third.
    assert chat("four").held
    assert held_release(later(11)).messages == 2
    shown = request.messages.filter(state=Delivery.RECEIVED).order_by("created_at", "id")
    assert [message.text for message in shown] == ["one", "two", "three", "four"]


def test_one_chats_backlog_never_hides_another_chats_held_messages(team, settings, monkeypatch):
    settings.VOLUME_ADDRESS_MESSAGES = 2
    monkeypatch.setattr(volume, "RELEASE_SCAN", 3)
    for number in range(10):
        chat(f"X {number}", address="chat-x")
    chat_y = chat("Y 0", address="chat-y").request
    chat("Y 1", address="chat-y")
    chat("Y 2", address="chat-y")
    now = later(11)
    assert held_release(now).messages == 2  # the oldest held: chat X's
    # Chat X is at its limit now: left out of the scan, chat Y's is found behind it.
    assert held_release(now).messages == 1
    assert not chat_y.messages.filter(state=Delivery.HELD).exists()


def test_every_message_is_audited_as_received_from_nobody(team, settings):
    settings.VOLUME_ADDRESS_MESSAGES = 1
    request = chat("first").request
    chat("second, held")
    logged = AccessEvent.objects.filter(target_ref=request.reference)
    assert logged.filter(action=Action.REQUEST_LOGGED, actor=None).count() == 1
    assert logged.filter(action=Action.MESSAGE_RECEIVED, actor=None).count() == 1


# Per source and overall ----------------------------------------------------------------------


def test_new_requests_from_one_network_over_its_limit_are_held_and_let_in_at_its_rate(
    team, volunteer
):
    sent = [form(f"Request {n} from the form", f"form-{n}", "198.51.100.7") for n in range(12)]
    assert [outcome.held for outcome in sent] == [False] * 5 + [True] * 7
    # Another network is not held back by this one's limit, but waits behind what is held
    # (the release lets it in within a minute).
    elsewhere = form("From elsewhere", "form-x", "203.0.113.9")
    assert elsewhere.held
    assert held_release().requests == 1
    client = verified_client(volunteer)
    rows = queue_rows(client)
    assert len(rows) == 6 and elsewhere.request.reference in rows

    assert held_release(later(61)).requests == 5
    assert held_release(later(61)).requests == 0
    assert held_release(later(122)).requests == 2
    assert not IntakeRequest.objects.filter(state=TriageState.HELD).exists()
    # Let in oldest first.
    order = IntakeRequest.objects.order_by("admitted_at", "received_at", "id")
    assert [r.message for r in order if r.message.startswith("Request")] == [
        f"Request {n} from the form" for n in range(12)
    ]


def test_one_networks_backlog_never_hides_the_requests_held_behind_it(team, monkeypatch):
    monkeypatch.setattr(volume, "RELEASE_SCAN", 3)
    for number in range(10):
        form(f"Flood {number}", f"form-{number}", "198.51.100.7")
    behind = [form(f"Real {n}", f"real-{n}", f"203.0.113.{n + 1}").request for n in range(2)]
    assert held_release().requests == 2
    for request in behind:
        request.refresh_from_db()
        assert request.state == TriageState.NEW


def test_an_ipv6_subscriber_is_one_network(team, settings):
    settings.VOLUME_SOURCE_REQUESTS = 2
    held = [form(f"Request {n}", f"form-{n}", f"2001:db8:1:2::{n + 1}").held for n in range(3)]
    assert held == [False, False, True]
    other = form("Other subscriber", "form-o", "2001:db8:1:3::1")
    assert other.held  # waits behind the held one...
    assert held_release().requests == 1  # ...and is let in; the /64's third is not
    other.request.refresh_from_db()
    assert other.request.state == TriageState.NEW


def test_the_network_is_kept_only_as_a_keyed_digest_and_only_while_it_counts(team):
    request = form("Please help me leave", "form-1", "198.51.100.7").request
    assert len(request.source_digest) == 64
    with connection.cursor() as cursor:
        table = IntakeRequest._meta.db_table
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [request.pk])  # noqa: S608
        row = cursor.fetchone()
    assert not any("198.51.100" in str(value) for value in row)
    held_release(later(61))
    request.refresh_from_db()
    assert request.source_digest == ""


def test_over_the_overall_limit_requests_are_held_then_let_in_oldest_first(team, settings):
    settings.VOLUME_ALL_REQUESTS = 3
    outcomes = [chat(f"Request from chat {n}", address=f"chat-{n}") for n in range(5)]
    assert [outcome.held for outcome in outcomes] == [False, False, False, True, True]
    held = outcomes[3].request
    held.refresh_from_db()
    assert held.state == TriageState.HELD and held.admitted_at is None
    # Not in the queue, and no triage reminder until it is.
    untriaged = Reminder.objects.filter(kind=ReminderKind.UNTRIAGED_INTAKE)
    assert untriaged.count() == 3
    assert release_held() == 0
    assert held_release(later(61)).requests == 2
    held.refresh_from_db()
    assert held.state == TriageState.NEW
    assert untriaged.count() == 5
    # A held request's later message joins it all the same.
    assert chat("Still there?", address="chat-4").request == outcomes[4].request


def test_volunteer_logged_requests_are_never_held_nor_counted(team, volunteer, settings):
    settings.VOLUME_ALL_REQUESTS = 1
    chat("A first request", address="chat-1")
    client = verified_client(volunteer)
    for number in range(3):
        answer = client.post(
            reverse("intake:new"),
            {
                "channel": "phone",
                "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "contact": f"+7 900 000-00-0{number}",
            },
        )
        assert answer.status_code == 302
    assert not IntakeRequest.objects.filter(state=TriageState.HELD).exists()
    assert chat("A second request", address="chat-2").held


# Floods --------------------------------------------------------------------------------------


def test_the_same_text_from_30_chats_is_marked_as_a_possible_flood(team, settings):
    settings.VOLUME_FLOOD_ADDRESSES = 10
    variants = [SPAM, SPAM.upper(), f"  {SPAM}!!! ", SPAM.replace(" ", "\n  ")]
    requests = [chat(variants[n % len(variants)], address=f"chat-{n}").request for n in range(30)]
    marked = IntakeRequest.objects.filter(flood_at__isnull=False)
    assert marked.count() == 30
    assert {request.pk for request in requests} == set(marked.values_list("pk", flat=True))
    # A different text, the same text with another number, or a short greeting is not.
    assert chat("Please, I need help leaving.", address="chat-a").request.flood_at is None
    other_number = SPAM.replace("Georgia", "Georgia 2")
    assert chat(other_number, address="chat-b").request.flood_at is None
    greetings = [chat("Help me", address=f"greeting-{n}").request for n in range(12)]
    assert all(request.flood_at is None for request in greetings)


def test_nine_chats_are_not_a_flood_the_tenth_marks_them_all(team, settings):
    settings.VOLUME_FLOOD_ADDRESSES = 10
    for n in range(9):
        chat(SPAM, address=f"chat-{n}")
    assert not IntakeRequest.objects.filter(flood_at__isnull=False).exists()
    chat(SPAM, address="chat-9")
    assert IntakeRequest.objects.filter(flood_at__isnull=False).count() == 10


def test_normalised_text_keeps_digits_and_drops_the_rest():
    assert volume.normalised_text("  Call\t8 900\n\n123!! NOW… ") == "call 8 900 123 now"
    assert volume.normalised_text("\uff26\uff55\uff4c\uff4c width") == "full width"
