from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.event_details import describe
from casework.models import Case, EventKind, Person, Stage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, team):
    return CaseFactory(team=team, assignee=volunteer)


def url(name, case):
    return reverse(f"casework:{name}", args=[case.reference])


def edit_data(case, **overrides):
    data = {
        "version": case.version,
        "person-legal_name": "Testname Fakeovich",
        "person-birth_date": "1991-02-03",
        "person-phone": "+7 900 111-22-33",
        "person-messenger_handles": "@fake_handle",
        "person-email": "",
        "person-current_location": "Somewhere",
        "person-military_unit": "",
        "person-category": "awol",
        "person-preferred_language": "ru",
        "person-notes": "Careful with calls after 22:00",
        "case-destination_country": "ge",
        "case-route_summary": "",
        "case-crossing_window_start": "",
        "case-crossing_window_end": "",
        "case-next_action_due": "",
    }
    data.update(overrides)
    return data


def test_editing_saves_encrypted_details_and_logs_which_fields_changed(volunteer_client, case):
    response = volunteer_client.post(url("case_edit", case), edit_data(case))
    assert response.status_code == 302
    case.refresh_from_db()
    person = Person.objects.get(pk=case.person_id)
    assert person.legal_name == "Testname Fakeovich"
    assert case.destination_country == "GE"
    assert case.version == 2
    event = case.events.get(kind=EventKind.EDIT)
    assert "legal_name" in event.facts["fields"]
    assert "legal name" in describe(event)
    assert "Testname" not in describe(event) + str(event.facts)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("person-phone", "call me maybe", "not a phone number we can read"),
        ("person-birth_date", "2999-01-01", "A date of birth is in the past"),
        ("person-birth_date", "not a date", "Enter a valid date"),
        ("case-destination_country", "Georgia", "Choose the country from the list"),
        ("person-email", "nobody@", "Enter a valid email address"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_kept(
    volunteer_client, case, field, value, message
):
    response = volunteer_client.post(url("case_edit", case), edit_data(case, **{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert value in page
    assert "Testname Fakeovich" in page  # the rest of what was typed is kept too
    assert Case.objects.get(pk=case.pk).version == case.version


def test_a_crossing_window_that_ends_before_it_starts_is_refused(volunteer_client, case):
    start = timezone.localtime() + timedelta(days=2)
    data = edit_data(
        case,
        **{
            "case-crossing_window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "case-crossing_window_end": (start - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    response = volunteer_client.post(url("case_edit", case), data)
    assert response.status_code == 400
    assert "must close after it opens" in response.content.decode()


def test_the_second_of_two_edits_is_refused_and_keeps_what_was_typed(
    volunteer_client, coordinator_client, case
):
    opened_version = case.version
    first = coordinator_client.post(
        url("case_edit", case), edit_data(case, **{"person-notes": "Coordinator's words"})
    )
    assert first.status_code == 302
    second = volunteer_client.post(
        url("case_edit", case),
        edit_data(case, version=opened_version, **{"person-notes": "Volunteer's words"}),
    )
    assert second.status_code == 409
    page = second.content.decode()
    assert "Someone else changed this case after you opened it" in page
    assert "coordinator1" in page  # who changed it
    assert "Volunteer&#x27;s words" in page  # what this user typed is still there
    assert Person.objects.get(pk=case.person_id).notes == "Coordinator's words"
    # Having read it, sending again saves on top.
    case.refresh_from_db()
    third = volunteer_client.post(
        url("case_edit", case),
        edit_data(case, **{"person-notes": "Volunteer's words"}),
    )
    assert third.status_code == 302
    assert Person.objects.get(pk=case.person_id).notes == "Volunteer's words"


def test_a_stale_stage_move_is_refused_with_what_changed(
    volunteer_client, coordinator_client, case
):
    stale = case.version
    coordinator_client.post(
        url("case_timeline_add", case), {"kind": EventKind.NOTE, "text": "note only"}
    )
    coordinator_client.post(url("case_edit", case), edit_data(case))
    response = volunteer_client.post(
        url("case_move", case),
        {"version": stale, "to_stage": Stage.ON_HOLD, "reason": "Waiting for documents"},
    )
    assert response.status_code == 409
    assert "Waiting for documents" in response.content.decode()
    assert Case.objects.get(pk=case.pk).stage == Stage.NEW


def test_moving_through_the_stages_writes_the_timeline(volunteer_client, coordinator_client, case):
    response = volunteer_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.SCREENING}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.SCREENING
    event = case.events.get(kind=EventKind.STAGE)
    assert (event.from_stage, event.to_stage) == (Stage.NEW, Stage.SCREENING)

    blocked = volunteer_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.PLANNING}
    )
    assert blocked.status_code == 400
    assert "Needs risk flags reviewed first." in blocked.content.decode()


def test_volunteer_cannot_close_but_coordinator_can(volunteer_client, coordinator_client, case):
    refused = volunteer_client.post(
        url("case_move", case),
        {"version": case.version, "to_stage": Stage.CLOSED, "outcome": "withdrew"},
    )
    assert "Only the team" in refused.content.decode()
    done = coordinator_client.post(
        url("case_move", case),
        {"version": case.version, "to_stage": Stage.CLOSED, "outcome": "withdrew"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.stage, case.outcome) == (Stage.CLOSED, "withdrew")


def test_on_hold_and_back(coordinator_client, case):
    coordinator_client.post(
        url("case_move", case),
        {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "Person asked to wait"},
    )
    case.refresh_from_db()
    assert (case.stage, case.held_from) == (Stage.ON_HOLD, Stage.NEW)
    coordinator_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.NEW}
    )
    case.refresh_from_db()
    assert case.stage == Stage.NEW


def test_notes_and_check_ins_land_on_the_timeline(volunteer_client, case):
    for kind, text in [(EventKind.NOTE, "Spoke at noon"), (EventKind.CHECK_IN, "")]:
        response = volunteer_client.post(
            url("case_timeline_add", case), {"kind": kind, "text": text}
        )
        assert response.status_code == 302
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert "Spoke at noon" in page
    assert "Check-in" in page
    empty = volunteer_client.post(
        url("case_timeline_add", case), {"kind": EventKind.NOTE, "text": ""}
    )
    assert "Write something" in empty.content.decode()


def test_coordinator_assigns_within_the_team_only(
    coordinator_client, case, volunteer, other_volunteer
):
    response = coordinator_client.post(
        url("case_assign", case), {"version": case.version, "assignee": other_volunteer.pk}
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.assignee == volunteer


def test_my_cases_on_the_dashboard(volunteer_client, case):
    page = volunteer_client.get(reverse("dashboard:home")).content.decode()
    assert case.reference in page


def test_case_list_filters(volunteer, coordinator_client, team):
    flagged = CaseFactory(team=team, flag_wanted=True, stage=Stage.PLANNING)
    plain = CaseFactory(team=team, stage=Stage.NEW, assignee=volunteer)
    overdue = CaseFactory(team=team, next_action_due=timezone.localdate() - timedelta(days=2))
    listing = reverse("casework:case_list")

    def shown(query):
        page = coordinator_client.get(listing, query).content.decode()
        return {c.reference for c in (flagged, plain, overdue) if c.reference in page}

    assert shown({}) == {flagged.reference, plain.reference, overdue.reference}
    assert shown({"risk": "flag_wanted"}) == {flagged.reference}
    assert shown({"stage": "planning"}) == {flagged.reference}
    assert shown({"assignee": "none"}) == {flagged.reference, overdue.reference}
    assert shown({"overdue": "on"}) == {overdue.reference}
    # A forged filter is refused with a message beside it, not a 500; the list still shows.
    forged = coordinator_client.get(listing, {"stage": "'; drop", "page": "x9"})
    assert forged.status_code == 400
    assert forged.context["form"].errors["stage"]
    assert flagged.reference in forged.content.decode()


def test_board_shows_one_column_per_stage(coordinator_client, team):
    CaseFactory(team=team, stage=Stage.CROSSING)
    page = coordinator_client.get(reverse("casework:board")).content.decode()
    for stage in Stage:
        assert str(stage.label) in page


def test_case_list_pages_keep_the_order_across_pages(coordinator_client, team):
    """Pages are cut on ids first and joined afterwards: every case shows once, in order."""
    start = timezone.now() - timedelta(days=60)
    cases = [
        CaseFactory(team=team, flag_wanted=True, stage_entered_at=start + timedelta(hours=n))
        for n in range(60)
    ]
    CaseFactory(team=team, stage_entered_at=start)  # not flagged: on no page
    listing = reverse("casework:case_list")
    shown = []
    for number in (1, 2, 3):
        page = coordinator_client.get(listing, {"risk": "flag_wanted", "page": number})
        html = page.content.decode()
        shown += sorted(
            (c for c in cases if c.reference in html), key=lambda c: html.index(c.reference)
        )
    assert [c.reference for c in shown] == [c.reference for c in cases]
    assert "60 cases" in html


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Case", "Stage", "Assignee", "Next action", "Risk"]),
        ("ru", ["Дело", "Этап", "Исполнитель", "Следующее действие", "Риск"]),
    ],
)
def test_every_case_row_names_its_cells_in_the_users_language(
    coordinator_client, team, language, labels
):
    """On a narrow screen each cell shows its column's name (data-label): translated once
    per table, every row still carries all five."""
    for _ in range(3):
        CaseFactory(team=team, flag_wanted=True, stage=Stage.PLANNING)
    response = coordinator_client.get(reverse("casework:case_list"), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    for label in labels:
        assert html.count(f'<td data-label="{label}">') == 3, label


def test_a_refused_move_shows_the_whole_case_again(
    volunteer_client, case, django_assert_max_num_queries
):
    """The move reads the case without its person's details; the page that says why the
    move was refused reads it whole, once, not a query per detail."""
    case.person.legal_name = "Testname Fakeovich"
    case.person.phone = "+7 900 111-22-33"
    case.person.save()
    # The case for the move, the refused move's savepoint, then the case page as a volunteer
    # gets it: the case read whole, its viewing recorded, legs, reminders, timeline and
    # documents, the requests behind it (for their conversation); and the volunteer's teams,
    # since an assignee sees a case only while in its team.
    with django_assert_max_num_queries(21):
        refused = volunteer_client.post(
            url("case_move", case), {"version": case.version, "to_stage": Stage.PLANNING}
        )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Testname Fakeovich" in page and "+7 900 111-22-33" in page
