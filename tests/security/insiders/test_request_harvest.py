"""Finding 3: a volunteer opened /intake/<ref>/ for every request of their team, in any
state, and collected 125 phone numbers in seconds with no alert. A volunteer reads a
request's contact and message only while it waits in their team's triage queue, or through
a case they may see; reading many requests (or route legs) within an hour alerts the admins.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import RouteLeg
from casework.services.cases import case_assign
from intake import permissions, selectors
from intake.models import IntakeRequest, TriageState
from intake.services import intake_accept, intake_log, intake_mark_duplicate, intake_reject
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def detail(request: IntakeRequest) -> str:
    return reverse("intake:detail", args=[request.reference])


def phone(number: int) -> str:
    return f"+7 901 {number:03d}-55-44"


def logged(by, team, number: int, message: str = "") -> IntakeRequest:
    return intake_log(
        by=by,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact=phone(number),
        message=message or f"Secret message {number}",
    )


@pytest.fixture
def teammate(team):
    return UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])


def test_a_volunteer_cannot_harvest_the_requests_behind_cases_not_theirs(
    volunteer, volunteer_client, coordinator, teammate, team
):
    # Thirty requests of the volunteer's own team, accepted by the coordinator; half of the
    # cases are given to a teammate, half wait unassigned. The attacker logged some himself.
    harvested = []
    for number in range(30):
        request = logged(volunteer if number % 3 == 0 else coordinator, team, number)
        case = intake_accept(request=request, by=coordinator)
        if number % 2:
            case_assign(case=case, assignee=teammate, by=coordinator, expected_version=case.version)
        harvested.append(request)
    missing = volunteer_client.get("/intake/R-2026-99999/")
    for request in harvested:
        response = volunteer_client.get(detail(request))
        page = response.content.decode()
        assert response.status_code == 404, request.reference
        assert page == missing.content.decode()  # the same 404 as a request that never was
        assert "+7 901" not in page and "Secret message" not in page
    assert not AccessEvent.objects.filter(action=Action.REQUEST_VIEWED, actor=volunteer).exists()


def test_a_volunteer_cannot_read_rejected_or_duplicate_requests_of_cases_not_theirs(
    volunteer, volunteer_client, coordinator, coordinator_client, team
):
    rejected = logged(volunteer, team, 1)
    intake_reject(request=rejected, by=coordinator, reason="Looks like a test of us")
    original = logged(coordinator, team, 2)
    case = intake_accept(request=original, by=coordinator)
    repeat = logged(volunteer, team, 2)
    intake_mark_duplicate(request=repeat, reference=case.reference, by=coordinator)
    for request in (rejected, repeat):
        response = volunteer_client.get(detail(request))
        assert response.status_code == 404
        assert request.contact not in response.content.decode()
        # Nor can a triage post reach them.
        assert volunteer_client.post(detail(request), {"action": "accept"}).status_code == 404
    # The team's coordinator keeps seeing every request of the team.
    for request in (rejected, repeat, original):
        response = coordinator_client.get(detail(request))
        assert response.status_code == 200
        assert request.contact in response.content.decode()


def test_a_volunteer_reads_the_queue_and_the_requests_of_their_own_cases(
    volunteer, volunteer_client, coordinator, team
):
    waiting = logged(coordinator, team, 1)
    page = volunteer_client.get(detail(waiting)).content.decode()
    assert waiting.contact in page and "Secret message 1" in page
    mine = logged(coordinator, team, 2)
    case = intake_accept(request=mine, by=coordinator)
    assert volunteer_client.get(detail(mine)).status_code == 404
    case_assign(case=case, assignee=volunteer, by=coordinator, expected_version=case.version)
    page = volunteer_client.get(detail(mine)).content.decode()
    assert mine.contact in page and "Secret message 2" in page


def test_a_volunteer_who_loses_the_case_loses_its_request(
    volunteer, volunteer_client, coordinator, teammate, team
):
    request = logged(volunteer, team, 1)
    volunteer_client.post(detail(request), {"action": "accept"})
    request.refresh_from_db()
    assert volunteer_client.get(detail(request)).status_code == 200
    case = request.case
    case_assign(case=case, assignee=teammate, by=coordinator, expected_version=case.version)
    assert volunteer_client.get(detail(request)).status_code == 404


def test_the_list_and_the_page_agree_on_every_request(
    volunteer, coordinator, other_volunteer, teammate, team, other_team
):
    """The scoped queryset and the one-request predicate give the same answer for every
    user and every state, so no page can show what another hides."""
    requests = []
    for number, state in enumerate(["new", "accepted", "accepted", "duplicate", "rejected"]):
        # The duplicate repeats the contact of the case before it: a listed duplicate.
        request = logged(coordinator, team, number - 1 if state == "duplicate" else number)
        if state == "accepted":
            case = intake_accept(request=request, by=coordinator)
            if number == 1:
                case_assign(
                    case=case, assignee=volunteer, by=coordinator, expected_version=case.version
                )
        elif state == "duplicate":
            intake_mark_duplicate(request=request, reference=case.reference, by=coordinator)
        elif state == "rejected":
            intake_reject(request=request, by=coordinator, reason="Spam")
        requests.append(request)
    requests.append(logged(other_volunteer, other_team, 9))
    for user in (volunteer, coordinator, other_volunteer, teammate):
        visible = set(selectors.intake_visible_to(user).values_list("pk", flat=True))
        for request in IntakeRequest.objects.select_related("case").all():
            assert (request.pk in visible) == permissions.can_view_request(user, request), (
                user.username,
                request.state,
            )
    assert set(selectors.intake_visible_to(volunteer).values_list("state", flat=True)) == {
        TriageState.NEW,
        TriageState.ACCEPTED,
    }


def test_reading_many_requests_within_an_hour_raises_one_alert(
    volunteer, volunteer_client, coordinator, team, settings
):
    settings.INSIDER_REQUESTS_PER_HOUR = 3
    waiting = [logged(coordinator, team, number) for number in range(6)]
    for request in waiting[:3]:
        volunteer_client.get(detail(request))
        volunteer_client.get(detail(request))  # the same request again counts once
    assert not InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_REQUESTS).exists()
    for request in waiting[3:]:
        volunteer_client.get(detail(request))
    alerts = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_REQUESTS)
    assert [alert.actor for alert in alerts] == [volunteer]


def test_reading_many_route_legs_within_an_hour_raises_one_alert(
    coordinator, coordinator_client, team, settings
):
    settings.INSIDER_ROUTES_PER_HOUR = 2
    cases = [CaseFactory(team=team) for _ in range(4)]
    legs = [
        RouteLeg.objects.create(case=case, position=1, origin="A", destination="B")
        for case in cases
    ]
    for case, leg in zip(cases, legs, strict=True):
        url = reverse("casework:leg_detail", args=[case.reference, leg.pk])
        assert coordinator_client.get(url).status_code == 200
    alerts = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_ROUTES)
    assert [alert.actor for alert in alerts] == [coordinator]
