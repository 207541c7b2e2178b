"""Route legs: a leg's details reach the team's coordinators and the leg's own volunteer,
and nobody else; everyone else on the case reads "leg 2 of 3, planned 12 Dec"."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import BreakGlass, Case, EventKind, RouteLeg, Stage
from casework.selectors import routes as route_selectors
from casework.services import routes as route_services
from intake.services import intake_document_attach, intake_log
from tests.conftest import verified_client
from tests.documents import fixtures
from tests.factories import CaseFactory, PersonFactory, UserFactory
from tests.security.urlconf import all_patterns

pytestmark = pytest.mark.django_db

LEG_FIELDS = ("origin", "destination", "means", "contact", "safe_house", "notes")
DAY = date(2031, 12, 10)


def leg_values(tag: str) -> dict[str, str]:
    """A unique marker in every encrypted leg field: a hit on a page cannot be chance."""
    return {name: f"Mk{tag}{name.replace('_', '')}Zq" for name in LEG_FIELDS}


@pytest.fixture
def leg_volunteer(team):
    return UserFactory(username="legrunner", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def case(team, volunteer, coordinator):
    person = PersonFactory(legal_name="Personmarker Qwxz", phone="+7 900 111-22-33")
    return CaseFactory(
        team=team,
        person=person,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PLANNING,
        route_summary="Routesummarymarker Qq",
    )


@pytest.fixture
def legs(case, leg_volunteer, volunteer):
    """Leg 1 handled by leg_volunteer, leg 2 by nobody, leg 3 by the assignee."""
    made = []
    for number, handler in enumerate((leg_volunteer, None, volunteer), start=1):
        made.append(
            RouteLeg.objects.create(
                case=case,
                position=number,
                planned_on=DAY + timedelta(days=number),
                volunteer=handler,
                **leg_values(str(number)),
            )
        )
    return made


def markers(*numbers: int) -> list[str]:
    return [value for number in numbers for value in leg_values(str(number)).values()]


def page(client, name: str, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


# --- The selector, per role ------------------------------------------------------------------


def details_of(route) -> list[bool]:
    return [leg.details is not None for leg in route.legs]


def test_a_coordinator_of_the_team_gets_every_legs_details(case, legs, coordinator):
    route = route_selectors.route_for(coordinator, case)
    assert details_of(route) == [True, True, True]
    assert [leg.number for leg in route.legs] == [1, 2, 3]
    assert route.legs[0].details.contact == leg_values("1")["contact"]


def test_the_assignee_gets_the_details_of_their_own_leg_only(case, legs, volunteer):
    route = route_selectors.route_for(volunteer, case)
    assert details_of(route) == [False, False, True]
    assert [(leg.number, leg.total, leg.planned_on) for leg in route.legs][:1] == [
        (1, 3, DAY + timedelta(days=1))
    ]


def test_an_assignee_on_no_leg_gets_no_details(case, legs, volunteer, leg_volunteer):
    RouteLeg.objects.filter(volunteer=volunteer).update(volunteer=leg_volunteer)
    assert details_of(route_selectors.route_for(volunteer, case)) == [False, False, False]


def test_a_break_glass_coordinator_gets_no_leg_details(case, legs, other_team):
    outsider = UserFactory(role=Role.COORDINATOR, teams=[other_team])
    BreakGlass.objects.create(
        case=case, user=outsider, reason="x" * 12, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert details_of(route_selectors.route_for(outsider, case)) == [False, False, False]


def test_a_leg_volunteer_who_left_the_team_loses_the_leg(case, legs, leg_volunteer, team):
    leg_volunteer.teams.remove(team)
    leg_volunteer.__dict__.pop("team_ids", None)
    assert details_of(route_selectors.route_for(leg_volunteer, case)) == [False, False, False]
    client = verified_client(leg_volunteer)
    url = reverse("casework:leg_detail", args=[case.reference, legs[0].pk])
    assert client.get(url).status_code == 404


# --- Pages, per role -------------------------------------------------------------------------


def test_the_coordinator_sees_every_leg_on_the_case_page(case, legs, coordinator_client):
    html = page(coordinator_client, "casework:case_detail", case.reference)
    assert all(marker in html for marker in markers(1, 2, 3))
    assert "legrunner" in html


def test_the_assignee_sees_their_leg_and_only_outlines_of_the_others(case, legs, volunteer_client):
    html = page(volunteer_client, "casework:case_detail", case.reference)
    assert all(marker in html for marker in markers(3))
    assert not any(marker in html for marker in markers(1, 2))
    assert "Leg 1 of 3" in html and "planned 11 Dec" in html
    assert "legrunner" not in html  # who handles another leg is a detail of that leg


def test_a_volunteer_on_the_case_but_on_no_leg_sees_no_leg_detail_on_any_page(
    case, legs, volunteer, volunteer_client, leg_volunteer, coordinator
):
    """Every page of the project the volunteer can open, with every argument filled from
    this case, its legs, a reminder and a repeat request that lists the case."""
    RouteLeg.objects.filter(volunteer=volunteer).update(volunteer=leg_volunteer)
    repeat = intake_log(
        by=volunteer,
        team=case.team,
        channel="phone",
        received_at=timezone.now(),
        contact="+7 900 111-22-33",
    )
    from casework.services.cases import person_indexes_refresh

    person_indexes_refresh(case.person)
    # A file sent with the repeat request, so its download is scanned too.
    sent = intake_document_attach(
        request=repeat,
        by=volunteer,
        upload=fixtures.upload(fixtures.png(), "a.png"),
        kind="summons",
        description="Sent with the request",
    )
    arguments = {
        "casework": {"reference": case.reference},
        "intake": {"reference": repeat.reference, "pk": sent.pk},
        "accounts": {"pk": volunteer.pk},
    }
    opened, forbidden = [], [*markers(1, 2, 3), "legrunner"]
    for pattern in all_patterns():
        if pattern.namespace not in {"dashboard", "casework", "intake", "audit", "accounts"}:
            continue
        if pattern.key in {"accounts:logout"}:
            continue
        fill = dict(arguments.get(pattern.namespace, {}))
        pks = [None]
        if "pk" in pattern.arguments and pattern.namespace == "casework":
            pks = [leg.pk for leg in legs]
        for pk in pks:
            values = {name: fill.get(name, pk) for name in pattern.arguments}
            url = pattern.url(values)
            response = volunteer_client.get(url)
            body = response.content.decode(errors="replace")
            leaked = [marker for marker in forbidden if marker in body]
            assert not leaked, f"{url} ({response.status_code}) shows {leaked}"
            if response.status_code == 200:
                opened.append(pattern.key)
    # The scan saw the pages that matter: the case, its edit page, the triage with its
    # duplicates, the dashboard and lists, the leg list.
    assert {
        "casework:case_detail",
        "casework:case_edit",
        "dashboard:home",
        "casework:case_list",
        "casework:board",
        "casework:leg_list",
        "intake:detail",
        "intake:queue",
    } <= set(opened)
    assert "casework:leg_detail" not in opened
    # The case's history is for coordinators; even theirs names no leg's details.
    history = page(verified_client(coordinator), "casework:case_history", case.reference)
    assert not any(marker in history for marker in markers(1, 2, 3))


def test_a_leg_volunteer_not_on_the_case_sees_that_leg_and_the_reference_only(
    case, legs, leg_volunteer
):
    client = verified_client(leg_volunteer)
    html = page(client, "casework:leg_detail", case.reference, legs[0].pk)
    assert all(marker in html for marker in markers(1))
    assert not any(marker in html for marker in markers(2, 3))
    assert case.reference in html and case.person.codename in html
    assert "Personmarker" not in html and "Routesummarymarker" not in html
    assert "Leg 1 of 3" in html
    for other in legs[1:]:
        url = reverse("casework:leg_detail", args=[case.reference, other.pk])
        assert client.get(url).status_code == 404
    assert client.get(reverse("casework:case_detail", args=[case.reference])).status_code == 404
    listed = page(client, "casework:leg_list")
    assert case.reference in listed and not any(marker in listed for marker in markers(1))
    assert AccessEvent.objects.filter(
        actor=leg_volunteer, action=Action.ROUTE_VIEWED, target_ref=case.reference
    ).exists()


def test_a_leg_volunteer_loses_the_details_once_the_case_is_closed(case, legs, leg_volunteer):
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED)
    client = verified_client(leg_volunteer)
    html = page(client, "casework:leg_detail", case.reference, legs[0].pk)
    assert not any(marker in html for marker in markers(1))
    assert "withheld" in html


def test_another_cases_leg_is_404_under_this_reference(case, legs, coordinator_client, team):
    other = CaseFactory(team=team)
    url = reverse("casework:leg_detail", args=[other.reference, legs[0].pk])
    assert coordinator_client.get(url).status_code == 404


# --- Changing the route ----------------------------------------------------------------------


def leg_post(version: int, **fields) -> dict:
    return {"version": version, "origin": "Typedorigin", "destination": "Typeddest", **fields}


def test_a_coordinator_adds_a_leg_with_a_volunteer(case, coordinator_client, leg_volunteer):
    url = reverse("casework:leg_new", args=[case.reference])
    data = leg_post(case.version, planned_on="2031-12-01", volunteer=leg_volunteer.pk)
    response = coordinator_client.post(url, data)
    assert response.status_code == 302
    leg = RouteLeg.objects.get(case=case)
    assert (leg.position, leg.origin, leg.volunteer) == (1, "Typedorigin", leg_volunteer)
    event = case.events.get(kind=EventKind.ROUTE)
    assert event.facts == {"code": "leg_added", "number": 1}
    assert AccessEvent.objects.filter(action=Action.ROUTE_CHANGED).count() == 1
    case.refresh_from_db()
    assert case.version == 2


def test_a_leg_planned_before_the_previous_one_is_refused_and_nothing_typed_is_lost(
    case, legs, coordinator_client
):
    url = reverse("casework:leg_new", args=[case.reference])
    typed = {
        "means": "Typedmeans",
        "contact": "Typedcontact",
        "safe_house": "Typedhouse",
        "notes": "Typednotes",
        "planned_on": "2031-12-01",
    }
    response = coordinator_client.post(url, leg_post(case.version, **typed))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Leg 4 would be planned for 1 Dec 2031, before leg 3 (13 Dec 2031)" in html
    for value in ("Typedorigin", "Typeddest", *typed.values()):
        assert value in html, value
    assert RouteLeg.objects.filter(case=case).count() == 3
    case.refresh_from_db()
    assert case.version == 1


def test_placing_the_leg_where_its_date_belongs_is_accepted(case, legs, coordinator_client):
    url = reverse("casework:leg_new", args=[case.reference])
    data = leg_post(case.version, planned_on="2031-12-01", number=1)
    assert coordinator_client.post(url, data).status_code == 302
    order = list(RouteLeg.objects.filter(case=case).values_list("origin", "position"))
    assert order[0] == ("Typedorigin", 1)
    assert [position for _origin, position in order] == [1, 2, 3, 4]


def test_moving_a_leg_against_the_dates_is_refused(case, legs, coordinator_client):
    url = reverse("casework:leg_edit", args=[case.reference, legs[2].pk])
    data = {**leg_values("3"), "version": case.version, "number": 1, "planned_on": "2031-12-13"}
    response = coordinator_client.post(url, data)
    assert response.status_code == 400
    assert "before leg 1" in response.content.decode()


def test_moving_a_leg_with_a_fitting_date_renumbers_the_route(case, legs, coordinator_client):
    url = reverse("casework:leg_edit", args=[case.reference, legs[2].pk])
    data = {**leg_values("3"), "version": case.version, "number": 1, "planned_on": "2031-12-01"}
    assert coordinator_client.post(url, data).status_code == 302
    positions = dict(RouteLeg.objects.values_list("pk", "position"))
    assert [positions[leg.pk] for leg in legs] == [2, 3, 1]


def test_removing_a_leg_moves_the_later_ones_up(case, legs, coordinator_client):
    url = reverse("casework:leg_remove", args=[case.reference, legs[0].pk])
    assert coordinator_client.post(url, {"version": case.version}).status_code == 302
    assert list(RouteLeg.objects.order_by("position").values_list("pk", "position")) == [
        (legs[1].pk, 1),
        (legs[2].pk, 2),
    ]


def test_a_stale_leg_form_is_refused_with_what_was_typed(case, legs, coordinator_client):
    url = reverse("casework:leg_edit", args=[case.reference, legs[1].pk])
    Case.objects.filter(pk=case.pk).update(version=5)
    response = coordinator_client.post(url, leg_post(1, notes="Typednotes"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "Typednotes" in html and 'value="5"' in html
    assert RouteLeg.objects.get(pk=legs[1].pk).notes == leg_values("2")["notes"]


def test_a_legs_volunteer_must_be_of_the_cases_team(case, coordinator, other_volunteer):
    with pytest.raises(Exception) as refused:
        route_services.leg_add(
            case=case,
            by=coordinator,
            expected_version=case.version,
            details={"origin": "a", "destination": "b", "volunteer": other_volunteer},
        )
    assert "member of the case's team" in str(refused.value)


def test_the_assignee_cannot_change_the_route(case, legs, volunteer_client):
    for url, data in (
        (reverse("casework:leg_new", args=[case.reference]), leg_post(case.version)),
        (reverse("casework:leg_edit", args=[case.reference, legs[2].pk]), leg_post(1)),
        (reverse("casework:leg_remove", args=[case.reference, legs[2].pk]), {"version": 1}),
    ):
        assert volunteer_client.post(url, data).status_code == 403
    assert RouteLeg.objects.filter(case=case).count() == 3
