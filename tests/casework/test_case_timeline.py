"""The case page reads as a timeline: what is next on top, one-tap buttons for the common
steps, events newest first; the older ones are read only when the fold is opened."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import BreakGlass, CaseEvent, EventKind, Stage
from casework.services import cases as case_services
from tests.conftest import verified_client
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
    case_services.case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text="x")
    case_services.case_update(
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
    from casework import scheduling

    scheduling.follow_up_schedule(case, volunteer, timezone.now() + timedelta(days=2), "")
    case.next_action_due = timezone.localdate() - timedelta(days=1)
    case.save()
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    next_panel = re.search(r'<section class="panel next".*?</section>', page, re.S).group(0)
    assert "Follow-up" in next_panel
    assert "overdue" in next_panel


def add_notes(case, by, count: int) -> None:
    """Notes "entry 00" (the oldest) to "entry NN" (the newest): no text inside another."""
    for number in range(count):
        case_services.case_note_add(
            case=case, by=by, kind=EventKind.NOTE, text=f"entry {number:02d}"
        )


def test_the_case_page_shows_the_eight_newest_and_counts_the_older(
    volunteer_client, volunteer, case
):
    add_notes(case, volunteer, 12)
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert page.index("entry 11") < page.index("entry 10") < page.index("entry 04")
    assert "4 older entries" in page
    # The older notes are not read for the page: not a word of them is in it.
    for number in range(4):
        assert f"entry {number:02d}" not in page
    fold = re.search(r'<details class="older".*?</details>', page, re.S).group(0)
    older = url("case_timeline_older", case)
    assert f'hx-get="{older}"' in fold and 'hx-trigger="toggle once"' in fold
    assert f'<a href="{older}">Show the older entries</a>' in fold


def test_a_short_timeline_has_nothing_to_fold(volunteer_client, volunteer, case):
    add_notes(case, volunteer, 8)
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert "entry 00" in page and "entry 07" in page
    assert '<details class="older"' not in page


def test_htmx_gets_the_older_entries_newest_first_as_a_fragment(volunteer_client, volunteer, case):
    add_notes(case, volunteer, 12)
    response = volunteer_client.get(
        url("case_timeline_older", case), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<ol class="timeline"')
    assert "<html" not in fragment and "Sign out" not in fragment
    assert fragment.index("entry 03") < fragment.index("entry 02") < fragment.index("entry 00")
    assert "entry 04" not in fragment
    assert "HX-Request" in response["Vary"]


def test_without_javascript_the_older_entries_are_a_page_of_their_own(
    volunteer_client, volunteer, case
):
    add_notes(case, volunteer, 12)
    response = volunteer_client.get(url("case_timeline_older", case))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and f"<h1>{case.reference}</h1>" in page
    assert page.index("entry 03") < page.index("entry 00")
    assert "entry 04" not in page
    assert f'href="{url("case_detail", case)}#timeline"' in page


def test_the_older_entries_stop_where_the_timeline_always_did(volunteer_client, volunteer, case):
    start = timezone.now() - timedelta(days=30)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            kind=EventKind.NOTE,
            actor=volunteer,
            text=f"bulk {number:03d}",
            created_at=start + timedelta(minutes=number),
        )
        for number in range(205)
    )
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert "192 older entries" in page
    older = volunteer_client.get(url("case_timeline_older", case)).content.decode()
    assert older.count('<li class="event ') == 192
    assert "bulk 196" in older and "bulk 005" in older
    assert "bulk 197" not in older and "bulk 004" not in older


def test_the_older_entries_do_not_read_the_persons_details(volunteer_client, volunteer, case):
    case.person.legal_name = "Testname Fakeperson"
    case.person.save()
    add_notes(case, volunteer, 10)
    with CaptureQueriesContext(connection) as queries:
        page = volunteer_client.get(url("case_timeline_older", case)).content.decode()
    assert "Testname Fakeperson" not in page
    assert not [query for query in queries if "legal_name" in query["sql"]]


def test_another_teams_members_get_404_on_the_older_entries(
    other_volunteer, other_team, coordinator_client, case
):
    other_client = verified_client(other_volunteer)
    assert other_client.get(url("case_timeline_older", case)).status_code == 404
    elsewhere = CaseFactory(team=other_team, assignee=other_volunteer)
    assert coordinator_client.get(url("case_timeline_older", elsewhere)).status_code == 404
    missing = coordinator_client.get(reverse("casework:case_timeline_older", args=["C-2026-99999"]))
    assert missing.status_code == 404


def test_an_expired_break_glass_gets_404_on_the_older_entries(
    coordinator, coordinator_client, other_team
):
    case = CaseFactory(team=other_team)
    BreakGlass.objects.create(
        case=case, user=coordinator, reason="old", expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert coordinator_client.get(url("case_timeline_older", case)).status_code == 404


def test_a_live_break_glass_grant_reads_the_older_entries(
    coordinator, coordinator_client, other_team, other_volunteer
):
    case = CaseFactory(team=other_team, assignee=other_volunteer)
    add_notes(case, other_volunteer, 9)
    BreakGlass.objects.create(
        case=case,
        user=coordinator,
        reason="Their coordinator is unreachable.",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    response = coordinator_client.get(url("case_timeline_older", case))
    assert response.status_code == 200
    assert "entry 00" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, case):
    response = client.get(url("case_timeline_older", case))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_older_entries_answer_get_only(volunteer_client, case):
    assert volunteer_client.post(url("case_timeline_older", case)).status_code == 405


def test_reading_the_older_entries_is_recorded(volunteer_client, volunteer, case):
    add_notes(case, volunteer, 10)
    before = AccessEvent.objects.count()
    volunteer_client.get(url("case_timeline_older", case), headers={"HX-Request": "true"})
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("seq")
    assert (event.action, event.actor, event.target_ref, event.team_id) == (
        Action.CASE_VIEWED,
        volunteer,
        case.reference,
        case.team_id,
    )


def test_opening_the_fold_is_not_counted_as_another_case_opened(
    volunteer_client, volunteer, case, settings
):
    """The insider rule counts distinct cases an hour: the case page and its older entries
    are one case, however often the fold is opened."""
    settings.INSIDER_CASES_PER_HOUR = 1
    add_notes(case, volunteer, 10)
    volunteer_client.get(url("case_detail", case))
    for _ in range(3):
        volunteer_client.get(url("case_timeline_older", case), headers={"HX-Request": "true"})
    assert not InsiderAlert.objects.exists()
    assert AccessEvent.objects.filter(action=Action.CASE_VIEWED, actor=volunteer).count() == 4


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
