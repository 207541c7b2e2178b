"""A page's queries do not grow with the number of rows (10 cases, then 1,000)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseEvent, EventKind, Person, RouteLeg, Stage
from intake.models import IntakeRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add_cases(team, count, assignee=None):
    start = Person.objects.count()
    people = Person.objects.bulk_create(
        Person(codename=f"Bulk-{start + n:06d}", category="deserter") for n in range(count)
    )
    stages = list(Stage)
    Case.objects.bulk_create(
        Case(
            reference=f"C-2026-{start + n + 10000:05d}",
            person=person,
            team=team,
            stage=stages[n % len(stages)],
            assignee=assignee,
            flag_wanted=n % 4 == 0,
            # Some lost contact: the dashboard's list and the board's badges stay flat too.
            lost_contact_at=timezone.now() if n % 5 == 0 else None,
            next_action_due=timezone.localdate(),
        )
        for n, person in enumerate(people)
    )
    IntakeRequest.objects.bulk_create(
        IntakeRequest(
            reference=f"R-2026-{start + n + 10000:05d}",
            team=team,
            channel="phone",
            received_at=timezone.now(),
            contact="@bulk",
            logged_by=assignee or UserFactory(),
        )
        for n in range(count // 10)
    )


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


PAGES = [
    reverse("dashboard:home"),
    reverse("casework:case_list"),
    reverse("casework:case_list") + "?risk=flag_wanted&page=3",
    reverse("casework:board"),
    reverse("intake:queue"),
]


@pytest.mark.parametrize("url", PAGES)
def test_coordinator_pages_stay_flat(
    coordinator_client, volunteer, team, url, django_assert_max_num_queries
):
    add_cases(team, 10, assignee=volunteer)
    few = queries(coordinator_client, url)
    add_cases(team, 990, assignee=volunteer)
    with django_assert_max_num_queries(few):
        coordinator_client.get(url)


@pytest.mark.parametrize("url", PAGES[:3])
def test_volunteer_pages_stay_flat(
    volunteer_client, volunteer, team, url, django_assert_max_num_queries
):
    add_cases(team, 10, assignee=volunteer)
    few = queries(volunteer_client, url)
    add_cases(team, 990, assignee=volunteer)
    with django_assert_max_num_queries(few):
        volunteer_client.get(url)


def test_case_page_stays_flat_with_many_events(
    coordinator_client, volunteer, team, django_assert_max_num_queries
):
    add_cases(team, 1, assignee=volunteer)
    case = Case.objects.get()
    url = reverse("casework:case_detail", args=[case.reference])
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind=EventKind.NOTE, actor=volunteer, text="n") for _ in range(3)
    )
    few = queries(coordinator_client, url)
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind=EventKind.NOTE, actor=volunteer, text="n") for _ in range(150)
    )
    with django_assert_max_num_queries(few):
        coordinator_client.get(url)


def add_legs(case, count, volunteer):
    start = RouteLeg.objects.filter(case=case).count()
    RouteLeg.objects.bulk_create(
        RouteLeg(
            case=case,
            position=start + n + 1,
            origin="from",
            destination="to",
            contact="c",
            volunteer=volunteer if n % 2 else None,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("who", ["coordinator", "volunteer"])
def test_case_page_stays_flat_with_many_legs(
    coordinator_client, volunteer_client, volunteer, team, who, django_assert_max_num_queries
):
    client = coordinator_client if who == "coordinator" else volunteer_client
    add_cases(team, 1, assignee=volunteer)
    case = Case.objects.get()
    url = reverse("casework:case_detail", args=[case.reference])
    add_legs(case, 2, volunteer)
    few = queries(client, url)
    add_legs(case, 40, volunteer)
    with django_assert_max_num_queries(few):
        client.get(url)


def test_leg_list_stays_flat(volunteer_client, volunteer, team, django_assert_max_num_queries):
    add_cases(team, 30, assignee=volunteer)
    cases = list(Case.objects.all())
    for case in cases[:2]:
        add_legs(case, 2, volunteer)
    url = reverse("casework:leg_list")
    few = queries(volunteer_client, url)
    for case in cases[2:]:
        add_legs(case, 3, volunteer)
    with django_assert_max_num_queries(few):
        volunteer_client.get(url)
