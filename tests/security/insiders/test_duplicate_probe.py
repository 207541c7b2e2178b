"""Finding 4: duplicate detection at triage told any volunteer whether a phone or handle
belongs to a client of any team, and which team. A match in another team now shows only
"a possible match exists in another team; its coordinator has been told"; that team's
coordinators are told, naming their own case; the probe is audited and counted."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import Case, Notification, Outcome, ReminderKind
from casework.services.cases import person_indexes_refresh
from intake.models import IntakeRequest, TriageState
from intake.services import intake_log, intake_mark_duplicate
from tests.conftest import verified_client
from tests.factories import CaseFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

NEUTRAL = "A possible match exists in another team; its coordinator has been told."
NEW = reverse("intake:new")


def detail(request: IntakeRequest) -> str:
    return reverse("intake:detail", args=[request.reference])


@pytest.fixture
def other_coordinator(other_team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])


def their_case(team, phone: str, **fields) -> Case:
    """A client of another team, with a phone the attacker wants to check."""
    person = PersonFactory(phone=phone, legal_name="Fakename Testovich")
    person_indexes_refresh(person)
    return CaseFactory(team=team, person=person, **fields)


def probe(client, phone: str) -> tuple[IntakeRequest, str]:
    """What the attacker does: log a request with the phone, open it for triage."""
    client.post(
        NEW,
        {
            "channel": "phone",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "contact": phone,
        },
    )
    request = IntakeRequest.objects.order_by("-pk").first()
    response = client.get(detail(request))
    assert response.status_code == 200
    return request, response.content.decode()


def test_a_match_in_another_team_is_neither_named_nor_placed(
    volunteer_client, other_team, other_coordinator
):
    case = their_case(other_team, "+7 902 111-22-33")
    _request, page = probe(volunteer_client, "89021112233")
    assert NEUTRAL in page
    assert case.reference not in page
    assert other_team.name not in page
    assert "Fakename" not in page and case.person.codename not in page


def test_the_other_teams_coordinators_are_told_naming_their_own_case(
    volunteer, volunteer_client, other_team, other_coordinator, coordinator
):
    case = their_case(other_team, "+7 902 111-22-33")
    request, _page = probe(volunteer_client, "+79021112233")
    told = Notification.objects.get(kind=ReminderKind.DUPLICATE_MATCH)
    assert (told.user, told.subject) == (other_coordinator, case.reference)
    # Nobody of the prober's own team is told, and the inbox links to their case only.
    assert not Notification.objects.filter(user=coordinator).exists()
    inbox = verified_client(other_coordinator).get(reverse("casework:inbox")).content.decode()
    assert reverse("casework:case_detail", args=[case.reference]) in inbox
    assert "+7 902" not in inbox and request.reference not in inbox
    probe_event = AccessEvent.objects.get(action=Action.DUPLICATE_PROBE)
    assert (probe_event.actor, probe_event.target_ref, probe_event.team_id) == (
        volunteer,
        request.reference,
        other_team.pk,
    )


def test_the_coordinators_are_told_once_per_request_and_case(
    volunteer_client, other_team, other_coordinator
):
    case = their_case(other_team, "+7 902 111-22-33")
    request, _page = probe(volunteer_client, "+79021112233")
    for _ in range(3):
        assert NEUTRAL in volunteer_client.get(detail(request)).content.decode()
    assert Notification.objects.filter(kind=ReminderKind.DUPLICATE_MATCH).count() == 1
    # A second request from the same phone is news: told again.
    probe(volunteer_client, "8 902 111 22 33")
    subjects = Notification.objects.values_list("subject", flat=True)
    assert list(subjects) == [case.reference, case.reference]


def test_probing_many_contacts_within_an_hour_raises_one_alert(
    volunteer, volunteer_client, other_team, other_coordinator, settings
):
    settings.INSIDER_PROBES_PER_HOUR = 2
    phones = [f"+7 903 000-00-{number:02d}" for number in range(5)]
    for phone in phones:
        their_case(other_team, phone)
    for phone in phones[:2]:
        request, _page = probe(volunteer_client, phone)
        volunteer_client.get(detail(request))  # looked at again: one probe
    assert not InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_PROBES).exists()
    for phone in phones[2:]:
        probe(volunteer_client, phone)
    alerts = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_PROBES)
    assert [alert.actor for alert in alerts] == [volunteer]


@pytest.mark.parametrize("action", ["duplicate", "attach"])
def test_naming_another_teams_case_is_refused_as_if_it_did_not_match(
    volunteer_client, other_team, other_coordinator, action
):
    case = their_case(other_team, "+7 902 111-22-33")
    unrelated = their_case(other_team, "+7 904 999-88-77")
    request, _page = probe(volunteer_client, "+79021112233")
    for reference in (case.reference, unrelated.reference):
        response = volunteer_client.post(
            detail(request), {"action": action, "case_reference": reference}
        )
        assert response.status_code == 400
        assert "Choose one of the possible duplicates listed." in response.content.decode()
    request.refresh_from_db()
    assert (request.state, request.case) == (TriageState.NEW, None)


def test_the_service_refuses_another_teams_case_as_one_not_listed(volunteer, team, other_team):
    case = their_case(other_team, "+7 902 111-22-33")
    request = intake_log(
        by=volunteer,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact="+79021112233",
    )
    with pytest.raises(ValidationError, match="Choose one of the possible duplicates listed"):
        intake_mark_duplicate(request=request, reference=case.reference, by=volunteer)
    request.refresh_from_db()
    assert request.state == TriageState.NEW


def test_a_provocation_elsewhere_is_a_warning_without_its_reference(
    volunteer_client, other_team, other_coordinator
):
    case = their_case(other_team, "+7 902 111-22-33", stage="closed", outcome=Outcome.PROVOCATION)
    _request, page = probe(volunteer_client, "+79021112233")
    assert "Warning: suspected provocation" in page
    assert case.reference not in page
