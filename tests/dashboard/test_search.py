"""Search from the header, through HTTP as a user or an attacker would use it: one box,
POST only, exact matches through the blind indexes, only what the user may open, a match
in another team never named, audited without the query, rate-limited, counted."""

import datetime
import logging
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import Case, Notification, NotificationKind
from casework.services.cases import person_indexes_refresh
from intake.services import intake_log
from tests.conftest import verified_client
from tests.factories import CaseFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("dashboard:search")
PHONE = "+7 912 345-67-89"
NEUTRAL = "A possible match exists in another team; its coordinator has been told."


def client_case(team, assignee=None, **details) -> Case:
    """A person with these details (indexed as an edit would) and their case."""
    person = PersonFactory(**details)
    person_indexes_refresh(person)
    return CaseFactory(team=team, person=person, assignee=assignee)


def search(client, query: str):
    return client.post(SEARCH, {"query": query})


def found_in(response) -> str:
    """The results part of the page (the box itself keeps what was typed)."""
    page = response.content.decode()
    return page[page.index('id="results"') :] if 'id="results"' in page else ""


@pytest.fixture
def other_coordinator(other_team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])


# What the box reads ---------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["+7 912 345-67-89", "8 (912) 3456789", "79123456789"])
def test_a_phone_written_any_way_finds_the_case(volunteer_client, volunteer, team, spelling):
    case = client_case(team, volunteer, phone="+79123456789")
    response = search(volunteer_client, spelling)
    assert response.status_code == 200
    results = found_in(response)
    assert reverse("casework:case_detail", args=[case.reference]) in results
    assert "Searched as: phone number." in results


def test_a_reference_finds_the_case_or_request_whatever_its_case(
    coordinator_client, coordinator, team
):
    case = client_case(team)
    request = intake_log(
        by=coordinator, team=team, channel="phone", received_at=timezone.now(), contact="@fox"
    )
    results = found_in(search(coordinator_client, f"  {case.reference.lower()} "))
    assert reverse("casework:case_detail", args=[case.reference]) in results
    results = found_in(search(coordinator_client, request.reference))
    assert reverse("intake:detail", args=[request.reference]) in results


@pytest.mark.parametrize("query", ["@Quiet_Fox", "quiet_fox", "https://t.me/quiet_fox"])
def test_a_handle_finds_the_case(volunteer_client, volunteer, team, query):
    case = client_case(team, volunteer, messenger_handles="@quiet_fox\n@other_handle")
    assert case.reference in found_in(search(volunteer_client, query))


def test_an_email_address_finds_the_case_whatever_its_letters(volunteer_client, volunteer, team):
    case = client_case(team, volunteer, email="Fake.Person@example.org")
    assert case.reference in found_in(search(volunteer_client, "fake.person@EXAMPLE.org"))


@pytest.mark.parametrize(
    "query",
    [
        "Ivan Petrov 17.05.1990",
        "Иван Петров 17.05.1990",
        "1990-05-17 ivan petrov",
        "IVAN PETROV, 17/05/1990",
    ],
)
def test_a_name_with_a_birth_date_finds_the_case(volunteer_client, volunteer, team, query):
    case = client_case(
        team, volunteer, legal_name="Иван Петров", birth_date=datetime.date(1990, 5, 17)
    )
    results = found_in(search(volunteer_client, query))
    assert case.reference in results
    assert "Searched as: name and date of birth." in results


def test_a_name_alone_is_refused_with_a_message_and_kept(volunteer_client, volunteer, team):
    case = client_case(
        team, volunteer, legal_name="Ivan Petrov", birth_date=datetime.date(1990, 5, 17)
    )
    response = search(volunteer_client, "Ivan Petrov")
    assert response.status_code == 400
    page = response.content.decode()
    assert "A name is searched only with a date of birth" in page
    assert 'value="Ivan Petrov"' in page
    assert case.reference not in page
    assert not AccessEvent.objects.filter(action=Action.SEARCHED).exists()


def test_a_date_that_does_not_exist_is_refused_with_a_message(volunteer_client):
    response = search(volunteer_client, "Ivan Petrov 31.02.1990")
    assert response.status_code == 400
    assert "31.02.1990 is not a date" in response.content.decode()


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_an_empty_search_says_what_to_type(volunteer_client, query):
    response = search(volunteer_client, query)
    assert response.status_code == 400
    assert "Type what to search for" in response.content.decode()
    assert not AccessEvent.objects.filter(action=Action.SEARCHED).exists()


def test_something_that_is_nothing_searchable_is_refused_and_kept(volunteer_client):
    response = search(volunteer_client, "12")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This is not a reference, a phone number" in page
    assert 'value="12"' in page


def test_a_request_is_found_by_the_contact_it_came_from(volunteer_client, volunteer, team):
    request = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact=PHONE
    )
    results = found_in(search(volunteer_client, "89123456789"))
    assert reverse("intake:detail", args=[request.reference]) in results


# POST only: never in a URL, a history or a log ------------------------------------------


def test_a_get_shows_the_empty_box_whatever_its_address_says(volunteer_client, volunteer, team):
    case = client_case(team, volunteer, phone=PHONE)
    response = volunteer_client.get(SEARCH, {"query": case.reference})
    assert response.status_code == 200
    page = response.content.decode()
    assert case.reference not in page
    assert 'id="results"' not in page
    assert not AccessEvent.objects.filter(action=Action.SEARCHED).exists()


def test_the_boxes_post_to_the_search_page_and_browsers_keep_no_history(volunteer_client):
    page = volunteer_client.get(reverse("dashboard:home")).content.decode()
    header = page[page.index('class="header-search"') - 10 :]
    header = header[: header.index("</form>")]
    assert 'method="post"' in header and f'action="{SEARCH}"' in header
    assert 'name="csrfmiddlewaretoken"' in header and 'autocomplete="off"' in header
    box = volunteer_client.get(SEARCH).content.decode()
    assert 'name="query"' in box and 'autocomplete="off"' in box


def test_a_search_writes_nothing_it_was_given_to_a_log(volunteer_client, volunteer, team, caplog):
    client_case(team, volunteer, phone=PHONE)
    with caplog.at_level(logging.DEBUG):
        search(volunteer_client, "+7 912 345-67-89")
    assert "345-67-89" not in caplog.text and "9123456789" not in caplog.text


def test_the_admin_has_no_search(admin_client_verified):
    assert admin_client_verified.post(SEARCH, {"query": PHONE}).status_code == 403
    assert 'class="header-search"' not in admin_client_verified.get("/").content.decode()


# Only what the user may open --------------------------------------------------------------


def test_a_volunteer_never_gets_a_case_not_assigned_to_them(volunteer, volunteer_client, team):
    teammate = UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])
    mine = client_case(team, volunteer, phone=PHONE)
    theirs = client_case(team, teammate, phone=PHONE)
    unassigned = client_case(team, None, phone=PHONE)
    response = search(volunteer_client, PHONE)
    results = found_in(response)
    assert mine.reference in results
    for case in (theirs, unassigned):
        assert case.reference not in response.content.decode()
        assert case.person.codename not in response.content.decode()
    assert "2 matching cases of your team are not yours to open" in results
    # Nor by its reference: the same nothing as a case that does not exist.
    for reference in (theirs.reference, "C-2026-99999"):
        results = found_in(search(volunteer_client, reference))
        assert reference not in results.replace(f'value="{reference}"', "")
        assert "Nothing you may open matches." in results


def test_a_volunteer_gets_no_request_they_could_not_open(
    volunteer, volunteer_client, coordinator, team, other_team, other_volunteer
):
    theirs = intake_log(
        by=other_volunteer,
        team=other_team,
        channel="phone",
        received_at=timezone.now(),
        contact=PHONE,
    )
    rejected = intake_log(
        by=coordinator, team=team, channel="phone", received_at=timezone.now(), contact=PHONE
    )
    rejected.state = "rejected"
    rejected.save(update_fields=["state"])
    response = search(volunteer_client, PHONE)
    page = response.content.decode()
    assert theirs.reference not in page and rejected.reference not in page
    assert "Nothing you may open matches." in page
    assert rejected.reference in found_in(search(verified_client(coordinator), PHONE))


def test_another_teams_case_is_never_named_and_its_coordinators_are_told(
    volunteer, volunteer_client, team, other_team, other_coordinator, coordinator
):
    """The attacker: a volunteer checking whether a phone is a client of any team, and whose.
    Without the rule the search would list the match like any other."""
    case = client_case(other_team, None, phone=PHONE, legal_name="Fakename Testovich")
    page = search(volunteer_client, "8 912 345 67 89").content.decode()
    assert NEUTRAL in page
    assert case.reference not in page
    assert other_team.name not in page and case.person.codename not in page
    assert "Fakename" not in page
    told = Notification.objects.get(kind=NotificationKind.SEARCH_MATCH)
    assert (told.user, told.subject) == (other_coordinator, case.reference)
    assert not Notification.objects.filter(user=coordinator).exists()
    probe = AccessEvent.objects.get(action=Action.DUPLICATE_PROBE)
    assert (probe.actor, probe.target_ref, probe.team_id) == (
        volunteer,
        case.reference,
        other_team.pk,
    )
    # Searched again: audited again, told once a day.
    search(volunteer_client, PHONE)
    assert AccessEvent.objects.filter(action=Action.DUPLICATE_PROBE).count() == 2
    assert Notification.objects.filter(kind=NotificationKind.SEARCH_MATCH).count() == 1


def test_another_teams_case_is_not_reached_by_its_reference_either(
    volunteer, volunteer_client, other_team
):
    """The same nothing as a reference that does not exist, but audited as a probe for the
    team it belongs to; a mistyped digit is no reason to tell its coordinators."""
    case = client_case(other_team, None, phone=PHONE)
    response = search(volunteer_client, case.reference)
    assert "Nothing you may open matches." in found_in(response)
    missing = found_in(search(volunteer_client, "C-2026-99999"))
    assert missing.replace("C-2026-99999", "") == found_in(response).replace(case.reference, "")
    assert not Notification.objects.exists()
    probe = AccessEvent.objects.get(action=Action.DUPLICATE_PROBE)
    assert (probe.actor, probe.target_type, probe.target_ref, probe.team_id) == (
        volunteer,
        "case",
        case.reference,
        other_team.pk,
    )


def test_walking_another_teams_references_raises_the_probes_alert(
    volunteer, volunteer_client, team, other_team, other_volunteer, settings
):
    """The attacker: an insider typing C-2026-00001, 00002, … and R-… to map which numbers
    exist in other teams. Each answer is the same nothing; the walk is an alert."""
    settings.INSIDER_PROBES_PER_HOUR = 2  # the third distinct probe in an hour
    own = client_case(team, volunteer, phone=PHONE)
    theirs = [client_case(other_team, None, phone=f"+7 912 345-67-8{n}") for n in range(2)]
    request = intake_log(
        by=other_volunteer,
        team=other_team,
        channel="phone",
        received_at=timezone.now(),
        contact="@someone_else",
    )
    search(volunteer_client, own.reference)
    search(volunteer_client, "C-2026-99999")
    assert not AccessEvent.objects.filter(action=Action.DUPLICATE_PROBE).exists()
    for reference in [case.reference for case in theirs] + [request.reference]:
        assert "Nothing you may open matches." in found_in(search(volunteer_client, reference))
    probes = AccessEvent.objects.filter(action=Action.DUPLICATE_PROBE, actor=volunteer)
    assert sorted(probes.values_list("target_type", flat=True)) == ["case", "case", "request"]
    alerts = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_PROBES)
    assert [alert.actor for alert in alerts] == [volunteer]


def test_a_coordinator_finds_every_case_of_their_team(coordinator_client, volunteer, team):
    cases = [client_case(team, volunteer, phone=PHONE), client_case(team, None, phone=PHONE)]
    results = found_in(search(coordinator_client, PHONE))
    assert all(case.reference in results for case in cases)
    assert "not yours to open" not in results


# Audited, rate-limited, counted -----------------------------------------------------------


def test_the_audit_says_a_search_happened_and_how_much_it_found_not_what(
    volunteer, volunteer_client, team
):
    client_case(team, volunteer, phone=PHONE)
    search(volunteer_client, "8 (912) 3456789")
    event = AccessEvent.objects.get(action=Action.SEARCHED)
    assert (event.actor, event.target_type, event.target_ref) == (volunteer, "search", "phone:1")
    for stored in AccessEvent.objects.all():
        row = " ".join(str(value) for value in stored.__dict__.values())
        assert "912" not in row.replace(str(stored.created_at), "")


def test_searching_too_often_is_refused_with_the_query_kept(
    volunteer, volunteer_client, team, settings
):
    settings.SEARCH_PER_MINUTE = 2
    case = client_case(team, volunteer, phone=PHONE)
    for _ in range(2):
        assert case.reference in found_in(search(volunteer_client, PHONE))
    response = search(volunteer_client, PHONE)
    assert response.status_code == 400
    page = response.content.decode()
    assert "You searched 2 times in the last minute" in page
    assert f'value="{PHONE}"' in page
    assert 'id="results"' not in page
    assert AccessEvent.objects.filter(action=Action.SEARCHED).count() == 2
    assert AccessEvent.objects.filter(action=Action.REFUSED, target_type="search").count() == 1
    # A minute later it works again.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1, seconds=5)):
        assert case.reference in found_in(search(volunteer_client, PHONE))


def test_each_search_counts_toward_the_many_cases_alert(
    volunteer, volunteer_client, team, settings
):
    settings.INSIDER_CASES_PER_HOUR = 3
    case = client_case(team, volunteer, phone=PHONE)
    volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    for _ in range(2):
        search(volunteer_client, "@nobody_at_all")
    assert not InsiderAlert.objects.exists()
    search(volunteer_client, "@nobody_at_all")
    search(volunteer_client, "@nobody_else")
    alerts = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_CASES)
    assert [alert.actor for alert in alerts] == [volunteer]


def test_a_searchs_queries_do_not_grow_with_its_results(coordinator_client, coordinator, team):
    def queries_for(phone: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = search(coordinator_client, phone)
        assert response.status_code == 200
        return len(queries)

    client_case(team, None, phone="+7 912 000-00-01")
    intake_log(
        by=coordinator,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact="+7 912 000-00-01",
    )
    for _ in range(8):
        client_case(team, None, phone="+7 912 000-00-02")
        intake_log(
            by=coordinator,
            team=team,
            channel="phone",
            received_at=timezone.now(),
            contact="+7 912 000-00-02",
        )
    one, many = queries_for("+7 912 000-00-01"), queries_for("+7 912 000-00-02")
    assert one == many


def test_search_never_returns_what_the_user_could_not_open(
    volunteer, coordinator, other_volunteer, team, other_team, other_coordinator
):
    """One phone behind cases and requests of both teams, assigned or not: every link each
    persona's search shows opens for them, and none of the rest is on their page."""
    teammate = UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])
    cases = [
        client_case(team, volunteer, phone=PHONE),
        client_case(team, teammate, phone=PHONE),
        client_case(team, None, phone=PHONE),
        client_case(other_team, other_volunteer, phone=PHONE),
        client_case(other_team, None, phone=PHONE),
    ]
    requests = [
        intake_log(
            by=user,
            team=user.teams.get(),
            channel="phone",
            received_at=timezone.now(),
            contact=PHONE,
        )
        for user in (volunteer, coordinator, other_volunteer)
    ]
    for user in (volunteer, teammate, coordinator, other_volunteer, other_coordinator):
        client = verified_client(user)
        page = search(client, PHONE).content.decode()
        links = set(
            re.findall(
                r'href="(/(?:cases|intake)/[CR]-\d{4}-\d+/)"', found_in(search(client, PHONE))
            )
        )
        assert links, user.username
        for link in links:
            assert client.get(link).status_code == 200, (user.username, link)
        for item in [*cases, *requests]:
            opens = (
                client.get(
                    reverse("casework:case_detail", args=[item.reference])
                    if item.reference.startswith("C-")
                    else reverse("intake:detail", args=[item.reference])
                ).status_code
                == 200
            )
            assert (item.reference in page) == opens, (user.username, item.reference)
