"""Suspected provocation: the flag freezes the case, hides its route from all but the
team's coordinators, and a repeat request from the same contact is flagged at triage."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework import workflow
from casework.models import Case, EventKind, Outcome, PersonIndex, RouteLeg, Stage
from casework.services import oversight, retention
from casework.services.cases import MoveRefused, case_transition, person_indexes_refresh
from intake.services import intake_accept, intake_log
from privacy import blind_index
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "Asked for the names of the volunteers before giving any detail"
CONTACT = "@not_really_a_deserter_42"


@pytest.fixture
def leg_volunteer(team):
    return UserFactory(username="legrunner", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def case(team, volunteer, coordinator, leg_volunteer):
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        stage=Stage.PLANNING,
        route_summary="Routesummarymarker",
        destination_country="GE",
    )
    RouteLeg.objects.create(
        case=case, position=1, origin="Legonemarker", destination="B", volunteer=leg_volunteer
    )
    RouteLeg.objects.create(
        case=case, position=2, origin="Legtwomarker", destination="C", volunteer=volunteer
    )
    return case


def flagged(case: Case, by) -> Case:
    return oversight.provocation_flag(case=case, by=by, reason=REASON)


def url(name: str, case: Case) -> str:
    return reverse(name, args=[case.reference])


# --- Flagging and clearing -------------------------------------------------------------------


def test_the_assignee_flags_the_case_with_a_reason(case, volunteer_client, volunteer):
    response = volunteer_client.post(
        url("casework:case_provocation", case), {"action": "flag", "reason": REASON}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.is_frozen and case.provocation_flagged_by == volunteer
    assert case.provocation_reason == REASON
    assert case.events.filter(kind=EventKind.PROVOCATION).count() == 1
    event = AccessEvent.objects.get(action=Action.PROVOCATION)
    assert event.reason == f"flagged: {REASON}"


def test_flagging_without_a_reason_says_so_and_changes_nothing(case, volunteer_client):
    response = volunteer_client.post(url("casework:case_provocation", case), {"action": "flag"})
    assert response.status_code == 400
    assert "Give a reason: say what makes you suspect this request" in response.content.decode()
    case.refresh_from_db()
    assert not case.is_frozen
    response = volunteer_client.post(
        url("casework:case_provocation", case), {"action": "flag", "reason": "   "}
    )
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()


def test_a_leg_volunteer_not_on_the_case_cannot_flag_it(case, leg_volunteer):
    client = verified_client(leg_volunteer)
    assert client.get(url("casework:case_provocation", case)).status_code == 404
    with pytest.raises(PermissionDenied):
        flagged(case, leg_volunteer)


def test_only_a_coordinator_clears_the_flag_and_with_a_reason(
    case, volunteer, volunteer_client, coordinator_client
):
    flagged(case, volunteer)
    assert volunteer_client.get(url("casework:case_provocation", case)).status_code == 403
    post = {"action": "clear", "reason": "Confirmed by phone with his mother"}
    assert volunteer_client.post(url("casework:case_provocation", case), post).status_code == 403
    refused = coordinator_client.post(url("casework:case_provocation", case), {"action": "clear"})
    assert refused.status_code == 400
    assert coordinator_client.post(url("casework:case_provocation", case), post).status_code == 302
    case.refresh_from_db()
    assert not case.is_frozen and case.provocation_reason == ""
    assert AccessEvent.objects.filter(action=Action.PROVOCATION).count() == 2


# --- The freeze ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [*workflow.FORWARD, Stage.ON_HOLD])
def test_a_frozen_case_refuses_every_stage_move_by_every_role(
    case, stage, volunteer, coordinator, team
):
    Case.objects.filter(pk=case.pk).update(
        stage=stage, held_from=Stage.PLANNING if stage == Stage.ON_HOLD else ""
    )
    case = flagged(Case.objects.get(pk=case.pk), coordinator)
    other_coordinator = UserFactory(role=Role.COORDINATOR, teams=[team])
    for by in (volunteer, coordinator, other_coordinator):
        for target in Stage:
            for outcome in ["", *Outcome.values]:
                if by != volunteer and target == Stage.CLOSED and outcome == Outcome.PROVOCATION:
                    continue  # the one way out: below
                fresh = Case.objects.select_related("person").get(pk=case.pk)
                with pytest.raises(MoveRefused) as refused:
                    case_transition(
                        case=fresh,
                        to_stage=target,
                        by=by,
                        expected_version=fresh.version,
                        reason="Moving on",
                        outcome=outcome,
                    )
                assert "frozen as a suspected provocation" in str(refused.value), (by, target)
    # The assignee may not close it as a provocation either: that is a coordinator's call.
    fresh = Case.objects.get(pk=case.pk)
    assert workflow.move_problems(
        fresh, Stage.CLOSED, is_coordinator=False, outcome=Outcome.PROVOCATION
    )
    assert Case.objects.get(pk=case.pk).stage == stage


def test_the_move_form_refuses_a_frozen_case_with_the_reason(case, volunteer_client, volunteer):
    case = flagged(case, volunteer)
    for target in ("preparation", "screening", "on_hold"):
        response = volunteer_client.post(
            url("casework:case_move", case),
            {"version": case.version, "to_stage": target, "reason": "Why not"},
        )
        assert response.status_code == 400
        assert "frozen as a suspected provocation" in response.content.decode()
    assert Case.objects.get(pk=case.pk).stage == Stage.PLANNING


def test_a_coordinator_closes_a_frozen_case_as_a_suspected_provocation(case, coordinator):
    case = flagged(case, coordinator)
    case_transition(
        case=case,
        to_stage=Stage.CLOSED,
        by=coordinator,
        expected_version=case.version,
        outcome=Outcome.PROVOCATION,
    )
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED and case.outcome == Outcome.PROVOCATION


def test_a_frozen_case_takes_no_new_legs(case, coordinator, coordinator_client):
    case = flagged(case, coordinator)
    response = coordinator_client.post(
        url("casework:leg_new", case),
        {"version": case.version, "origin": "Typedorigin", "destination": "Typeddest"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "no legs can be added" in html and "Typedorigin" in html
    assert RouteLeg.objects.filter(case=case).count() == 2


# --- Hidden route ----------------------------------------------------------------------------


def test_a_frozen_case_hides_its_route_from_all_but_coordinators(
    case, volunteer, volunteer_client, coordinator_client, leg_volunteer
):
    flagged(case, volunteer)
    html = volunteer_client.get(url("casework:case_detail", case)).content.decode()
    for hidden in ("Routesummarymarker", "Legonemarker", "Legtwomarker", REASON):
        assert hidden not in html, hidden
    assert "Leg 2 of 2" in html and "withheld" in html
    edit = volunteer_client.get(url("casework:case_edit", case)).content.decode()
    assert "Routesummarymarker" not in edit and "case-route_summary" not in edit
    own_leg = RouteLeg.objects.get(volunteer=leg_volunteer)
    leg_page = verified_client(leg_volunteer).get(
        reverse("casework:leg_detail", args=[case.reference, own_leg.pk])
    )
    assert leg_page.status_code == 200
    assert "Legonemarker" not in leg_page.content.decode()
    coordinator_html = coordinator_client.get(url("casework:case_detail", case)).content.decode()
    for shown in ("Routesummarymarker", "Legonemarker", "Legtwomarker", REASON):
        assert shown in coordinator_html, shown


def test_the_assignee_cannot_rewrite_a_hidden_route_summary(case, volunteer, volunteer_client):
    case = flagged(case, volunteer)
    response = volunteer_client.post(
        url("casework:case_edit", case),
        {
            "version": case.version,
            "person-preferred_language": "ru",
            "case-route_summary": "Overwritten",
            "case-destination_country": "GE",
        },
    )
    assert response.status_code in (200, 302)
    assert Case.objects.get(pk=case.pk).route_summary == "Routesummarymarker"


# --- Triage and retention --------------------------------------------------------------------


def provocation_case(volunteer, coordinator, team) -> Case:
    """A case opened from a request, then closed by a coordinator as a oversight."""
    request = intake_log(
        by=volunteer, team=team, channel="telegram", received_at=timezone.now(), contact=CONTACT
    )
    case = intake_accept(request=request, by=coordinator)
    case.person.legal_name, case.person.birth_date = "Test Fakeperson", date(1990, 1, 2)
    case.person.save()

    person_indexes_refresh(case.person)
    case = Case.objects.get(pk=case.pk)
    case = flagged(case, coordinator)
    case_transition(
        case=case,
        to_stage=Stage.CLOSED,
        by=coordinator,
        expected_version=case.version,
        outcome=Outcome.PROVOCATION,
    )
    return Case.objects.get(pk=case.pk)


def repeat_request_page(volunteer, team) -> str:
    repeat = intake_log(
        by=volunteer,
        team=team,
        channel="signal",
        received_at=timezone.now(),
        contact=CONTACT.upper(),
    )
    response = verified_client(volunteer).get(reverse("intake:detail", args=[repeat.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_repeat_request_after_a_provocation_close_is_flagged_at_triage(
    volunteer, coordinator, team
):
    case = provocation_case(volunteer, coordinator, team)
    html = repeat_request_page(volunteer, team)
    assert "Warning: suspected provocation" in html
    assert f"This contact matches {case.reference}" in html


def test_a_repeat_request_from_another_team_is_flagged_without_the_reference(
    volunteer, coordinator, team, other_volunteer, other_team
):
    # The warning is what keeps the other team safe; the reference would tell them which
    # case of ours the contact belongs to, which is not theirs to know.
    case = provocation_case(volunteer, coordinator, team)
    html = repeat_request_page(other_volunteer, other_team)
    assert "Warning: suspected provocation" in html
    assert "matches a case of another team flagged or closed as a suspected" in html
    assert case.reference not in html


def test_an_ordinary_repeat_request_carries_no_warning(volunteer, coordinator, team):
    request = intake_log(
        by=volunteer, team=team, channel="telegram", received_at=timezone.now(), contact=CONTACT
    )
    intake_accept(request=request, by=coordinator)
    assert "Warning: suspected provocation" not in repeat_request_page(volunteer, team)


def test_the_purge_keeps_a_provocation_cases_contact_indexes_only(
    volunteer, coordinator, team, settings
):
    settings.RETENTION_DAYS = 30
    case = provocation_case(volunteer, coordinator, team)
    kinds = set(PersonIndex.objects.filter(person=case.person).values_list("kind", flat=True))
    assert blind_index.Kind.NAME_BIRTH in kinds and blind_index.Kind.HANDLE in kinds
    # Closed, with no work on it, for longer than the retention period.
    assert retention.purge_expired_cases(timezone.now() + timedelta(days=31)) == 1
    case.refresh_from_db()
    assert case.is_purged and case.provocation_reason == ""
    assert not RouteLeg.objects.filter(case=case).exists()
    kept = set(PersonIndex.objects.filter(person=case.person).values_list("kind", flat=True))
    assert kept == {blind_index.Kind.HANDLE}
    html = repeat_request_page(volunteer, team)
    assert f"This contact matches {case.reference}" in html


def test_the_purge_of_an_ordinary_case_keeps_no_index(volunteer, coordinator, team, settings):
    settings.RETENTION_DAYS = 30
    request = intake_log(
        by=volunteer, team=team, channel="telegram", received_at=timezone.now(), contact=CONTACT
    )
    case = intake_accept(request=request, by=coordinator)
    case_transition(
        case=case,
        to_stage=Stage.CLOSED,
        by=coordinator,
        expected_version=case.version,
        outcome=Outcome.WITHDREW,
    )
    # Closed, with no work on it, for longer than the retention period.
    assert retention.purge_expired_cases(timezone.now() + timedelta(days=31)) == 1
    assert not PersonIndex.objects.filter(person=case.person).exists()
