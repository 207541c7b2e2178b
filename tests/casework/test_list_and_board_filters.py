"""Filters on the case list and the board: by assignee (a member of one's own teams, "only
mine", nobody yet) and by risk, from the address; a bad value is explained, never a 500,
and a member of another team is refused without telling whether they exist."""

import re

import pytest
from django.urls import reverse

from accounts.roles import Role
from casework.models import Case, Stage
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("casework:case_list")
BOARD = reverse("casework:board")


@pytest.fixture
def teammate(team):
    return UserFactory(username="teammate1", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def spread(team, other_team, volunteer, teammate, coordinator, other_volunteer):
    """Cases of the team held by different people, one flagged, and the other team's."""
    return {
        "volunteers": CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING),
        "teammates": CaseFactory(
            team=team, assignee=teammate, stage=Stage.PLANNING, flag_wanted=True
        ),
        "coordinators": CaseFactory(team=team, assignee=coordinator, stage=Stage.PLANNING),
        "nobodys": CaseFactory(team=team, stage=Stage.NEW, flag_health=True),
        "theirs": CaseFactory(team=other_team, assignee=other_volunteer, stage=Stage.PLANNING),
    }


def shown(client, url: str, query: dict, spread: dict) -> set[str]:
    response = client.get(url, query)
    assert response.status_code == 200, response.content.decode()[:500]
    html = response.content.decode()
    return {name for name, case in spread.items() if f">{case.reference}</a>" in html}


@pytest.mark.parametrize("url", [LIST, BOARD])
def test_filters_narrow_the_list_and_the_board(coordinator_client, teammate, spread, url):
    everyone = {"volunteers", "teammates", "coordinators", "nobodys"}
    assert shown(coordinator_client, url, {}, spread) == everyone
    assert shown(coordinator_client, url, {"assignee": teammate.pk}, spread) == {"teammates"}
    assert shown(coordinator_client, url, {"assignee": "none"}, spread) == {"nobodys"}
    assert shown(coordinator_client, url, {"risk": "flag_wanted"}, spread) == {"teammates"}
    assert shown(coordinator_client, url, {"risk": "flag_health"}, spread) == {"nobodys"}
    both = {"assignee": teammate.pk, "risk": "flag_health"}
    assert shown(coordinator_client, url, both, spread) == set()


@pytest.mark.parametrize("url", [LIST, BOARD])
def test_only_mine_shows_only_the_users_own_cases(
    coordinator_client, volunteer_client, spread, url
):
    assert shown(coordinator_client, url, {"assignee": "me"}, spread) == {"coordinators"}
    assert shown(volunteer_client, url, {"assignee": "me"}, spread) == {"volunteers"}
    html = coordinator_client.get(url).content.decode()
    assert 'href="?assignee=me"' in html and "Only mine" in html


def test_the_board_counts_only_what_the_filter_lets_through(coordinator_client, teammate, spread):
    html = coordinator_client.get(BOARD, {"assignee": teammate.pk}).content.decode()
    planning = html.split('id="col-planning"', 1)[1].split("</h2>", 1)[0]
    assert '<span class="count">1</span>' in planning  # two planning cases, one the teammate's


def test_a_coordinator_may_filter_by_the_members_of_their_own_teams_only(
    coordinator_client, teammate, other_volunteer, spread
):
    html = coordinator_client.get(LIST).content.decode()
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html))
    assert options[str(teammate.pk)] == "teammate1"
    assert str(other_volunteer.pk) not in options
    assert "volunteer2" not in html


@pytest.mark.parametrize("url", [LIST, BOARD])
def test_another_teams_member_in_the_filter_is_refused_and_leaks_nothing(
    coordinator_client, other_volunteer, spread, url
):
    """An attacker who guesses another team's member id learns neither their cases nor
    whether the id is anyone: the answer is the one a made-up id gets."""
    answers = []
    for guess in (other_volunteer.pk, 987654):
        response = coordinator_client.get(url, {"assignee": guess})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Choose an assignee from the list: someone of your teams." in html
        assert spread["theirs"].reference not in html
        assert "volunteer2" not in html
        # The refused filter is dropped: the page shows the team's cases unfiltered.
        assert spread["teammates"].reference in html
        answers.append(re.sub(r'nonce="[^"]*"|value="[^"]{40,}"', "", html))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("url", [LIST, BOARD])
@pytest.mark.parametrize(
    "query",
    [{"risk": "flag_nonsense"}, {"assignee": "admin' --"}, {"risk": "<script>"}],
    ids=["risk", "assignee", "markup"],
)
def test_a_bad_filter_value_is_explained_not_a_500(coordinator_client, spread, url, query):
    response = coordinator_client.get(url, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error" role="alert"' in html
    assert "<script>" not in html


def test_a_volunteer_is_offered_no_teammates_to_filter_by(volunteer_client, teammate, spread):
    html = volunteer_client.get(LIST).content.decode()
    assert "teammate1" not in html
    assert volunteer_client.get(LIST, {"assignee": teammate.pk}).status_code == 400


def test_reference_and_codename_sit_on_one_line_in_the_list(coordinator_client, spread):
    html = coordinator_client.get(LIST).content.decode()
    case = spread["teammates"]
    assert re.search(
        rf">{case.reference}</a> <span class=\"muted nowrap\">{case.person.codename}</span>", html
    )


@pytest.mark.parametrize(
    "query", [{"assignee": "me"}, {"risk": "flag_wanted"}, {"assignee": "none"}], ids=str
)
def test_filtered_pages_cost_the_same_queries_for_few_rows_or_many(
    coordinator, coordinator_client, team, query, django_assert_max_num_queries
):
    def crowd(count: int) -> None:
        for _ in range(count):
            CaseFactory(team=team, assignee=coordinator, flag_wanted=True)
            CaseFactory(team=team, stage=Stage.PLANNING, flag_wanted=True)

    crowd(2)
    counts = {}
    for url in (LIST, BOARD):
        with django_assert_max_num_queries(40) as captured:
            assert coordinator_client.get(url, query).status_code == 200
        counts[url] = len(captured.captured_queries)
    crowd(30)
    assert Case.objects.count() > 60
    for url in (LIST, BOARD):
        with django_assert_max_num_queries(counts[url]):
            assert coordinator_client.get(url, query).status_code == 200
