import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthenticatorDevice
from accounts.roles import Role
from tests.conftest import verified_client
from tests.factories import AuthenticatorFactory, UserFactory

MEMBERS = reverse("accounts:members")

pytestmark = pytest.mark.django_db


def reset_url(user):
    return reverse("accounts:member_second_factor_reset", args=[user.pk])


def test_volunteer_cannot_see_the_member_list(volunteer_client):
    assert volunteer_client.get(MEMBERS).status_code == 403


def test_coordinator_sees_only_their_teams_members(coordinator_client, volunteer, other_volunteer):
    page = coordinator_client.get(MEMBERS).content.decode()
    assert volunteer.username in page
    assert other_volunteer.username not in page


def test_admin_sees_every_member(admin_client_verified, volunteer, other_volunteer, coordinator):
    page = admin_client_verified.get(MEMBERS).content.decode()
    for user in (volunteer, other_volunteer, coordinator):
        assert user.username in page


def test_member_list_queries_do_not_grow_with_members(
    admin_client_verified, team, django_assert_max_num_queries
):
    UserFactory.create_batch(3, role=Role.VOLUNTEER, teams=[team])
    # The clock stands still: the session's last-seen stamp is written at most once a
    # minute (accounts/middleware.py), which a minute boundary between the two reads would
    # otherwise add to the second.
    with time_machine.travel(timezone.now(), tick=False):
        with django_assert_max_num_queries(12) as few:
            admin_client_verified.get(MEMBERS)
        more = UserFactory.create_batch(30, role=Role.VOLUNTEER, teams=[team])
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = admin_client_verified.get(MEMBERS).content.decode()
    assert all(user.username in page for user in more)


def test_a_coordinators_member_list_asks_no_query_per_member(
    coordinator_client, team, django_assert_max_num_queries
):
    """Whether a member shares a team is asked of User.team_ids, from the teams the list
    prefetched: not one query per member."""
    UserFactory.create_batch(3, role=Role.VOLUNTEER, teams=[team])
    with time_machine.travel(timezone.now(), tick=False):
        with django_assert_max_num_queries(20) as few:
            coordinator_client.get(MEMBERS)
        more = UserFactory.create_batch(30, role=Role.VOLUNTEER, teams=[team])
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = coordinator_client.get(MEMBERS).content.decode()
    assert all(user.username in page for user in more)


def test_coordinator_resets_own_team_volunteer(coordinator_client, volunteer):
    AuthenticatorFactory(user=volunteer)
    assert coordinator_client.post(reset_url(volunteer)).status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=volunteer).exists()


def test_coordinator_gets_404_for_another_teams_volunteer(coordinator_client, other_volunteer):
    AuthenticatorFactory(user=other_volunteer)
    assert coordinator_client.post(reset_url(other_volunteer)).status_code == 404
    assert AuthenticatorDevice.objects.filter(user=other_volunteer).exists()


def test_coordinator_cannot_reset_a_fellow_coordinator(coordinator_client, team):
    fellow = UserFactory(role=Role.COORDINATOR, teams=[team])
    AuthenticatorFactory(user=fellow)
    assert coordinator_client.post(reset_url(fellow)).status_code == 403
    assert AuthenticatorDevice.objects.filter(user=fellow).exists()


def test_nobody_resets_their_own_second_factor_from_the_list(admin_client_verified, admin_user):
    assert admin_client_verified.post(reset_url(admin_user)).status_code == 403


def test_volunteer_cannot_reset_anyone(volunteer_client, team):
    teammate = UserFactory(role=Role.VOLUNTEER, teams=[team])
    AuthenticatorFactory(user=teammate)
    assert volunteer_client.post(reset_url(teammate)).status_code == 404
    assert AuthenticatorDevice.objects.filter(user=teammate).exists()


def test_reset_asks_before_it_acts(coordinator_client, volunteer):
    AuthenticatorFactory(user=volunteer)
    page = coordinator_client.get(reset_url(volunteer))
    assert page.status_code == 200
    assert "Reset the second factor of volunteer1?" in page.content.decode()
    assert AuthenticatorDevice.objects.filter(user=volunteer).exists()


def test_coordinator_cannot_even_open_the_reset_page_for_another_team(
    coordinator_client, other_volunteer
):
    assert coordinator_client.get(reset_url(other_volunteer)).status_code == 404


def test_admin_reaches_the_django_admin_only_when_verified(admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.request["PATH_INFO"] != reverse("admin:index")
    verified = verified_client(admin_user)
    assert verified.get(reverse("admin:index")).status_code == 200
