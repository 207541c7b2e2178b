import re

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from accounts.models import AuthenticatorDevice, BackupCode
from tests.conftest import current_code
from tests.factories import PASSWORD, AuthenticatorFactory, UserFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
ENROL = reverse("accounts:enrol")
DASHBOARD = reverse("dashboard:home")
# Four groups of four of Crockford's base32, as the backup codes page shows them.
SHOWN_CODE = r"<code>([0-9a-hjkmnp-tv-z]{4}(?:-[0-9a-hjkmnp-tv-z]{4}){3})</code>"

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_login_page_is_public(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_wrong_password_and_unknown_username_get_the_same_answer(client, volunteer):
    wrong_password = sign_in(client, volunteer.username, "not the password at all")
    unknown_user = sign_in(client, "nobody-by-this-name", "not the password at all")
    assert wrong_password.status_code == unknown_user.status_code == 200
    message = "That username and password do not match"
    assert message in wrong_password.content.decode()
    assert message in unknown_user.content.decode()
    # What the user typed stays in the form; the password does not come back.
    assert 'value="nobody-by-this-name"' in unknown_user.content.decode()
    assert "not the password at all" not in unknown_user.content.decode()


def test_password_alone_reaches_nothing_but_the_second_step(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    response = sign_in(client, volunteer.username)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    dashboard = client.get(DASHBOARD)
    assert dashboard.status_code == 302
    assert dashboard.url.startswith(VERIFY)


def test_password_then_code_reaches_the_dashboard(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer.username)
    response = client.post(VERIFY, {"code": current_code(device)})
    assert response.status_code == 302
    assert response.url == DASHBOARD
    page = client.get(DASHBOARD)
    assert page.status_code == 200
    assert "volunteer1" in page.content.decode()


def test_session_key_changes_when_the_second_factor_is_verified(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer.username)
    key_after_password = client.session.session_key
    client.post(VERIFY, {"code": current_code(device)})
    assert client.session.session_key != key_after_password


def test_a_code_is_accepted_only_once(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    code = current_code(device)
    sign_in(client, volunteer.username)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post(reverse("accounts:logout"))

    sign_in(client, volunteer.username)
    replay = client.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert "not valid, or it was already used" in replay.content.decode()
    assert client.get(DASHBOARD).status_code == 302


def test_a_code_from_an_older_step_is_refused_after_a_newer_one(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    newer = current_code(device)
    older = current_code(device, offset_steps=-1)
    sign_in(client, volunteer.username)
    assert client.post(VERIFY, {"code": newer}).status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, volunteer.username)
    assert client.post(VERIFY, {"code": older}).status_code == 200


def test_wrong_code_is_refused_with_a_message(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    sign_in(client, volunteer.username)
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()


def test_repeated_wrong_codes_are_throttled(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer.username)
    for _ in range(3):
        client.post(VERIFY, {"code": "000000"})
    # Right code, but too soon after a burst of failures: the device makes the user wait.
    response = client.post(VERIFY, {"code": current_code(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 302


def test_offsite_next_is_ignored(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer.username)
    response = client.post(VERIFY + "?next=https://evil.example/", {"code": current_code(device)})
    assert response.url == DASHBOARD


def test_next_is_kept_through_both_steps(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    target = reverse("accounts:profile")
    response = client.post(
        f"{LOGIN}?next={target}", {"username": volunteer.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    verify_url = response.url
    response = client.post(verify_url, {"code": current_code(device)})
    assert response.url == target


def enrol(client, user):
    """Walks the first-login enrolment; returns the backup codes shown."""
    sign_in(client, user.username)
    page = client.get(ENROL)
    assert page.status_code == 200
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": current_code(device)})
    assert response.status_code == 200
    return re.findall(SHOWN_CODE, response.content.decode())


def test_first_login_forces_enrolment(client, volunteer):
    response = sign_in(client, volunteer.username)
    assert response.url.startswith(ENROL)
    assert client.get(DASHBOARD).url.startswith(ENROL)
    assert client.get(VERIFY).url.startswith(ENROL)


def test_enrolment_page_shows_a_local_qr_code_and_the_secret(client, volunteer):
    sign_in(client, volunteer.username)
    page = client.get(ENROL).content.decode()
    device = AuthenticatorDevice.objects.get(user=volunteer, confirmed=False)
    assert 'src="data:image/svg+xml;base64,' in page
    shown = re.search(r'<code class="secret"[^>]*>(.+?)</code>', page).group(1)
    assert "".join(re.findall(r"<span>([A-Z2-7]{1,4})</span>", shown)) == device.base32_secret
    # Reloading keeps the same secret: the user may have scanned it already.
    assert shown in client.get(ENROL).content.decode()


def test_enrolment_confirmed_by_a_code_shows_ten_backup_codes_once(client, volunteer):
    codes = enrol(client, volunteer)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get(DASHBOARD).status_code == 200
    assert AuthenticatorDevice.objects.get(user=volunteer).confirmed
    # The codes are nowhere to be seen again.
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert codes[0] not in profile
    assert "10" in profile


def test_enrolment_with_a_wrong_code_keeps_the_user_out(client, volunteer):
    sign_in(client, volunteer.username)
    client.get(ENROL)
    response = client.post(ENROL, {"code": "12345x"})
    assert response.status_code == 200
    assert "six digits" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=volunteer, confirmed=True).exists()
    assert client.get(DASHBOARD).status_code == 302


def test_a_backup_code_signs_in_once(client, volunteer):
    codes = enrol(client, volunteer)
    client.post(reverse("accounts:logout"))

    sign_in(client, volunteer.username)
    assert client.post(VERIFY, {"code": codes[3].upper()}).status_code == 302
    assert client.get(DASHBOARD).status_code == 200
    client.post(reverse("accounts:logout"))

    sign_in(client, volunteer.username)
    again = client.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 200
    assert BackupCode.objects.filter(used_at__isnull=False).count() == 1


def test_new_backup_codes_replace_the_old_ones(client, volunteer):
    old = enrol(client, volunteer)
    response = client.post(reverse("accounts:backup_codes_new"))
    new = re.findall(SHOWN_CODE, response.content.decode())
    assert len(new) == 10
    assert not set(old) & set(new)
    client.post(reverse("accounts:logout"))
    sign_in(client, volunteer.username)
    assert client.post(VERIFY, {"code": old[0]}).status_code == 200


def test_logout_needs_post(volunteer_client):
    assert volunteer_client.get(reverse("accounts:logout")).status_code == 405
    assert volunteer_client.post(reverse("accounts:logout")).status_code == 302
    assert volunteer_client.get(DASHBOARD).status_code == 302


def test_notification_email_needs_an_address_and_is_stored_encrypted(volunteer, volunteer_client):
    profile = reverse("accounts:profile")
    refused = volunteer_client.post(
        profile, {"email_notifications": "on", "notification_email": ""}
    )
    assert refused.status_code == 400
    assert "Give the address" in refused.content.decode()
    volunteer_client.post(
        profile, {"email_notifications": "on", "notification_email": "me@example.org"}
    )
    volunteer.refresh_from_db()
    assert volunteer.email_notifications and volunteer.notification_email == "me@example.org"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT notification_email FROM accounts_user WHERE id = %s", [volunteer.pk])
        assert "example.org" not in cursor.fetchone()[0]


def test_passwords_are_stored_with_argon2_and_old_hashes_upgraded(production_hashers, client):
    """The suite hashes with MD5 for speed (tests/conftest.py); the deployment's list is
    under test here: a stolen table holds Argon2 hashes only, and a PBKDF2 hash from before
    is rehashed at the next sign-in."""
    user = UserFactory(username="hashed1")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    AuthenticatorFactory(user=user)

    assert sign_in(client, "hashed1").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
