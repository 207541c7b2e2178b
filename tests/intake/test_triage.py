from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, Person, Stage
from intake.models import IntakeRequest, TriageState
from intake.services import intake_accept, intake_attach, intake_log, intake_mark_duplicate
from tests.conftest import verified_client

NEW = reverse("intake:new")
QUEUE = reverse("intake:queue")

pytestmark = pytest.mark.django_db


def log(client, contact="+7 900 123-45-67", **extra):
    data = {
        "channel": "telegram",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "contact": contact,
        "message": "Got a summons for Monday.",
        "category_guess": "mobilised",
        **extra,
    }
    return client.post(NEW, data)


def logged(user, team, contact, **extra):
    """A request logged through the service, as if typed a moment ago."""
    fields = {"channel": "phone", "received_at": timezone.now(), **extra}
    return intake_log(by=user, team=team, contact=contact, **fields)


def detail(request):
    return reverse("intake:detail", args=[request.reference])


def test_volunteer_logs_a_request_into_the_team_queue(volunteer_client, team):
    response = log(volunteer_client)
    assert response.status_code == 302
    request = IntakeRequest.objects.get()
    assert request.team == team
    assert request.state == TriageState.NEW
    assert request.contact == "+7 900 123-45-67"
    queue = volunteer_client.get(QUEUE).content.decode()
    assert request.reference in queue
    assert "+7 900" not in queue  # the queue lists references, not contacts


def test_the_queue_is_oldest_first(volunteer, volunteer_client, team):
    now = timezone.now()
    newer = intake_log(by=volunteer, team=team, channel="phone", received_at=now, contact="@late")
    older = intake_log(
        by=volunteer,
        team=team,
        channel="phone",
        received_at=now - timedelta(hours=3),
        contact="@early",
    )
    page = volunteer_client.get(QUEUE).content.decode()
    assert page.index(older.reference) < page.index(newer.reference)


def test_a_contact_that_is_no_phone_handle_or_email_is_refused_and_kept(volunteer_client):
    response = log(volunteer_client, contact="12")
    assert response.status_code == 200
    page = response.content.decode()
    assert "We cannot read this as a contact. Write a phone number with its country code" in page
    assert 'value="12"' in page
    assert "Got a summons for Monday." in page
    assert not IntakeRequest.objects.exists()


def test_a_pasted_ciphertext_is_refused_at_intake(volunteer_client, volunteer, team):
    other = logged(volunteer, team, "@x1")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT contact FROM intake_intakerequest WHERE id = %s", [other.pk])
        token = cursor.fetchone()[0]
    response = log(volunteer_client, contact="@someone", message=token)
    assert response.status_code == 200
    assert "looks like encrypted data" in response.content.decode()
    assert IntakeRequest.objects.count() == 1


def test_a_time_in_the_future_is_refused(volunteer_client):
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = log(volunteer_client, received_at=later)
    assert "cannot be in the future" in response.content.decode()


@pytest.mark.parametrize(
    "second_spelling", ["8 (900) 123-45-67", "+79001234567", "7 900 123 45 67"]
)
def test_triage_finds_the_same_phone_written_another_way(
    volunteer_client, volunteer, team, second_spelling
):
    first = logged(volunteer, team, "+7 900 123-45-67")
    volunteer_client.post(detail(first), {"action": "accept"})
    case = Case.objects.get()
    log(volunteer_client, contact=second_spelling)
    repeat = IntakeRequest.objects.get(state=TriageState.NEW)
    page = volunteer_client.get(detail(repeat)).content.decode()
    assert case.reference in page


def test_accepting_opens_a_person_and_a_case_in_one_step(volunteer_client, volunteer, team):
    request = logged(volunteer, team, "@quiet_fox", channel="signal", category_guess="evader")
    response = volunteer_client.post(detail(request), {"action": "accept"})
    case = Case.objects.get()
    assert response.url == reverse("casework:case_detail", args=[case.reference])
    assert case.stage == Stage.NEW
    assert case.team == team
    assert case.person.messenger_handles == "@quiet_fox"
    assert case.person.category == "evader"
    request.refresh_from_db()
    assert (request.state, request.case) == (TriageState.ACCEPTED, case)


def test_an_accepted_requests_page_reads_none_of_its_cases_secrets(
    volunteer_client, volunteer, team
):
    request = logged(volunteer, team, "@quiet_fox")
    volunteer_client.post(detail(request), {"action": "accept"})
    case = Case.objects.get()
    case.route_summary = "Fake route via the north crossing"
    case.save(update_fields=["route_summary"])
    with CaptureQueriesContext(connection) as queries:
        page = volunteer_client.get(detail(request)).content.decode()
    assert Case.objects.get().reference in page
    assert "north crossing" not in page
    assert not [query for query in queries if "route_summary" in query["sql"]]


def test_a_request_is_triaged_once(volunteer_client, coordinator, volunteer, team):
    request = logged(volunteer, team, "@dup")
    volunteer_client.post(detail(request), {"action": "accept"})
    again = verified_client(coordinator).post(detail(request), {"action": "accept"})
    assert again.status_code == 403
    assert Case.objects.count() == 1 and Person.objects.count() == 1


def test_rejecting_needs_a_reason(volunteer_client, volunteer, team):
    request = logged(volunteer, team, "@r")
    response = volunteer_client.post(detail(request), {"action": "reject", "reason": " "})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    volunteer_client.post(detail(request), {"action": "reject", "reason": "Spam, twice."})
    request.refresh_from_db()
    assert request.state == TriageState.REJECTED
    assert request.rejection_reason == "Spam, twice."


def test_mark_duplicate_and_attach(coordinator_client, coordinator, team):
    first = logged(coordinator, team, "@same")
    coordinator_client.post(detail(first), {"action": "accept"})
    case = Case.objects.get()
    second = logged(coordinator, team, "@Same")
    third = logged(coordinator, team, "t.me/same")
    coordinator_client.post(
        detail(second), {"action": "duplicate", "case_reference": case.reference}
    )
    coordinator_client.post(detail(third), {"action": "attach", "case_reference": case.reference})
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.state, second.case) == (TriageState.DUPLICATE, case)
    assert (third.state, third.case) == (TriageState.ACCEPTED, case)
    assert case.events.filter(detail=third.reference).exists()


def test_attach_refuses_a_case_that_is_not_a_possible_duplicate(
    coordinator_client, coordinator, team
):
    unrelated = logged(coordinator, team, "@one")
    coordinator_client.post(detail(unrelated), {"action": "accept"})
    case = Case.objects.get()
    request = logged(coordinator, team, "@two")
    response = coordinator_client.post(
        detail(request), {"action": "attach", "case_reference": case.reference}
    )
    assert response.status_code == 400
    assert "Choose one of the possible duplicates" in response.content.decode()


@pytest.mark.parametrize("decide", [intake_attach, intake_mark_duplicate])
def test_the_services_refuse_a_case_that_is_not_a_listed_duplicate(decide, coordinator, team):
    """The rule is the triage services', not the page's: no caller names any case."""
    case = intake_accept(request=logged(coordinator, team, "@one"), by=coordinator)
    request = logged(coordinator, team, "@two")
    with pytest.raises(ValidationError, match="Choose one of the possible duplicates listed"):
        decide(request=request, reference=case.reference, by=coordinator)
    request.refresh_from_db()
    assert request.state == TriageState.NEW


def test_attach_refuses_a_listed_case_the_user_does_not_work(coordinator, volunteer, team):
    """A volunteer may mark a teammate's case as the duplicate, not add to it."""
    case = intake_accept(request=logged(coordinator, team, "@same"), by=coordinator)
    request = logged(volunteer, team, "@Same")
    with pytest.raises(ValidationError, match="You do not work on that case"):
        intake_attach(request=request, reference=case.reference, by=volunteer)
    assert intake_mark_duplicate(request=request, reference=case.reference, by=volunteer) == case


def test_another_teams_case_is_not_named(
    volunteer_client, volunteer, other_volunteer, other_team, team
):
    theirs = logged(other_volunteer, other_team, "+7 900 555-00-11")
    verified_client(other_volunteer).post(detail(theirs), {"action": "accept"})
    their_case = Case.objects.get()
    their_case.person.legal_name = "Fakename Testovich"
    their_case.person.save()
    mine = logged(volunteer, team, "89005550011")
    page = volunteer_client.get(detail(mine)).content.decode()
    assert "A possible match exists in another team; its coordinator has been told." in page
    assert their_case.reference not in page
    assert other_team.name not in page
    assert "Fakename" not in page


def test_another_teams_request_is_404(volunteer_client, other_volunteer, other_team):
    theirs = logged(other_volunteer, other_team, "@theirs")
    assert volunteer_client.get(detail(theirs)).status_code == 404
    assert volunteer_client.post(detail(theirs), {"action": "accept"}).status_code == 404


def test_admins_see_no_intake(admin_client_verified, volunteer, team):
    request = logged(volunteer, team, "@a")
    assert admin_client_verified.get(QUEUE).status_code == 403
    assert admin_client_verified.get(detail(request)).status_code == 404


def test_a_teammates_case_shows_as_a_reference_only(volunteer_client, volunteer, coordinator, team):
    theirs = logged(coordinator, team, "@twice")
    case = verified_client(coordinator).post(detail(theirs), {"action": "accept"})
    case = Case.objects.get()
    mine = logged(volunteer, team, "@TWICE")
    page = volunteer_client.get(detail(mine)).content.decode()
    assert f"{case.reference} · a case of your team, not assigned to you" in page
    assert reverse("casework:case_detail", args=[case.reference]) not in page
