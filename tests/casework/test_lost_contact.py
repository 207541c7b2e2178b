"""Lost contact: raised by the dispatcher after silence or a missed check-in, once; shown on
the dashboard, the board and the case page; cleared by a logged contact or check-in."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework import scheduling, workflow
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Notification,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from casework.services import cases as case_services
from tests.conftest import verified_client
from tests.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, coordinator, team):
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PLANNING,
        stage_entered_at=timezone.now(),
    )


def hours(n):
    return timezone.now() + timedelta(hours=n)


def fresh(case):
    case.refresh_from_db()
    return case


def test_silence_longer_than_the_stage_allows_raises_lost_contact(case):
    limit = workflow.rule(Stage.PLANNING).silence_limit // timedelta(hours=1)
    scheduling.dispatch_due(now=hours(limit - 1))
    assert fresh(case).lost_contact_at is None
    scheduling.dispatch_due(now=hours(limit + 1))
    assert fresh(case).is_lost_contact


def test_silence_counts_from_the_last_contact(case, volunteer, settings):
    settings.LOST_CONTACT_HOURS = {**settings.LOST_CONTACT_HOURS, "planning": 10}
    Case.objects.filter(pk=case.pk).update(stage_entered_at=hours(-100))
    case_services.case_note_add(case=case, by=volunteer, kind=EventKind.CONTACT, text="")
    scheduling.dispatch_due(now=hours(9))
    assert not fresh(case).is_lost_contact
    scheduling.dispatch_due(now=hours(11))
    assert fresh(case).is_lost_contact


def test_a_stage_with_zero_hours_is_never_flagged_for_silence(case, settings):
    settings.LOST_CONTACT_HOURS = {**settings.LOST_CONTACT_HOURS, "planning": 0}
    scheduling.dispatch_due(now=hours(24 * 365))
    assert not fresh(case).is_lost_contact


def test_closed_cases_are_never_flagged(case):
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED, stage_entered_at=hours(-10_000))
    scheduling.dispatch_due(now=hours(24 * 365))
    assert not fresh(case).is_lost_contact


def test_a_missed_check_in_raises_lost_contact_at_once(volunteer, coordinator, team, settings):
    settings.LOST_CONTACT_HOURS = {**settings.LOST_CONTACT_HOURS, "in_transit": 0}
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PREPARATION,
        readiness_confirmed=True,
    )
    case_services.case_transition(
        case=case, to_stage=Stage.IN_TRANSIT, by=coordinator, expected_version=case.version
    )
    due = Reminder.objects.get(case=case, kind=ReminderKind.TRANSIT_CHECK_IN).due_at
    scheduling.dispatch_due(now=due - timedelta(minutes=1))
    assert not fresh(case).is_lost_contact
    made = scheduling.dispatch_due(now=due + timedelta(minutes=1))
    assert fresh(case).is_lost_contact
    event = CaseEvent.objects.get(case=case, kind=EventKind.LOST_CONTACT)
    assert event.detail == "a check-in was missed"
    kinds = set(Notification.objects.filter(pk__in=made).values_list("kind", flat=True))
    assert kinds == {ReminderKind.TRANSIT_CHECK_IN, ReminderKind.LOST_CONTACT}


def test_raising_tells_the_assignee_and_coordinator_audits_and_goes_on_the_timeline(
    case, volunteer, coordinator
):
    made = scheduling.dispatch_due(now=hours(24 * 30))
    told = Notification.objects.filter(pk__in=made, kind=ReminderKind.LOST_CONTACT)
    assert {note.user for note in told} == {volunteer, coordinator}
    assert all(note.urgent and note.subject == case.reference for note in told)
    audit = AccessEvent.objects.get(action=Action.LOST_CONTACT, target_ref=case.reference)
    assert audit.actor is None
    event = CaseEvent.objects.get(case=case, kind=EventKind.LOST_CONTACT)
    assert event.actor is None
    assert event.detail == "no contact for too long"


def test_without_a_case_coordinator_the_teams_coordinators_are_told(volunteer, coordinator, team):
    case = CaseFactory(team=team, assignee=volunteer, stage=Stage.PLANNING)
    made = scheduling.dispatch_due(now=hours(24 * 30))
    told = Notification.objects.filter(pk__in=made, kind=ReminderKind.LOST_CONTACT)
    assert {note.user for note in told} == {volunteer, coordinator}
    assert fresh(case).is_lost_contact


def test_raising_is_idempotent(case):
    later = hours(24 * 30)
    scheduling.dispatch_due(now=later)
    raised_at = fresh(case).lost_contact_at
    scheduling.dispatch_due(now=later)
    scheduling.dispatch_due(now=later + timedelta(days=1))
    assert fresh(case).lost_contact_at == raised_at
    assert CaseEvent.objects.filter(case=case, kind=EventKind.LOST_CONTACT).count() == 1
    assert Reminder.objects.filter(case=case, kind=ReminderKind.LOST_CONTACT).count() == 1
    assert Notification.objects.filter(kind=ReminderKind.LOST_CONTACT).count() == 2
    assert AccessEvent.objects.filter(action=Action.LOST_CONTACT).count() == 1


@pytest.mark.parametrize("kind", [EventKind.CONTACT, EventKind.CHECK_IN])
def test_a_contact_or_check_in_clears_it_and_the_clearing_is_audited(case, volunteer, kind):
    scheduling.dispatch_due(now=hours(24 * 30))
    assert fresh(case).is_lost_contact
    event = case_services.case_note_add(case=case, by=volunteer, kind=kind, text="they called")
    case = fresh(case)
    assert not case.is_lost_contact
    assert case.last_contact_at is not None
    assert event.detail == "lost contact cleared"
    cleared = AccessEvent.objects.filter(action=Action.LOST_CONTACT, actor=volunteer)
    assert cleared.get().target_ref == case.reference
    lost = Reminder.objects.get(case=case, kind=ReminderKind.LOST_CONTACT)
    assert lost.state == ReminderState.DONE


def test_a_note_does_not_clear_it(case, volunteer):
    scheduling.dispatch_due(now=hours(24 * 30))
    case_services.case_note_add(case=case, by=volunteer, kind=EventKind.NOTE, text="tried calling")
    assert fresh(case).is_lost_contact


def test_a_contact_logged_through_the_page_clears_it(case, volunteer_client):
    scheduling.dispatch_due(now=hours(24 * 30))
    response = volunteer_client.post(
        reverse("casework:case_timeline_add", args=[case.reference]),
        {"kind": "contact", "text": "wrote on Signal"},
    )
    assert response.status_code == 302
    assert not fresh(case).is_lost_contact


def test_the_coordinator_dashboard_lists_the_teams_lost_contact_cases(
    case, coordinator_client, team
):
    unassigned = CaseFactory(team=team, stage=Stage.PLANNING)
    quiet = CaseFactory(team=team, stage=Stage.PLANNING, stage_entered_at=hours(24 * 30 - 1))
    other = CaseFactory(team=TeamFactory(name="Elsewhere"), stage=Stage.PLANNING)
    scheduling.dispatch_due(now=hours(24 * 30))
    assert not fresh(quiet).is_lost_contact
    page = coordinator_client.get(reverse("dashboard:home")).content.decode()
    section = page.split('id="alarms"')[1].split("</section>")[0]
    assert case.reference in section
    assert unassigned.reference in section
    assert quiet.reference not in section
    assert other.reference not in section


def test_the_volunteer_dashboard_lists_only_their_own(case, volunteer_client, team):
    someone_elses = CaseFactory(team=team, stage=Stage.PLANNING, assignee=UserFactory())
    scheduling.dispatch_due(now=hours(24 * 30))
    page = volunteer_client.get(reverse("dashboard:home")).content.decode()
    section = page.split('id="alarms"')[1].split("</section>")[0]
    assert case.reference in section
    assert someone_elses.reference not in section


def test_no_lost_contact_section_when_everyone_is_in_touch(case, coordinator_client):
    page = coordinator_client.get(reverse("dashboard:home")).content.decode()
    assert "lost contact since" not in page


def test_the_board_shows_a_badge_on_the_card(case, coordinator_client, team):
    in_touch = CaseFactory(team=team, stage=Stage.PLANNING, stage_entered_at=hours(1000))
    scheduling.dispatch_due(now=hours(24 * 30))
    page = coordinator_client.get(reverse("casework:board")).content.decode()
    cards = {card.split("</li>")[0] for card in page.split('<li class="card')[1:]}
    lost = next(card for card in cards if case.reference in card)
    fine = next(card for card in cards if in_touch.reference in card)
    assert "badge-lost" in lost
    assert "badge-lost" not in fine


def test_the_case_page_and_list_show_it(case, coordinator_client):
    scheduling.dispatch_due(now=hours(24 * 30))
    page = coordinator_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert "Lost contact since" in page.content.decode()
    listing = coordinator_client.get(reverse("casework:case_list") + "?lost_contact=on")
    assert case.reference in listing.content.decode()
    assert "badge-lost" in listing.content.decode()


def test_a_volunteer_of_another_team_is_not_told(case, other_volunteer):
    made = scheduling.dispatch_due(now=hours(24 * 30))
    assert not Notification.objects.filter(pk__in=made, user=other_volunteer).exists()
    client = verified_client(other_volunteer)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert case.reference not in page
