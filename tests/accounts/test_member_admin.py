"""The members page for admins: search, pages, lock-out state and unlocking (issue 24, 10)."""

import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthenticatorDevice
from accounts.roles import Role
from audit.models import AccessEvent, Action
from config.step_up import STEP_UP_AT
from tests.factories import PASSWORD, AuthenticatorFactory, UserFactory

MEMBERS = reverse("accounts:members")
LOGIN = reverse("accounts:login")
HERE = "203.0.113.7"

pytestmark = pytest.mark.django_db


def unlock_url(user):
    return reverse("accounts:member_unlock", args=[user.pk])


def lock_out(user) -> None:
    """Five wrong passwords for this username from one address, as a stranger would type."""
    stranger = Client()
    for _ in range(5):
        stranger.post(
            LOGIN, {"username": user.username, "password": "not the password"}, REMOTE_ADDR=HERE
        )
    assert AccessAttempt.objects.filter(username=user.username).exists()


def can_sign_in(user) -> bool:
    response = Client().post(
        LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=HERE
    )
    return response.status_code == 302


def shown_count(page: str) -> int:
    return int(re.search(r'<p class="muted">(\d+) members?</p>', page)[1])


def row_of(page: str, username: str) -> str:
    return re.search(rf"<tr>\s*<td[^>]*>(?:<span[^>]*>)*{username}<.*?</tr>", page, re.S)[0]


def test_search_finds_members_by_part_of_the_username(admin_client_verified, team):
    UserFactory(username="river-fox", role=Role.VOLUNTEER, teams=[team])
    UserFactory(username="stone-owl", role=Role.VOLUNTEER, teams=[team])
    page = admin_client_verified.get(MEMBERS, {"q": "FOX"}).content.decode()
    assert "river-fox" in page
    assert "stone-owl" not in page
    assert 'value="FOX"' in page  # the search stays as typed


def test_a_coordinators_search_stays_in_their_teams(coordinator_client, other_volunteer):
    page = coordinator_client.get(MEMBERS, {"q": other_volunteer.username}).content.decode()
    assert shown_count(page) == 0
    assert "Nobody matches." in page


def test_a_nonsense_filter_is_ignored_not_an_error(admin_client_verified, volunteer):
    response = admin_client_verified.get(MEMBERS, {"state": "nope", "role": "x", "page": "z"})
    assert response.status_code == 200
    assert volunteer.username in response.content.decode()


def test_members_come_in_pages_that_keep_the_filter(admin_client_verified, team):
    UserFactory.create_batch(60, role=Role.VOLUNTEER, teams=[team])
    first = admin_client_verified.get(MEMBERS, {"role": "volunteer"}).content.decode()
    assert "Page 1 of 2" in first
    assert "?role=volunteer&amp;page=2" in first
    second = admin_client_verified.get(MEMBERS, {"role": "volunteer", "page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert shown_count(second) == 60


def test_member_pages_ask_the_same_queries_however_many_members(
    admin_client_verified, team, django_assert_max_num_queries
):
    UserFactory.create_batch(3, role=Role.VOLUNTEER, teams=[team])
    with time_machine.travel(timezone.now(), tick=False):
        with django_assert_max_num_queries(24) as few:
            admin_client_verified.get(MEMBERS, {"q": "", "state": "locked"})
            admin_client_verified.get(MEMBERS)
        UserFactory.create_batch(120, role=Role.VOLUNTEER, teams=[team])
        with django_assert_max_num_queries(len(few.captured_queries)):
            admin_client_verified.get(MEMBERS, {"q": "", "state": "locked"})
            page = admin_client_verified.get(MEMBERS).content.decode()
    assert "Page 1 of 3" in page


def test_the_member_list_shows_who_is_locked_out(admin_client_verified, volunteer, coordinator):
    lock_out(volunteer)
    page = admin_client_verified.get(MEMBERS).content.decode()
    row = row_of(page, volunteer.username)
    assert "locked out until" in row
    assert unlock_url(volunteer) in row
    other = row_of(page, coordinator.username)
    assert "locked out" not in other
    assert unlock_url(coordinator) not in other
    locked = admin_client_verified.get(MEMBERS, {"state": "locked"}).content.decode()
    assert volunteer.username in locked
    assert coordinator.username not in locked


def test_admin_unlocks_a_member_and_it_is_audited(admin_client_verified, admin_user, volunteer):
    AuthenticatorFactory(user=volunteer)
    lock_out(volunteer)
    assert not can_sign_in(volunteer)
    confirm = admin_client_verified.get(unlock_url(volunteer))
    assert confirm.status_code == 200
    assert AccessAttempt.objects.filter(username=volunteer.username).exists()  # GET asks only
    response = admin_client_verified.post(unlock_url(volunteer))
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=volunteer.username).exists()
    assert AccessEvent.objects.filter(
        action=Action.LOCKOUT_CLEARED, actor=admin_user, target_ref=str(volunteer.pk)
    ).exists()
    assert can_sign_in(volunteer)


def test_unlocking_also_forgets_wrong_codes(admin_client_verified, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    AuthenticatorDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=9, throttling_failure_timestamp=timezone.now()
    )
    admin_client_verified.post(unlock_url(volunteer))
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert device.verify_is_allowed()[0]


def test_a_coordinator_cannot_unlock_even_their_own_volunteer(coordinator_client, volunteer):
    lock_out(volunteer)
    assert unlock_url(volunteer) not in coordinator_client.get(MEMBERS).content.decode()
    response = coordinator_client.post(unlock_url(volunteer))
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username=volunteer.username).exists()
    assert not AccessEvent.objects.filter(action=Action.LOCKOUT_CLEARED).exists()


def test_a_volunteer_cannot_unlock_anyone(volunteer_client, team):
    fellow = UserFactory(role=Role.VOLUNTEER, teams=[team])
    lock_out(fellow)
    assert volunteer_client.post(unlock_url(fellow)).status_code in (403, 404)
    assert AccessAttempt.objects.filter(username=fellow.username).exists()


def test_nobody_unlocks_themselves(admin_client_verified, admin_user):
    lock_out(admin_user)
    assert admin_client_verified.post(unlock_url(admin_user)).status_code == 403
    assert AccessAttempt.objects.filter(username=admin_user.username).exists()


def test_unlocking_needs_a_fresh_confirmation(admin_client_verified, volunteer):
    lock_out(volunteer)
    session = admin_client_verified.session
    session[STEP_UP_AT] = 0
    session.save()
    response = admin_client_verified.post(unlock_url(volunteer))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:step_up"))
    assert AccessAttempt.objects.filter(username=volunteer.username).exists()


def test_each_count_on_the_admin_dashboard_opens_the_accounts_it_counts(
    admin_client_verified, team, volunteer, coordinator
):
    lock_out(volunteer)
    UserFactory(role=Role.VOLUNTEER, teams=[team], is_active=False)
    UserFactory(username="no-role-yet")
    dashboard = admin_client_verified.get(reverse("dashboard:home")).content.decode()
    links = re.findall(
        rf'<a href="({MEMBERS}[^"]*)">(?:<strong[^>]*>)?(\d+)(?:</strong>)?</a>', dashboard
    )
    assert len(links) >= 10
    states = {href for href, _count in links}
    assert f"{MEMBERS}?state=locked" in states
    for href, count in links:
        page = admin_client_verified.get(href.replace("&amp;", "&")).content.decode()
        assert shown_count(page) == int(count), href
