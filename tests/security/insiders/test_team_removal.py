"""Finding 2: a volunteer taken out of a team kept reading and writing its cases."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AccessChange, User
from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import Case, Notification, ReminderKind, RouteLeg
from casework.services import access
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_leaving_the_team_is_losing_its_cases_at_the_next_request(
    volunteer, volunteer_client, team
):
    case = CaseFactory(team=team, assignee=volunteer)
    detail = reverse("casework:case_detail", args=[case.reference])
    assert volunteer_client.get(detail).status_code == 200
    volunteer.teams.remove(team)  # however it happened: the assignment still names them
    assert volunteer_client.get(detail).status_code == 404
    note = reverse("casework:case_timeline_add", args=[case.reference])
    assert volunteer_client.post(note, {"kind": "note", "text": "Still here"}).status_code == 404
    assert (
        case.reference not in volunteer_client.get(reverse("casework:case_list")).content.decode()
    )
    assert case.reference not in volunteer_client.get(reverse("dashboard:home")).content.decode()


def test_an_approved_removal_unassigns_open_cases_and_legs_and_tells_the_coordinators(
    admin_user, coordinator, volunteer, volunteer_client, team
):
    case = CaseFactory(team=team, assignee=volunteer)
    closed = CaseFactory(team=team, assignee=volunteer, stage="closed")
    leg = RouteLeg.objects.create(case=case, position=1, volunteer=volunteer)
    verified_client(admin_user).post(
        reverse("casework:access_change_new", args=[volunteer.pk]),
        {"kind": "remove_team", "team": team.pk},
    )
    change = AccessChange.objects.get()
    verified_client(coordinator).post(
        reverse("casework:access_change_decide", args=[change.pk]), {"decision": "approve"}
    )
    assert Case.objects.get(pk=case.pk).assignee_id is None
    assert Case.objects.get(pk=closed.pk).assignee_id == volunteer.pk  # history stays
    assert RouteLeg.objects.get(pk=leg.pk).volunteer_id is None
    assert Notification.objects.filter(
        user=coordinator, kind=ReminderKind.MEMBER_LEFT, subject=case.reference
    ).exists()
    assert AccessEvent.objects.filter(action=Action.TEAM_LEFT, target_ref=case.reference).exists()
    detail = reverse("casework:case_detail", args=[case.reference])
    assert volunteer_client.get(detail).status_code == 404


def test_a_leg_volunteer_from_another_team_loses_the_leg(coordinator, team, other_team):
    helper = UserFactory(username="legger", role=Role.VOLUNTEER, teams=[team, other_team])
    case = CaseFactory(team=team)
    RouteLeg.objects.create(case=case, position=1, volunteer=helper)
    client = verified_client(helper)
    assert client.get(reverse("casework:leg_list")).status_code == 200
    helper.teams.remove(team)
    assert case.reference not in client.get(reverse("casework:leg_list")).content.decode()


def test_a_team_change_that_lost_its_team_is_refused(admin_user, coordinator):
    # access_change_propose makes none; a row without its team is refused with a message.
    change = AccessChange.objects.create(
        target=coordinator, kind=AccessChange.Kind.ADD_TEAM, team=None, proposed_by=admin_user
    )
    teams = coordinator.team_ids
    other_admin = UserFactory(role=Role.ADMIN, is_staff=True)
    with pytest.raises(ValidationError):
        access.access_change_approve(change=change, by=other_admin)
    change.refresh_from_db()
    assert change.is_pending
    assert User.objects.get(pk=coordinator.pk).team_ids == teams
    assert not AccessEvent.objects.filter(action=Action.GRANT_APPROVED).exists()
