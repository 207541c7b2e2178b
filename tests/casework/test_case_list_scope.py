"""The case list and the board for users whose cases come from more than one place: a
coordinator of two teams, a coordinator who is also a volunteer, a break-glass grant.

Their pages are cut from each part of their scope separately (one team, their own, the
granted) and merged; these tests hold the result to the plain reading of the whole list.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework.models import BreakGlass, Case, Stage
from casework.selectors import cases as case_selectors
from casework.selectors.cases import CaseFilters
from intake.models import TriageState
from intake.selectors import oldest_waiting
from tests.conftest import verified_client
from tests.factories import (
    CaseFactory,
    IntakeRequestFactory,
    TeamFactory,
    UserFactory,
    role_group,
)

pytestmark = pytest.mark.django_db

ALL = CaseFilters()
START = timezone.now() - timedelta(days=90)


@pytest.fixture
def east(db):
    return TeamFactory(name="East")


@pytest.fixture
def lead(team, other_team):
    """A coordinator of two teams."""
    return UserFactory(username="lead", role=Role.COORDINATOR, teams=[team, other_team])


def interleaved(teams, count, **fields):
    """`count` cases spread over `teams` in turn, an hour apart, with a tie every tenth."""
    return [
        CaseFactory(
            team=teams[n % len(teams)],
            stage_entered_at=START + timedelta(hours=n - (n % 10 == 9)),
            **fields,
        )
        for n in range(count)
    ]


def whole_list(user, filters=ALL) -> list[int]:
    return list(case_selectors.case_list(user, filters).values_list("id", flat=True))


def paged(user, filters=ALL, per_page=7) -> list[int]:
    ids, number = [], 1
    while True:
        page = case_selectors.case_list_page(user, filters, number, per_page)
        ids += [case.id for case in page.object_list]
        assert page.paginator.count == len(whole_list(user, filters))
        if not page.has_next():
            return ids
        number += 1


def test_a_two_team_coordinator_pages_through_both_teams_in_order(
    lead, team, other_team, east, django_assert_max_num_queries
):
    cases = interleaved([team, other_team, east], 90, flag_wanted=True)
    theirs = sorted(
        (c for c in cases if c.team_id != east.pk), key=lambda c: (c.stage_entered_at, c.pk)
    )
    client = verified_client(lead)
    listing = reverse("casework:case_list")
    shown = []
    for number in (1, 2, 3):
        html = client.get(listing, {"risk": "flag_wanted", "page": number}).content.decode()
        on_page = [c for c in cases if c.reference in html]
        shown += sorted(on_page, key=lambda c: html.index(c.reference))
    assert [c.reference for c in shown] == [c.reference for c in theirs]
    assert "60 cases" in html
    assert not any(c.reference in html for c in cases if c.team_id == east.pk)


@pytest.mark.parametrize(
    "filters",
    [
        CaseFilters(),
        CaseFilters(stage=Stage.PLANNING),
        CaseFilters(assignee="me"),
        CaseFilters(assignee="none"),
        CaseFilters(risk="flag_wanted"),
        CaseFilters(overdue=True),
    ],
    ids=["all", "stage", "mine", "unassigned", "risk", "overdue"],
)
def test_every_page_is_cut_from_the_whole_list(team, other_team, east, filters):
    """A coordinator of one team who is also a volunteer, with cases of their own in their
    team and elsewhere (hidden: access follows membership), and break-glass grants on a
    case of another team and on one of their own: every case they may see shows once, in
    the list's order."""
    user = UserFactory(username="both", role=Role.COORDINATOR, teams=[team])
    user.groups.add(role_group(Role.VOLUNTEER))
    user = type(user).objects.get(pk=user.pk)  # roles and teams read afresh
    stages = [Stage.NEW, Stage.PLANNING, Stage.CROSSING]
    yesterday = timezone.localdate() - timedelta(days=1)
    for n, case in enumerate(interleaved([team, other_team, east], 60)):
        case.stage = stages[(n // 3) % 3]  # every stage in every team
        case.assignee = user if n % 4 == 0 else None
        case.flag_wanted = n % 6 in (1, 2)
        case.next_action_due = yesterday if n % 5 == 0 else None
        case.save()
    grants = [
        Case.objects.filter(team=east, assignee=None).first(),
        Case.objects.filter(team=team)[0],
    ]
    for case in grants:
        BreakGlass.objects.create(
            case=case, user=user, reason="checking", expires_at=timezone.now() + timedelta(hours=1)
        )
    expected = whole_list(user, filters)
    assert expected, "the filter must leave something to page through"
    assert paged(user, filters) == expected
    if filters == CaseFilters():
        visible = set(expected)
        assert grants[0].pk in visible
        assert (
            not Case.objects.filter(pk__in=visible, team=east)
            .exclude(pk=grants[0].pk)
            .exclude(assignee=user)
            .exists()
        )


def test_a_page_past_the_end_shows_the_last(lead, team, other_team):
    interleaved([team, other_team], 10)
    page = case_selectors.case_list_page(lead, CaseFilters(), 99, 4)
    assert page.number == 3
    assert [c.id for c in page.object_list] == whole_list(lead)[8:]


def test_nobody_sees_a_case_twice_or_an_empty_scope_errs(team, admin_user):
    assert paged(admin_user) == []
    inactive = UserFactory(role=Role.COORDINATOR, teams=[team], is_active=False)
    CaseFactory(team=team)
    assert paged(inactive) == []


def test_the_board_shows_each_stages_oldest_of_both_teams(lead, team, other_team, east):
    cases = interleaved([team, other_team, east], 60, stage=Stage.PLANNING)
    theirs = sorted(
        (c for c in cases if c.team_id != east.pk), key=lambda c: (c.stage_entered_at, c.pk)
    )
    columns = {
        stage: (shown, total) for stage, shown, total in case_selectors.board_columns(lead, 15)
    }
    shown, total = columns[Stage.PLANNING]
    assert [c.pk for c in shown] == [c.pk for c in theirs[:15]]
    assert total == 40
    assert columns[Stage.NEW] == ([], 0)
    html = verified_client(lead).get(reverse("casework:board")).content.decode()
    assert all(c.reference in html for c in theirs[:15])
    assert not any(c.reference in html for c in theirs[15:] + [c for c in cases if c.team == east])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite asks once per team")
def test_on_postgresql_a_second_team_costs_no_query(team, other_team, east):
    """Each team's index walk is merged in one query: a coordinator of three teams asks
    what a coordinator of one asks, for a page of the list and for the board."""
    interleaved([team, other_team, east], 30, flag_wanted=True)
    one = verified_client(UserFactory(role=Role.COORDINATOR, teams=[team]))
    three = verified_client(UserFactory(role=Role.COORDINATOR, teams=[team, other_team, east]))
    for url in (
        reverse("casework:case_list") + "?risk=flag_wanted&page=2",
        reverse("casework:board"),
    ):
        counts = []
        for client in (one, three):
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        assert counts[1] == counts[0], url


def test_the_dashboard_lists_the_longest_waiting_of_both_teams(lead, team, other_team, east):
    """Unassigned open cases and untriaged requests: the oldest of both teams together,
    none of a third team, none assigned, closed or triaged."""
    waiting = interleaved([team, other_team, east], 45)
    for case in waiting[:6]:
        case.assignee = lead
        case.save()
    waiting[6].stage = Stage.CLOSED
    waiting[6].save()
    expected = [c for c in waiting[7:] if c.team != east][:20]
    assert [c.pk for c in case_selectors.unassigned_cases_for(lead)] == [c.pk for c in expected]
    requests = [
        IntakeRequestFactory(
            team=[team, other_team, east][n % 3],
            received_at=START + timedelta(minutes=n),
            state=TriageState.REJECTED if n == 1 else TriageState.NEW,
        )
        for n in range(12)
    ]
    oldest = [r for n, r in enumerate(requests) if r.team != east and n != 1][:5]
    assert [r.pk for r in oldest_waiting(lead, 5)] == [r.pk for r in oldest]
    client = verified_client(lead)
    html = client.get(reverse("dashboard:home")).content.decode()
    assert all(c.reference in html for c in expected)
    assert all(r.reference in html for r in oldest)
    assert not any(x.reference in html for x in waiting + requests if x.team == east)
    # The triage queue: every waiting request of both teams, oldest first.
    queue = client.get(reverse("intake:queue")).content.decode()
    theirs = [r for n, r in enumerate(requests) if r.team != east and n != 1]
    assert sorted(theirs, key=lambda r: queue.find(r.reference)) == theirs
    assert all(r.reference in queue for r in theirs)
    assert not any(r.reference in queue for r in requests if r.team == east)
