"""The triage page as a tired triager meets it: a possible duplicate is attached to, not
doubled by one tap; each match says what matched; the queue shows age and a duplicate mark."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from casework.models import Case
from intake.models import IntakeRequest, TriageState
from intake.services import intake_accept, intake_log
from tests.conftest import verified_client

QUEUE = reverse("intake:queue")

pytestmark = pytest.mark.django_db


def logged(user, team, contact, *, hours_ago=0):
    return intake_log(
        by=user,
        team=team,
        channel="phone",
        received_at=timezone.now() - timedelta(hours=hours_ago),
        contact=contact,
    )


def detail(request):
    return reverse("intake:detail", args=[request.reference])


def section(page: str, name: str) -> str:
    """The HTML of the page's <section id="name">."""
    match = re.search(rf'<section[^>]*id="{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


@pytest.fixture
def known_case(coordinator, team):
    """A case opened from the phone +7 900 123-45-67."""
    return intake_accept(request=logged(coordinator, team, "+7 900 123-45-67"), by=coordinator)


def test_a_forged_open_new_case_without_the_confirmation_is_refused(
    coordinator_client, coordinator, team, known_case
):
    repeat = logged(coordinator, team, "8 900 123 45 67")
    response = coordinator_client.post(detail(repeat), {"action": "accept"})
    assert response.status_code == 400
    assert "None of these is the same person" in response.content.decode()
    assert Case.objects.count() == 1
    repeat.refresh_from_db()
    assert repeat.state == TriageState.NEW


def test_a_new_case_opens_once_the_triager_confirms_no_match_is_the_person(
    coordinator_client, coordinator, team, known_case
):
    repeat = logged(coordinator, team, "8 900 123 45 67")
    response = coordinator_client.post(detail(repeat), {"action": "accept", "confirm_new": "on"})
    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_the_service_itself_asks_for_the_confirmation(coordinator, team, known_case):
    repeat = logged(coordinator, team, "+79001234567")
    with pytest.raises(ValidationError, match="None of these is the same person"):
        intake_accept(request=repeat, by=coordinator)
    assert intake_accept(request=repeat, by=coordinator, confirmed_new=True) != known_case


def test_a_match_in_another_team_also_asks_for_the_confirmation(
    volunteer_client, volunteer, team, other_volunteer, other_team
):
    intake_accept(request=logged(other_volunteer, other_team, "@twice"), by=other_volunteer)
    mine = logged(volunteer, team, "@Twice")
    assert volunteer_client.post(detail(mine), {"action": "accept"}).status_code == 400
    assert Case.objects.filter(team=team).count() == 0


def test_without_duplicates_one_tap_opens_the_case(volunteer_client, volunteer, team):
    request = logged(volunteer, team, "@nobody_else")
    page = volunteer_client.get(detail(request)).content.decode()
    assert "None of these is the same person" not in page
    assert volunteer_client.post(detail(request), {"action": "accept"}).status_code == 302


def test_attach_is_the_prominent_action_and_reject_stands_apart(
    coordinator_client, coordinator, team, known_case
):
    repeat = logged(coordinator, team, "+7 900 123 45 67")
    page = coordinator_client.get(detail(repeat)).content.decode()
    duplicates = section(page, "duplicates")
    assert re.search(r'value="attach" class="primary"', duplicates)
    opening = section(page, "open-case")
    assert 'value="accept" class="primary"' not in opening
    assert 'name="confirm_new"' in opening
    assert 'name="reason"' not in opening
    reject = section(page, "reject")
    assert 'name="reason"' in reject and 'value="accept"' not in reject


def test_each_match_says_what_matched_and_never_the_value(
    coordinator_client, coordinator, team, known_case
):
    repeat = logged(coordinator, team, "89001234567")
    page = coordinator_client.get(detail(repeat)).content.decode()
    duplicates = section(page, "duplicates")
    assert "Matched on: Phone number" in duplicates
    assert "900" not in duplicates.replace(known_case.reference, "")


def test_a_matching_request_says_what_matched(coordinator_client, coordinator, team):
    logged(coordinator, team, "user@example.org")
    second = logged(coordinator, team, "User@Example.org")
    duplicates = section(coordinator_client.get(detail(second)).content.decode(), "duplicates")
    assert "Matched on: E-mail address" in duplicates


def test_the_queue_shows_how_long_each_request_waits_and_marks_duplicates(
    volunteer_client, volunteer, coordinator, team, known_case
):
    fresh = logged(volunteer, team, "@fresh", hours_ago=2)
    repeat = logged(volunteer, team, "+7 900 123-45-67", hours_ago=3 * 24 + 1)
    page = volunteer_client.get(QUEUE).content.decode()
    rows = {row.split("</td>")[0]: row for row in page.split("<tr>")[2:]}
    fresh_row = next(row for row in rows.values() if fresh.reference in row)
    repeat_row = next(row for row in rows.values() if repeat.reference in row)
    assert "2\xa0hours" in fresh_row and "possible duplicate" not in fresh_row
    assert "3\xa0days" in repeat_row and "possible duplicate" in repeat_row


def test_the_queue_marks_no_match_in_another_team(
    volunteer_client, volunteer, team, other_volunteer, other_team
):
    """The request's page tells of it, audited as a probe; the queue must not tell it
    unaudited, for every request at once."""
    intake_accept(request=logged(other_volunteer, other_team, "@theirs"), by=other_volunteer)
    logged(volunteer, team, "@Theirs")
    assert "possible duplicate" not in volunteer_client.get(QUEUE).content.decode()


def test_the_queues_queries_do_not_grow_with_its_rows(
    volunteer, team, known_case, django_assert_max_num_queries
):
    client = verified_client(volunteer)
    logged(volunteer, team, "+7 900 123-45-67")
    with django_assert_max_num_queries(30) as few:
        client.get(QUEUE)
    for number in range(15):
        logged(volunteer, team, f"@someone_{number}")
        logged(volunteer, team, "+7 900 123-45-67")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(QUEUE).content.decode()
    assert page.count("possible duplicate") == 16
    assert IntakeRequest.objects.filter(state=TriageState.NEW).count() == 31
