"""Need-to-know: every case URL answers 404 to whoever may not see the case."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from accounts.roles import Role
from casework import permissions
from casework.models import ApprovalRequest, BreakGlass, RouteLeg
from casework.services import oversight
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def case_url_names() -> list[str]:
    resolver = get_resolver()
    names = []
    for entry in resolver.url_patterns:
        if getattr(entry, "namespace", None) == "casework":
            for pattern in entry.url_patterns:
                if isinstance(pattern, URLPattern) and "<ref:reference>" in str(pattern.pattern):
                    names.append(f"casework:{pattern.name}")
    return names


CASE_URLS = case_url_names()
# Read-only pages: a POST is refused (405) before any case is looked up, so the answer is
# the same for every reference and says nothing about the case.
GET_ONLY = {"casework:case_timeline_older"}


def refused_post(name: str) -> int:
    return 405 if name in GET_ONLY else 404


def case_url(name: str, case) -> str:
    kwargs = {"reference": case.reference}
    if name == "casework:reminder_change":
        kwargs["pk"] = 1
    if name in {"casework:leg_detail", "casework:leg_edit", "casework:leg_remove"}:
        kwargs["pk"] = RouteLeg.objects.create(
            case=case, position=1, origin="A", destination="B"
        ).pk
    if name == "casework:approval_decide":
        # A request that exists, on this very case: the answer must come from the case.
        kwargs["pk"] = ApprovalRequest.objects.create(
            case=case,
            to_stage="closed",
            outcome="withdrew",
            asked_by=case.assignee or UserFactory(role=Role.VOLUNTEER, teams=[case.team]),
            asked_version=case.version,
        ).pk
    return reverse(name, kwargs=kwargs)


def test_the_walk_finds_the_case_pages():
    assert {"casework:case_detail", "casework:case_edit", "casework:case_move"} <= set(CASE_URLS)


@pytest.fixture
def others_case(team):
    """A case of the volunteer's own team, assigned to somebody else."""
    return CaseFactory(team=team, assignee=UserFactory(role=Role.VOLUNTEER, teams=[team]))


@pytest.mark.parametrize("name", CASE_URLS)
def test_volunteer_gets_404_on_a_case_not_assigned_to_them(volunteer_client, others_case, name):
    url = case_url(name, others_case)
    assert volunteer_client.get(url).status_code in (404, 405)
    response = volunteer_client.post(url, {"version": 1, "to_stage": "screening", "text": "x"})
    assert response.status_code == refused_post(name), url
    others_case.refresh_from_db()
    assert others_case.assignee.username != "volunteer1"
    assert others_case.events.count() == 0


@pytest.mark.parametrize("name", CASE_URLS)
def test_coordinator_gets_404_on_another_teams_case(coordinator_client, other_team, name):
    case = CaseFactory(team=other_team)
    url = case_url(name, case)
    assert coordinator_client.get(url).status_code in (404, 405)
    assert coordinator_client.post(url, {"version": 1}).status_code == refused_post(name)


@pytest.mark.parametrize("name", CASE_URLS)
def test_admin_gets_404_on_every_case(admin_client_verified, team, name):
    case = CaseFactory(team=team)
    url = case_url(name, case)
    assert admin_client_verified.get(url).status_code in (404, 405)
    assert admin_client_verified.post(url, {"version": 1}).status_code == refused_post(name)


def test_missing_and_forbidden_look_the_same(volunteer_client, others_case):
    forbidden = volunteer_client.get(reverse("casework:case_detail", args=[others_case.reference]))
    missing = volunteer_client.get(reverse("casework:case_detail", args=["C-2026-99999"]))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


def test_volunteer_sees_the_case_once_assigned(volunteer, volunteer_client, team):
    case = CaseFactory(team=team, assignee=volunteer)
    assert (
        volunteer_client.get(reverse("casework:case_detail", args=[case.reference])).status_code
        == 200
    )


def test_case_list_shows_only_visible_cases(volunteer, volunteer_client, team, other_team):
    mine = CaseFactory(team=team, assignee=volunteer)
    teammates = CaseFactory(team=team)
    elsewhere = CaseFactory(team=other_team)
    page = volunteer_client.get(reverse("casework:case_list")).content.decode()
    assert mine.reference in page
    assert teammates.reference not in page
    assert elsewhere.reference not in page


def test_break_glass_opens_another_teams_case_read_only_with_a_reason(
    coordinator, coordinator_client, other_team
):
    case = CaseFactory(team=other_team)
    detail = reverse("casework:case_detail", args=[case.reference])
    assert coordinator_client.get(detail).status_code == 404
    short = coordinator_client.post(
        reverse("casework:break_glass"), {"reference": case.reference, "reason": "need"}
    )
    assert "Explain in a sentence" in short.content.decode()
    response = coordinator_client.post(
        reverse("casework:break_glass"),
        {"reference": case.reference.lower(), "reason": "Their coordinator is unreachable."},
    )
    assert response.url == detail
    page = coordinator_client.get(detail)
    assert page.status_code == 200
    assert "read-only" in page.content.decode()
    assert BreakGlass.objects.get().reason == "Their coordinator is unreachable."
    edit = coordinator_client.post(reverse("casework:case_edit", args=[case.reference]), {})
    assert edit.status_code == 403


def test_break_glass_expires(coordinator, coordinator_client, other_team):
    case = CaseFactory(team=other_team)
    BreakGlass.objects.create(
        case=case, user=coordinator, reason="old", expires_at=timezone.now() - timedelta(minutes=1)
    )
    detail = reverse("casework:case_detail", args=[case.reference])
    assert coordinator_client.get(detail).status_code == 404


def test_break_glass_answers_the_same_for_missing_and_own_team(coordinator_client, team):
    own = CaseFactory(team=team)
    answers = [
        coordinator_client.post(
            reverse("casework:break_glass"),
            {"reference": reference, "reason": "Checking something important."},
        ).content.decode()
        for reference in (own.reference, "C-2026-99999")
    ]
    assert all("No other team&#x27;s case has this reference." in a for a in answers)


def test_the_break_glass_service_refuses_own_team_and_missing_alike(coordinator, team):
    """The rule is the service's, not the page's: any caller gets the same refusal."""
    own = CaseFactory(team=team)
    for reference in (own.reference, "C-2026-99999"):
        with pytest.raises(ValidationError) as refused:
            oversight.case_break_glass(
                reference=reference, by=coordinator, reason="Checking something important."
            )
        assert refused.value.message_dict == {
            "reference": ["No other team's case has this reference."]
        }
    assert not BreakGlass.objects.exists()


def test_a_grant_opens_the_case_at_once_to_the_same_user_object(
    coordinator, other_team, django_assert_num_queries
):
    """The grants are read once per User object (so per request), and again after one is
    given."""
    case = CaseFactory(team=other_team)
    assert not permissions.can_view_case(coordinator, case)
    with django_assert_num_queries(0):
        assert not permissions.can_view_case(coordinator, case)
    oversight.case_break_glass(
        reference=case.reference, by=coordinator, reason="Their coordinator is unreachable."
    )
    assert permissions.can_view_case(coordinator, case)


def test_volunteers_cannot_break_glass(volunteer_client, other_team):
    case = CaseFactory(team=other_team)
    response = volunteer_client.post(
        reverse("casework:break_glass"),
        {"reference": case.reference, "reason": "I would like to see it."},
    )
    assert response.status_code == 403
    assert not BreakGlass.objects.exists()


def test_volunteer_takes_an_unassigned_case_of_their_team(volunteer, volunteer_client, team):
    case = CaseFactory(team=team)
    dashboard = volunteer_client.get(reverse("dashboard:home")).content.decode()
    assert case.reference in dashboard
    response = volunteer_client.post(reverse("casework:case_take", args=[case.reference]))
    assert response.url == reverse("casework:case_detail", args=[case.reference])
    case.refresh_from_db()
    assert case.assignee == volunteer
    # Once taken, nobody else can take it.
    teammate = verified_client(UserFactory(role=Role.VOLUNTEER, teams=[team]))
    assert teammate.post(reverse("casework:case_take", args=[case.reference])).status_code == 404
