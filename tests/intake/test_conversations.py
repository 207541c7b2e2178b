"""The conversation core every channel uses: what the person writes lands on one request
(and its case), replies are rows waiting to be sent, and purging blanks them all."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from casework.models import CaseEvent, EventKind
from intake.conversations import conversation_receive, reply_send
from intake.models import Channel, Delivery, Direction, IntakeIndex, IntakeRequest, Message
from intake.services import intake_accept, intake_reject
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

CHAT = "700100200"


def receive(text, address=CHAT, **extra):
    return conversation_receive(channel=Channel.TELEGRAM, address=address, text=text, **extra)


def test_a_first_message_opens_a_request_and_later_ones_join_it(team):
    first = receive("I got a summons for Monday.", contact="@quiet_fox", language="ru")
    assert first.opened
    request = first.request
    assert request.team == team
    assert request.logged_by is None
    assert request.message == "I got a summons for Monday."
    assert request.contact == "@quiet_fox"
    assert request.language == "ru"
    assert IntakeIndex.objects.filter(request=request).exists()  # the handle, for duplicates

    second = receive("Can you help?")
    assert not second.opened
    assert second.request == request
    assert [m.text for m in request.messages.all()] == [
        "I got a summons for Monday.",
        "Can you help?",
    ]
    # Another chat is another request.
    assert receive("Hello", address="700100999").request != request


def test_the_chat_is_found_by_a_keyed_digest_never_in_clear(team):
    request = receive("Help").request
    assert request.reply_address == CHAT
    assert CHAT not in request.address_digest
    with connection.cursor() as cursor:
        table = IntakeRequest._meta.db_table
        cursor.execute(f"SELECT reply_address FROM {table} WHERE id = %s", [request.pk])  # noqa: S608
        (stored,) = cursor.fetchone()
    assert stored and CHAT not in stored


def test_a_message_on_an_accepted_request_goes_on_the_case_and_ends_lost_contact(team, coordinator):
    request = receive("First words").request
    case = intake_accept(request=request, by=coordinator)
    case.lost_contact_at = timezone.now()
    case.save(update_fields=["lost_contact_at"])

    receive("We are at the station.")

    event = CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE).get()
    assert event.text == "We are at the station."
    assert event.actor is None
    case.refresh_from_db()
    assert case.lost_contact_at is None


def test_a_reply_is_a_queued_row_and_on_the_timeline_with_its_author(team, coordinator):
    request = receive("First words").request
    case = intake_accept(request=request, by=coordinator)
    message = reply_send(request=request, by=coordinator, text="Stay where you are.")
    assert message.direction == Direction.OUT
    assert message.state == Delivery.QUEUED
    assert message.sent_by == coordinator
    event = CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE).get()
    assert (event.actor, event.text) == (coordinator, "Stay where you are.")


def test_who_may_reply(team, volunteer, coordinator):
    request = receive("First words").request
    outsider = UserFactory(teams=[TeamFactory()], role="coordinator")
    with pytest.raises(PermissionDenied):
        reply_send(request=request, by=outsider, text="Hi")
    assert reply_send(request=request, by=volunteer, text="We read you.")
    intake_reject(request=request, by=coordinator, reason="Spam")
    request.refresh_from_db()
    with pytest.raises(PermissionDenied):  # a rejected request: its coordinators only
        reply_send(request=request, by=volunteer, text="Hi")
    assert reply_send(request=request, by=coordinator, text="Write again if you need us.")


def test_an_empty_or_over_long_reply_is_refused_with_a_message(team, volunteer):
    request = receive("First words").request
    with pytest.raises(ValidationError, match="Write the reply first"):
        reply_send(request=request, by=volunteer, text="   ")
    with pytest.raises(ValidationError, match="at most"):
        reply_send(request=request, by=volunteer, text="x" * 5000)
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_a_reply_to_a_purged_request_is_refused(team, coordinator):
    request = receive("First words").request
    reply_send(request=request, by=coordinator, text="Answer")
    IntakeRequest.objects.filter(pk=request.pk).purge(timezone.now())
    request.refresh_from_db()
    assert set(request.messages.values_list("text", flat=True)) == {""}
    assert request.reply_address == "" and request.address_digest == ""
    with pytest.raises(PermissionDenied):
        reply_send(request=request, by=coordinator, text="Still there?")
    # The same chat writing again after the purge starts a new request.
    assert receive("Hello again").opened


def test_a_public_form_request_without_a_contact_shows_triage_no_token(team, volunteer_client):
    token = "Zq8WmT3kPx0aLb7c"
    request = conversation_receive(
        channel=Channel.WEB_FORM, address=token, text="Please write back here."
    ).request
    assert request.contact == "—"
    page = volunteer_client.get(f"/intake/{request.reference}/").content.decode()
    assert "Please write back here." in page
    assert token not in page


def test_the_bots_own_first_answer_reads_as_automatic_on_the_request_page(team, volunteer_client):
    request = receive("First words").request
    Message.objects.create(
        request=request, direction=Direction.OUT, text="Your reference is on its way.", state="sent"
    )
    page = volunteer_client.get(f"/intake/{request.reference}/").content.decode()
    assert "Automatic answer" in page
    assert "Your reference is on its way." in page


def test_after_a_rejection_the_persons_next_words_reopen_it_for_triage(
    team, coordinator, volunteer_client
):
    rejected = receive("First words").request
    intake_reject(request=rejected, by=coordinator, reason="Looked like spam")
    again = receive("Sorry, it is really me: I need help.")
    assert not again.opened
    assert again.request == rejected
    rejected.refresh_from_db()
    assert rejected.state == "new" and rejected.triaged_at is None
    # Back in the queue, where a volunteer reads the whole conversation.
    assert rejected.reference in volunteer_client.get("/intake/").content.decode()
    page = volunteer_client.get(f"/intake/{rejected.reference}/").content.decode()
    assert "Sorry, it is really me" in page and "First words" in page


def test_a_rejected_possible_flood_stays_rejected_when_it_writes_on(team, coordinator):
    flooded = receive("Buy cheap tickets now").request
    IntakeRequest.objects.filter(pk=flooded.pk).update(flood_at=timezone.now())
    flooded.refresh_from_db()
    intake_reject(request=flooded, by=coordinator, reason="Flood")
    again = receive("Buy cheap tickets now!!")
    assert again.request == flooded
    flooded.refresh_from_db()
    assert flooded.state == "rejected"
