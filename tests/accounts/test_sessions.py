import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_SEEN, SESSION_STARTED
from accounts.models import AuthenticatorDevice, BackupCodeDevice
from tests.conftest import verified_client
from tests.factories import PASSWORD

DASHBOARD = reverse("dashboard:home")
LOGIN = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def age_session(client, **seconds_ago):
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def test_a_session_ends_after_thirty_idle_minutes(volunteer_client):
    age_session(volunteer_client, **{SESSION_SEEN: 29 * 60})
    assert volunteer_client.get(DASHBOARD).status_code == 200
    age_session(volunteer_client, **{SESSION_SEEN: 31 * 60})
    response = volunteer_client.get(DASHBOARD, follow=True)
    assert response.request["PATH_INFO"] == LOGIN
    assert "Your session expired" in response.content.decode()


def test_a_session_ends_after_twelve_hours_however_busy(volunteer_client):
    age_session(volunteer_client, **{SESSION_STARTED: 12 * 3600 + 60, SESSION_SEEN: 5})
    response = volunteer_client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_admin_signs_a_user_out_everywhere(volunteer, admin_client_verified):
    laptop = verified_client(volunteer)
    phone = verified_client(volunteer)
    response = admin_client_verified.post(
        reverse("accounts:member_sessions_end", args=[volunteer.pk])
    )
    assert response.status_code == 302
    for device in (laptop, phone):
        assert device.get(DASHBOARD).url.startswith(LOGIN)
    # The password still works; only the sessions ended.
    assert Client().post(LOGIN, {"username": "volunteer1", "password": PASSWORD}).status_code == 302


def test_coordinator_cannot_sign_people_out_everywhere(volunteer, coordinator_client):
    response = coordinator_client.post(reverse("accounts:member_sessions_end", args=[volunteer.pk]))
    assert response.status_code == 403
    assert verified_client(volunteer).get(DASHBOARD).status_code == 200


def test_second_factor_reset_ends_sessions_and_forces_enrolment(volunteer, coordinator_client):
    session = verified_client(volunteer)
    response = coordinator_client.post(
        reverse("accounts:member_second_factor_reset", args=[volunteer.pk])
    )
    assert response.status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=volunteer).exists()
    assert not BackupCodeDevice.objects.filter(user=volunteer).exists()
    assert session.get(DASHBOARD).url.startswith(LOGIN)
    fresh = Client()
    response = fresh.post(LOGIN, {"username": "volunteer1", "password": PASSWORD})
    assert response.url.startswith(reverse("accounts:enrol"))


def test_password_change_ends_every_other_session(volunteer):
    here = verified_client(volunteer)
    elsewhere = verified_client(volunteer)
    key_before = here.session.session_key
    new_password = "a brand new passphrase 77"
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert here.get(DASHBOARD).status_code == 200
    assert here.session.session_key != key_before
    assert elsewhere.get(DASHBOARD).url.startswith(LOGIN)


def test_password_change_refuses_a_short_password_and_keeps_the_session(volunteer_client):
    response = volunteer_client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert volunteer_client.get(DASHBOARD).status_code == 200
