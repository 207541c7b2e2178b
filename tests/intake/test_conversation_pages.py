"""The conversation on the staff pages, through the real views: read on the request's page
and the case page (audited as those pages are), answered from either, refused with a clear
answer to whoever may not, and read in a fixed number of queries however long it grows."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework.models import BreakGlass, CaseEvent, EventKind
from intake.conversation_selectors import PANEL_MESSAGES
from intake.conversations import conversation_receive, reply_send
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message
from intake.services import intake_accept
from tests.conftest import verified_client
from tests.factories import IntakeRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

CHAT = "700100200"


def receive(text, address=CHAT, channel=Channel.TELEGRAM, **extra):
    return conversation_receive(channel=channel, address=address, text=text, **extra)


def detail(request):
    return reverse("intake:detail", args=[request.reference])


def reply_url(request):
    return reverse("intake:reply", args=[request.reference])


def case_url(case):
    return reverse("casework:case_detail", args=[case.reference])


def panel(page) -> str:
    html = page.content.decode() if hasattr(page, "content") else page
    match = re.search(r'<section[^>]*id="conversation".*?</section>', html, re.S)
    assert match, "no conversation panel"
    return match.group(0)


def events(action, **filters):
    return AccessEvent.objects.filter(action=action, **filters)


@pytest.fixture(autouse=True)
def _channels_bring_to_north(settings, team):
    settings.CHANNEL_TEAM = team.name


@pytest.fixture
def conversation(team):
    request = receive("I got a summons for Monday.", contact="@quiet_fox").request
    receive("Can you help? My unit leaves on Friday.")
    return request


@pytest.fixture
def accepted(conversation, coordinator, volunteer):
    """The conversation's request accepted into a case the volunteer is assigned to."""
    case = intake_accept(request=conversation, by=coordinator)
    case.assignee = volunteer
    case.save(update_fields=["assignee"])
    conversation.refresh_from_db()
    return case


# Reading ----------------------------------------------------------------------------------


def test_the_request_page_shows_the_conversation_and_audits_the_read(
    volunteer_client, volunteer, conversation
):
    page = volunteer_client.get(detail(conversation))
    assert page.status_code == 200
    shown = panel(page)
    assert "I got a summons for Monday." in shown
    assert "Can you help? My unit leaves on Friday." in shown
    assert shown.count("From the person") == 2
    assert 'name="text"' in shown and 'maxlength="4096"' in shown
    assert events(Action.REQUEST_VIEWED, actor=volunteer, target_ref=conversation.reference)


def test_the_case_page_shows_the_conversation_of_its_requests_and_audits_the_read(
    volunteer, accepted, conversation
):
    client = verified_client(volunteer)
    reply_send(request=conversation, by=volunteer, text="We read you. Stay home tonight.")
    page = client.get(case_url(accepted))
    shown = panel(page)
    assert "Can you help? My unit leaves on Friday." in shown
    assert "Reply from volunteer1" in shown
    assert "Waiting to be sent" in shown
    assert events(Action.CASE_VIEWED, actor=volunteer, target_ref=accepted.reference)


def test_each_reply_says_how_its_delivery_went(coordinator_client, coordinator, team):
    telegram = receive("Hello from the chat.").request
    web = receive("Hello from the form.", address="form-1", channel=Channel.WEB_FORM).request
    now = timezone.now()
    for request, state, read in (
        (telegram, Delivery.SENT, None),
        (telegram, Delivery.FAILED, None),
        (web, Delivery.SENT, now),
        (web, Delivery.SENT, None),
    ):
        message = reply_send(request=request, by=coordinator, text=f"{state} reply")
        Message.objects.filter(pk=message.pk).update(state=state, sent_at=now, read_at=read)
    chat = panel(coordinator_client.get(detail(telegram)))
    assert "Sent " in chat and "Not delivered" in chat
    assert "Read " not in chat and "not read yet" not in chat  # a chat has no read receipts
    form = panel(coordinator_client.get(detail(web)))
    assert form.count("Sent ") == 2
    assert form.count("Read ") == 1 and form.count("not read yet") == 1


def test_held_messages_are_counted_not_shown(volunteer_client, conversation, settings):
    settings.VOLUME_ADDRESS_MESSAGES = 2
    receive("Third, held by the limit.")
    shown = panel(volunteer_client.get(detail(conversation)))
    assert "Third, held by the limit." not in shown
    assert "1 more message from the person is held by the rate limit" in shown


def test_a_break_glass_reader_sees_the_conversation_but_may_not_answer(
    accepted, conversation, other_team
):
    outsider = UserFactory(username="coordinator2", role="coordinator", teams=[other_team])
    BreakGlass.objects.create(
        case=accepted,
        user=outsider,
        reason="Their coordinator is unreachable.",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client = verified_client(outsider)
    shown = panel(client.get(case_url(accepted)))
    assert "Can you help?" in shown
    assert 'name="text"' not in shown
    # The request is another team's: its reply address is a 404, as a missing one.
    answer = client.post(reply_url(conversation), {"text": "Hi", "back": "case"})
    assert answer.status_code == 404
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_a_case_from_a_phone_call_shows_no_conversation_panel(coordinator, team):
    request = IntakeRequestFactory(team=team, channel=Channel.PHONE, logged_by=coordinator)
    case = intake_accept(request=request, by=coordinator)
    page = verified_client(coordinator).get(case_url(case)).content.decode()
    assert 'id="conversation"' not in page


# Replying ---------------------------------------------------------------------------------


def test_a_reply_from_the_request_page_is_queued_and_audited(
    volunteer_client, volunteer, conversation
):
    answer = volunteer_client.post(
        reply_url(conversation), {"text": "  We read you.  ", "back": "request"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == detail(conversation) + "#conversation"
    reply = Message.objects.get(direction=Direction.OUT)
    assert (reply.text, reply.state, reply.sent_by) == ("We read you.", Delivery.QUEUED, volunteer)
    assert events(Action.REPLY_SENT, actor=volunteer, target_ref=conversation.reference).exists()
    page = volunteer_client.get(answer["Location"])
    assert "Reply queued" in page.content.decode()
    assert "We read you." in panel(page)


def test_a_reply_to_the_public_form_says_the_person_reads_it_on_coming_back(volunteer_client, team):
    web = receive("Hello from the form.", address="form-1", channel=Channel.WEB_FORM).request
    answer = volunteer_client.post(reply_url(web), {"text": "We read you.", "back": "request"})
    page = volunteer_client.get(answer["Location"]).content.decode()
    assert "the person reads it when they come back with their passphrase" in page
    assert "Reply queued" not in page


def test_a_reply_from_the_case_page_goes_back_there_and_on_its_timeline(
    volunteer, accepted, conversation
):
    client = verified_client(volunteer)
    answer = client.post(reply_url(conversation), {"text": "Stay where you are.", "back": "case"})
    assert answer.status_code == 302
    assert answer["Location"] == case_url(accepted) + "#conversation"
    event = CaseEvent.objects.get(case=accepted, kind=EventKind.MESSAGE, actor=volunteer)
    assert event.text == "Stay where you are."
    assert events(Action.REPLY_SENT, actor=volunteer, target_ref=accepted.reference).exists()
    assert events(Action.REPLY_SENT, actor=volunteer, target_ref=conversation.reference).exists()


def test_another_teams_volunteer_gets_404(other_volunteer, conversation):
    client = verified_client(other_volunteer)
    assert client.post(reply_url(conversation), {"text": "Hi"}).status_code == 404
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_an_admin_gets_403(admin_client_verified, conversation):
    assert admin_client_verified.post(reply_url(conversation), {"text": "Hi"}).status_code == 403
    assert not Message.objects.filter(direction=Direction.OUT).exists()


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.TELEGRAM])
def test_a_volunteer_who_may_read_but_not_answer_gets_403(
    volunteer_client, team, coordinator, channel
):
    """A request a volunteer logged (from a call, or retyped from a Telegram chat): the app
    has no address to answer it through, and the page offers no reply."""
    request = IntakeRequestFactory(team=team, channel=channel, logged_by=coordinator)
    page = volunteer_client.get(detail(request))
    assert page.status_code == 200
    assert 'id="conversation"' not in page.content.decode()
    assert volunteer_client.post(reply_url(request), {"text": "Hi"}).status_code == 403


def test_a_get_is_refused(volunteer_client, conversation):
    assert volunteer_client.get(reply_url(conversation)).status_code == 405


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("   ", "Write the reply first."),
        ("x" * 4100, "A reply can be at most 4096 characters long (this one has 4100)."),
    ],
)
def test_a_refused_reply_keeps_what_was_typed_and_says_why(
    volunteer_client, conversation, typed, said
):
    answer = volunteer_client.post(reply_url(conversation), {"text": typed, "back": "request"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert said in page
    assert "Nothing was sent." in page
    if typed.strip():
        assert typed in page
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_a_reply_to_a_purged_request_says_so_and_keeps_the_text(coordinator, accepted):
    client = verified_client(coordinator)
    request = IntakeRequest.objects.get(case=accepted)
    page = client.get(case_url(accepted))  # the page is open...
    assert 'name="text"' in panel(page)
    IntakeRequest.objects.filter(pk=request.pk).purge(timezone.now())  # ...the data goes
    answer = client.post(reply_url(request), {"text": "Are you safe?", "back": "case"})
    assert answer.status_code == 409
    html = answer.content.decode()
    assert "there is no one to send a reply to any more" in html
    assert "Are you safe?" in html
    assert not Message.objects.filter(direction=Direction.OUT).exists()


# Queries ----------------------------------------------------------------------------------


def _grow(request, coordinator, count):
    for number in range(count):
        receive(f"Message number {number}")
        reply_send(request=request, by=coordinator, text=f"Answer number {number}")


@pytest.mark.parametrize("page", ["request", "case"])
def test_the_panels_queries_do_not_grow_with_the_messages(
    page, coordinator, accepted, conversation, django_assert_max_num_queries, settings
):
    settings.VOLUME_ADDRESS_MESSAGES = 0
    client = verified_client(coordinator)
    url = detail(conversation) if page == "request" else case_url(accepted)
    _grow(conversation, coordinator, 5)  # the case's timeline is past its first page
    client.get(url)  # the first page of a session reads what later pages find cached
    with django_assert_max_num_queries(60) as few:
        assert client.get(url).status_code == 200
    _grow(conversation, coordinator, PANEL_MESSAGES)
    with django_assert_max_num_queries(len(few.captured_queries)):
        shown = panel(client.get(url))
    assert shown.count('class="message ') == PANEL_MESSAGES
    total = 2 + 2 * (5 + PANEL_MESSAGES)
    assert f"{total - PANEL_MESSAGES} earlier messages are not shown" in shown
