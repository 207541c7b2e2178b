"""A request's message on its case: opening a case from a request, attaching one to a case
or marking it as the case's duplicate puts the message on the timeline (encrypted, for
those who may see the case) with a link to the request for those who may open it; a
request from the person clears a lost-contact flag, with its own timeline entry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.lost_contact import WROTE_AGAIN
from casework.models import BreakGlass, Case, EventKind
from casework.selectors.cases import requests_openable
from intake.models import IntakeRequest
from intake.permissions import can_view_request
from tests.conftest import verified_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = reverse("intake:new")
MESSAGE = "Got a summons for Monday, writing from a friend's phone."


def log(client, contact: str, message: str = MESSAGE) -> IntakeRequest:
    client.post(
        NEW,
        {
            "channel": "telegram",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "contact": contact,
            "message": message,
        },
    )
    return IntakeRequest.objects.order_by("-pk").first()


def triage(client, request: IntakeRequest, **data):
    return client.post(reverse("intake:detail", args=[request.reference]), data)


def case_page(client, case: Case):
    return client.get(reverse("casework:case_detail", args=[case.reference]))


def request_link(request: IntakeRequest) -> str:
    return f'<a href="{reverse("intake:detail", args=[request.reference])}">{request.reference}</a>'


@pytest.fixture
def opened(volunteer_client):
    """A request accepted by the volunteer: its case is theirs."""
    request = log(volunteer_client, "@quiet_fox")
    triage(volunteer_client, request, action="accept")
    return request, Case.objects.get()


def test_opening_a_case_puts_the_message_on_its_timeline_with_a_link(volunteer_client, opened):
    request, case = opened
    page = case_page(volunteer_client, case).content.decode()
    assert MESSAGE.replace("'", "&#x27;") in page
    assert request_link(request) in page
    event = case.events.get(kind=EventKind.INTAKE)
    assert (event.detail, event.text) == (request.reference, MESSAGE)


def test_attaching_puts_the_new_message_on_the_timeline(volunteer_client, opened):
    _first, case = opened
    again = log(volunteer_client, "t.me/quiet_fox", message="Still here, the summons came.")
    triage(volunteer_client, again, action="attach", case_reference=case.reference)
    page = case_page(volunteer_client, case).content.decode()
    assert "Still here, the summons came." in page
    assert request_link(again) in page


def test_the_message_is_stored_encrypted_on_the_timeline(opened):
    _request, case = opened
    event = case.events.get(kind=EventKind.INTAKE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM casework_caseevent WHERE id = %s", [event.pk])
        (stored,) = cursor.fetchone()
    assert "summons" not in stored and stored


def test_the_message_is_hidden_from_those_who_may_not_see_the_case(opened, team, other_volunteer):
    _request, case = opened
    teammate = UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])
    for user in (teammate, other_volunteer):
        client = verified_client(user)
        assert case_page(client, case).status_code == 404
        older = client.get(reverse("casework:case_timeline_older", args=[case.reference]))
        assert older.status_code == 404
        assert "summons" not in client.get(reverse("dashboard:home")).content.decode()


def test_a_viewer_who_may_not_open_the_request_reads_its_reference_without_a_link(
    opened, other_team
):
    """A coordinator of another team reading the case by break-glass reads the message,
    but the request stays its team's: the reference is shown, not linked."""
    request, case = opened
    outsider = UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])
    BreakGlass.objects.create(
        case=case,
        user=outsider,
        reason="Night shift",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client = verified_client(outsider)
    page = case_page(client, case).content.decode()
    assert "summons" in page
    assert request.reference in page and request_link(request) not in page
    assert client.get(reverse("intake:detail", args=[request.reference])).status_code == 404


def test_the_link_rule_agrees_with_the_request_page(opened, volunteer, coordinator, other_team):
    """requests_openable answers as intake.permissions.can_view_request, persona by persona."""
    request, case = opened
    outsider = UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])
    BreakGlass.objects.create(
        case=case,
        user=outsider,
        reason="Night shift",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    events = list(case.events.all())
    for user in (volunteer, coordinator, outsider):
        linked = request.reference in requests_openable(user, case, events)
        assert linked == can_view_request(user, request), user.username


def test_a_request_from_the_person_clears_lost_contact_with_a_timeline_entry(
    volunteer, volunteer_client, opened
):
    _first, case = opened
    Case.objects.filter(pk=case.pk).update(lost_contact_at=timezone.now() - timedelta(days=2))
    again = log(volunteer_client, "@Quiet_Fox", message="Sorry, my phone was taken.")
    triage(volunteer_client, again, action="attach", case_reference=case.reference)
    case.refresh_from_db()
    assert case.lost_contact_at is None and case.last_contact_at is not None
    cleared = case.events.get(kind=EventKind.LOST_CONTACT)
    assert (cleared.actor, cleared.detail) == (volunteer, WROTE_AGAIN)
    assert AccessEvent.objects.filter(
        action=Action.LOST_CONTACT, target_ref=case.reference, actor=volunteer
    ).exists()
    page = case_page(volunteer_client, case).content.decode()
    assert "cleared: the person wrote again" in page


def test_attaching_to_a_case_in_touch_adds_no_lost_contact_entry(volunteer_client, opened):
    _first, case = opened
    again = log(volunteer_client, "@quiet_fox")
    triage(volunteer_client, again, action="attach", case_reference=case.reference)
    assert not case.events.filter(kind=EventKind.LOST_CONTACT).exists()


def test_marking_a_repeat_as_a_duplicate_brings_its_words_to_the_case_and_clears_lost_contact(
    team, volunteer, volunteer_client, opened
):
    """A teammate who does not work the case marks the person's new request as its
    duplicate: whoever works the case still reads what the person wrote, and the silence
    is over."""
    _first, case = opened
    Case.objects.filter(pk=case.pk).update(lost_contact_at=timezone.now() - timedelta(days=2))
    teammate = verified_client(UserFactory(role=Role.VOLUNTEER, teams=[team]))
    again = log(teammate, "@quiet_fox", message="They took my passport at the office.")
    response = triage(teammate, again, action="duplicate", case_reference=case.reference)
    assert response.status_code == 302
    again.refresh_from_db()
    assert (again.state, again.case) == ("duplicate", case)
    page = case_page(volunteer_client, case).content.decode()
    assert "They took my passport at the office." in page
    assert "cleared: the person wrote again" in page
    case.refresh_from_db()
    assert case.lost_contact_at is None
