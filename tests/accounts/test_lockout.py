from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from accounts.tasks import purge_expired_lockouts
from tests.conftest import current_code
from tests.factories import PASSWORD, AuthenticatorFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
HERE = "203.0.113.7"
ELSEWHERE = "198.51.100.23"

pytestmark = pytest.mark.django_db


def attempt(client, username, password, address=HERE):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_that_username_at_that_address(client, volunteer):
    for _ in range(5):
        attempt(client, volunteer.username, "wrong password, try again")
    response = attempt(client, volunteer.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_four_wrong_passwords_do_not_lock(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    for _ in range(4):
        attempt(client, volunteer.username, "wrong password, try again")
    response = attempt(client, volunteer.username, PASSWORD)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)


def test_lockout_from_one_address_leaves_the_user_free_at_another(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    for _ in range(6):
        attempt(client, volunteer.username, "wrong password, try again", HERE)
    assert attempt(client, volunteer.username, PASSWORD, HERE).status_code == 429
    response = attempt(client, volunteer.username, PASSWORD, ELSEWHERE)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)


def test_lockout_looks_the_same_for_an_unknown_username(client, volunteer):
    for username in (volunteer.username, "no-such-volunteer"):
        for _ in range(5):
            attempt(client, username, "wrong password, try again")
    known = attempt(client, volunteer.username, PASSWORD)
    unknown = attempt(client, "no-such-volunteer", PASSWORD)
    assert known.status_code == unknown.status_code == 429
    assert "no-such-volunteer" not in unknown.content.decode()


def test_wrong_second_factor_codes_count_towards_the_lockout(client, volunteer):
    device = AuthenticatorFactory(user=volunteer, throttling_failure_count=0)
    attempt(client, volunteer.username, PASSWORD)
    for _ in range(5):
        client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=HERE)
    response = client.post(VERIFY, {"code": current_code(device)}, REMOTE_ADDR=HERE)
    assert response.status_code in (302, 429)
    # Locked: the half-open session is gone and the password step is refused too.
    assert client.get(reverse("dashboard:home")).url.startswith(LOGIN)
    assert attempt(client, volunteer.username, PASSWORD).status_code == 429


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, volunteer, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for number in range(6):
        client.post(
            LOGIN,
            {"username": volunteer.username, "password": "wrong password, try again"},
            REMOTE_ADDR=HERE,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
    assert attempt(client, volunteer.username, PASSWORD, HERE).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, volunteer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    AuthenticatorFactory(user=volunteer)
    proxy = "10.0.0.2"
    for _ in range(6):
        client.post(
            LOGIN,
            {"username": volunteer.username, "password": "wrong password, try again"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"forged, {HERE}",
        )
    locked = client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=HERE,
    )
    assert locked.status_code == 429
    free = client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert free.status_code == 302


def test_failed_login_records_are_purged_after_the_lockout_window(client, volunteer):
    attempt(client, volunteer.username, "wrong password, try again")
    attempt(client, "someone-else", "wrong password, try again")
    assert AccessAttempt.objects.count() == 2
    AccessAttempt.objects.filter(username="someone-else").update(
        attempt_time=timezone.now() - timedelta(hours=1, minutes=1)
    )
    assert purge_expired_lockouts() == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [volunteer.username]
