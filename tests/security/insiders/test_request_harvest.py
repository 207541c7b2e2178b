"""Finding 3: a volunteer opened /intake/<ref>/ for every request of their team, in any
state, and collected 125 phone numbers in seconds with no alert. A volunteer reads a
request's contact and message only while it waits in their team's triage queue, or through
a case they may see; reading many requests (or route legs) within an hour alerts the admins.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import InsiderAlert
from casework.models import RouteLeg
from intake.models import IntakeRequest
from intake.services import intake_log
from tests.factories import CaseFactory

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
