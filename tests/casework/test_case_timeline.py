"""The case page reads as a timeline: what is next on top, one-tap buttons for the common
steps, events newest first."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import EventKind, Stage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, team):
    return CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING)


def url(name, case):
    return reverse(f"casework:{name}", args=[case.reference])


def ready_to_plan(case):
    case.person.category = "awol"
    case.person.save()
    case.risk_reviewed_at = timezone.now()
    case.save()


def quick_actions(page: str) -> str:
    match = re.search(r'<div class="one-tap".*?</div>', page, re.S)
    return match.group(0) if match else ""


def test_one_tap_contact_and_check_in_land_on_the_timeline(volunteer_client, case):
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    actions = quick_actions(page)
    assert "Log contact" in actions and "Record check-in" in actions

    response = volunteer_client.post(url("case_timeline_add", case), {"kind": "contact"})
    assert response.status_code == 302
    assert "Contact logged." in volunteer_client.get(response.url).content.decode()
    volunteer_client.post(url("case_timeline_add", case), {"kind": "check_in"})
    kinds = list(case.events.order_by("-created_at", "-id").values_list("kind", flat=True))
    assert kinds[:2] == [EventKind.CHECK_IN, EventKind.CONTACT]
    case.refresh_from_db()
    assert case.last_contact_at is not None


def test_one_tap_move_takes_the_case_to_the_next_stage(volunteer_client, case):
    ready_to_plan(case)
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert "Move to Planning" in quick_actions(page)
    form = re.search(r'name="version" value="(\d+)"><input type="hidden" name="to_stage"', page)
    response = volunteer_client.post(
        url("case_move", case), {"version": form.group(1), "to_stage": "planning"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.PLANNING


def test_a_blocked_next_stage_says_why_instead_of_offering_the_button(coordinator_client, team):
    case = CaseFactory(team=team, stage=Stage.PLANNING)
    page = coordinator_client.get(url("case_detail", case)).content.decode()
    assert "Next stage: Preparation" in page
    assert "Needs a destination country first." in page
    assert "Move to Preparation" not in quick_actions(page)
    assert 'href="#move"' in quick_actions(page)


def test_closing_is_never_one_tap(coordinator_client, team):
    case = CaseFactory(team=team, stage=Stage.FOLLOW_UP)
    page = coordinator_client.get(url("case_detail", case)).content.decode()
    assert "Move to Closed" not in quick_actions(page)


def test_a_stale_one_tap_move_is_refused(volunteer_client, coordinator, case):
    ready_to_plan(case)
    stale = case.version
    services.case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text="x")
    services.case_update(
        case=case,
        by=coordinator,
        expected_version=stale,
        changes={"next_action_due": timezone.localdate() + timedelta(days=3)},
    )
    response = volunteer_client.post(
        url("case_move", case), {"version": stale, "to_stage": "planning"}
    )
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.stage == Stage.SCREENING


def test_what_is_next_shows_the_earliest_reminder_and_overdue_action(
    volunteer_client, volunteer, case
):
    from casework import reminders

    reminders.follow_up_schedule(case, volunteer, timezone.now() + timedelta(days=2), "")
    case.next_action_due = timezone.localdate() - timedelta(days=1)
    case.save()
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    next_panel = re.search(r'<section class="panel next".*?</section>', page, re.S).group(0)
    assert "Follow-up" in next_panel
    assert "overdue" in next_panel


def test_events_are_newest_first_and_older_ones_fold_away(volunteer_client, volunteer, case):
    for number in range(12):
        services.case_note_add(case=case, by=volunteer, kind=EventKind.NOTE, text=f"note {number}")
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert page.index("note 11") < page.index("note 10") < page.index("note 0")
    visible, older = page.split('<details class="older">')
    assert "note 4" in visible and "note 3" not in visible
    assert "note 3" in older and "4 older entries" in older


def test_break_glass_readers_get_no_quick_actions(coordinator_client, other_team):
    case = CaseFactory(team=other_team)
    coordinator_client.post(
        reverse("casework:break_glass"),
        {"reference": case.reference, "reason": "Their coordinator is unreachable."},
    )
    page = coordinator_client.get(url("case_detail", case)).content.decode()
    assert "read-only" in page
    assert quick_actions(page) == ""
    assert 'id="add-entry"' not in page


def test_a_note_without_text_is_refused_and_nothing_else_lost(volunteer_client, case):
    response = volunteer_client.post(url("case_timeline_add", case), {"kind": "note", "text": " "})
    assert response.status_code == 400
    assert "Write something to add a note." in response.content.decode()
    assert not case.events.filter(kind=EventKind.NOTE).exists()
