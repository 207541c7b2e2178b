"""Roles, permissions and teams are read once per request and kept on that request's User
only: a change counts from the very next request, and one user's answer is never another's."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from tests.factories import CaseFactory, role_group

pytestmark = pytest.mark.django_db
BREAK_GLASS = reverse("casework:break_glass")


def case_url(case) -> str:
    return reverse("casework:case_detail", args=[case.reference])


def test_roles_and_permissions_cost_one_query(coordinator, django_assert_num_queries):
    user = User.objects.get(pk=coordinator.pk)
    with django_assert_num_queries(1):
        assert user.role == Role.COORDINATOR
        assert user.has_role(Role.COORDINATOR) and not user.has_role(Role.VOLUNTEER)
        assert user.has_perm("accounts.break_glass")
        assert not user.has_perm("accounts.review_audit")
        assert user.has_perms(["accounts.log_intake", "accounts.work_cases"])


def test_a_permission_given_to_the_user_alone_still_counts(volunteer):
    volunteer.user_permissions.add(Permission.objects.get(codename="review_audit"))
    user = User.objects.get(pk=volunteer.pk)
    assert user.has_perm("accounts.review_audit")
    assert user.has_perm("accounts.work_cases")
    assert user.roles == frozenset({Role.VOLUNTEER})


def test_a_role_whose_group_lost_every_permission_still_names_the_user(volunteer):
    role_group(Role.VOLUNTEER).permissions.clear()
    user = User.objects.get(pk=volunteer.pk)
    assert user.roles == frozenset({Role.VOLUNTEER})
    assert not user.has_perm("accounts.work_cases")


def test_an_inactive_user_holds_no_permission(coordinator):
    User.objects.filter(pk=coordinator.pk).update(is_active=False)
    assert not User.objects.get(pk=coordinator.pk).has_perm("accounts.break_glass")


def test_a_coordinator_made_a_volunteer_loses_the_teams_cases_on_the_next_request(
    coordinator_client, coordinator, team
):
    case = CaseFactory(team=team)
    assert coordinator_client.get(case_url(case)).status_code == 200
    coordinator.groups.set([role_group(Role.VOLUNTEER)])
    assert coordinator_client.get(case_url(case)).status_code == 404


def test_a_permission_taken_from_a_role_counts_on_the_next_request(coordinator_client):
    assert coordinator_client.get(BREAK_GLASS).status_code == 200
    group = Group.objects.get(name=Role.COORDINATOR)
    group.permissions.remove(Permission.objects.get(codename="break_glass"))
    assert coordinator_client.get(BREAK_GLASS).status_code == 403


def test_a_coordinator_taken_off_a_team_loses_its_cases_on_the_next_request(
    coordinator_client, coordinator, team, other_team
):
    case = CaseFactory(team=team)
    assert coordinator_client.get(case_url(case)).status_code == 200
    coordinator.teams.set([other_team])
    assert coordinator_client.get(case_url(case)).status_code == 404


def test_a_team_joined_counts_on_the_next_request(coordinator_client, coordinator, other_team):
    case = CaseFactory(team=other_team)
    assert coordinator_client.get(case_url(case)).status_code == 404
    coordinator.teams.add(other_team)
    assert coordinator_client.get(case_url(case)).status_code == 200


def test_each_user_is_answered_with_their_own_roles_and_teams(
    coordinator_client, volunteer_client, other_volunteer, team
):
    from tests.conftest import verified_client

    other_client = verified_client(other_volunteer)
    case = CaseFactory(team=team)  # the coordinator's team's, assigned to nobody
    for _ in range(2):
        assert coordinator_client.get(case_url(case)).status_code == 200
        assert volunteer_client.get(case_url(case)).status_code == 404
        assert other_client.get(case_url(case)).status_code == 404
        assert volunteer_client.get(BREAK_GLASS).status_code == 403
