"""Planning warns, before anything is saved, when a person on a wanted list is headed for a
country the register marks as extraditing; the move and the edit need "I have seen this
warning", and that it was seen is on the timeline and in the audit log."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework import workflow
from casework.models import Case, CaseEvent, EventKind, Stage
from casework.services import cases as case_services
from destinations.models import DestinationRisk, Extradites
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

WARNING = "marks Kazakhstan as extraditing"


@pytest.fixture
def kazakhstan(db):
    return DestinationRisk.objects.create(country="KZ", extradites=Extradites.YES)


@pytest.fixture
def case(volunteer, coordinator, team, kazakhstan):
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PLANNING,
        flag_wanted=True,
        risk_reviewed_at=timezone.now(),
        destination_country="KZ",
        route_summary="by train",
    )


def move_url(case):
    return reverse("casework:case_move", args=[case.reference])


def test_the_case_page_shows_the_warning_and_asks_before_the_move(case, volunteer_client):
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    text = page.content.decode()
    assert WARNING in text
    assert 'name="warning_seen"' in text


def test_the_move_out_of_planning_is_refused_without_confirmation(case, volunteer_client):
    response = volunteer_client.post(
        move_url(case), {"version": case.version, "to_stage": "preparation", "reason": "typed"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "I have seen this warning" in text
    assert WARNING in text
    assert "typed" in text
    case.refresh_from_db()
    assert case.stage == Stage.PLANNING
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.RISK_WARNING).exists()


def test_the_service_refuses_it_too(case, volunteer):
    with pytest.raises(case_services.MoveRefused):
        case_services.case_transition(
            case=case, to_stage=Stage.PREPARATION, by=volunteer, expected_version=case.version
        )
    assert Case.objects.get(pk=case.pk).stage == Stage.PLANNING


def test_the_confirmed_move_goes_through_and_is_recorded(case, volunteer_client, volunteer):
    response = volunteer_client.post(
        move_url(case),
        {"version": case.version, "to_stage": "preparation", "warning_seen": "on"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.PREPARATION
    seen = CaseEvent.objects.get(case=case, kind=EventKind.RISK_WARNING)
    assert seen.actor == volunteer
    assert seen.facts["country"] == "KZ"
    audit = AccessEvent.objects.get(action=Action.DESTINATION_WARNING)
    assert (audit.actor, audit.target_ref, audit.reason) == (volunteer, case.reference, "KZ")


def test_entering_transit_asks_again(case, coordinator):
    Case.objects.filter(pk=case.pk).update(stage=Stage.PREPARATION, readiness_confirmed=True)
    case.refresh_from_db()
    problems = workflow.move_problems(case, Stage.IN_TRANSIT, is_coordinator=True)
    assert str(workflow.WARNING_NOT_SEEN) in problems
    assert not workflow.move_problems(
        case, Stage.IN_TRANSIT, is_coordinator=True, warning_seen=True
    )


@pytest.mark.parametrize(
    "change",
    [
        {"flag_wanted": False},
        {"destination_country": "GE"},
    ],
)
def test_no_warning_when_not_wanted_or_not_extraditing(case, volunteer, change):
    Case.objects.filter(pk=case.pk).update(**change)
    case.refresh_from_db()
    case_services.case_transition(
        case=case, to_stage=Stage.PREPARATION, by=volunteer, expected_version=case.version
    )
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.RISK_WARNING).exists()


@pytest.mark.parametrize("verdict", [Extradites.NO, Extradites.UNKNOWN])
def test_no_warning_for_a_country_not_marked_as_extraditing(case, volunteer, kazakhstan, verdict):
    DestinationRisk.objects.filter(pk=kazakhstan.pk).update(extradites=verdict)
    assert workflow.move_problems(case, Stage.PREPARATION, is_coordinator=False) == []


def test_steps_back_and_holds_do_not_ask(case, volunteer):
    assert workflow.destination_warning(case) is not None
    assert not workflow.leaves_warned_stage(case, Stage.SCREENING)
    assert not workflow.leaves_warned_stage(case, Stage.ON_HOLD)


def test_choosing_the_destination_on_the_edit_page_warns_before_saving(
    case, volunteer_client, volunteer
):
    Case.objects.filter(pk=case.pk).update(destination_country="GE")
    url = reverse("casework:case_edit", args=[case.reference])
    data = {
        "version": case.version,
        "person-preferred_language": "ru",
        "person-notes": "typed notes",
        "case-flag_wanted": "on",
        "case-destination_country": "kz",
        "case-route_summary": "by train",
    }
    response = volunteer_client.post(url, data)
    assert response.status_code == 400
    text = response.content.decode()
    assert WARNING in text
    assert "typed notes" in text
    assert 'type="checkbox" name="case-warning_seen"' in text
    assert Case.objects.get(pk=case.pk).destination_country == "GE"
    response = volunteer_client.post(url, {**data, "case-warning_seen": "on"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).destination_country == "KZ"
    assert CaseEvent.objects.filter(case=case, kind=EventKind.RISK_WARNING, actor=volunteer)
    assert AccessEvent.objects.filter(action=Action.DESTINATION_WARNING, actor=volunteer)


def test_editing_other_fields_does_not_ask_again(case, volunteer):
    case_services.case_update(
        case=case, by=volunteer, expected_version=case.version, changes={"route_summary": "bus"}
    )
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.RISK_WARNING).exists()


def test_flagging_a_person_headed_there_as_wanted_asks(case, volunteer):
    Case.objects.filter(pk=case.pk).update(flag_wanted=False)
    case.refresh_from_db()
    with pytest.raises(case_services.WarningNotSeen):
        case_services.case_update(
            case=case, by=volunteer, expected_version=case.version, changes={"flag_wanted": True}
        )
    assert not Case.objects.get(pk=case.pk).flag_wanted
