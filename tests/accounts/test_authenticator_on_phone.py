"""Setting up and using the authenticator on the phone that holds it (issue 24, item 6)."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthenticatorDevice
from tests.conftest import current_code
from tests.factories import PASSWORD, AuthenticatorFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
ENROL = reverse("accounts:enrol")
DASHBOARD = reverse("dashboard:home")

pytestmark = pytest.mark.django_db


def sign_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def field(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page)[0]


def test_enrolment_offers_the_key_as_an_otpauth_link_matching_the_qr_code(client, volunteer):
    sign_in(client, volunteer)
    page = client.get(ENROL).content.decode()
    device = AuthenticatorDevice.objects.get(user=volunteer, confirmed=False)
    href = unescape(re.search(r'<a class="button" href="(otpauth://[^"]+)"', page)[1])
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    query = parse_qs(parts.query)
    assert query["secret"] == [device.base32_secret]
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    assert "Open in authenticator app" in page


def test_enrolment_shows_the_key_in_groups_of_four_each_kept_whole(client, volunteer):
    sign_in(client, volunteer)
    page = client.get(ENROL).content.decode()
    device = AuthenticatorDevice.objects.get(user=volunteer, confirmed=False)
    key = re.search(r'<code class="secret">(.+?)</code>', page)[1]
    groups = re.findall(r"<span>([A-Z2-7]+)</span>", key)
    assert "".join(groups) == device.base32_secret
    assert all(len(group) == 4 for group in groups[:-1])


def test_the_daily_code_field_brings_the_number_pad_and_one_time_code_fill(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    code = field(client.get(VERIFY).content.decode(), "code")
    assert 'inputmode="numeric"' in code
    assert 'autocomplete="one-time-code"' in code
    sign_in_page = client.get(VERIFY).content.decode()
    assert "Use a backup code" in sign_in_page


def test_a_backup_code_has_its_own_form_with_letters(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    page = client.get(VERIFY).content.decode()
    backup_url = unescape(re.search(r'<a href="([^"]*use=backup[^"]*)"', page)[1])
    backup_page = client.get(backup_url).content.decode()
    code = field(backup_page, "code")
    assert 'inputmode="text"' in code
    assert 'inputmode="numeric"' not in code
    assert "Use the code from your app" in backup_page


def test_a_backup_code_typed_with_spaces_and_capitals_signs_in(client, volunteer):
    from accounts.second_factor import backup_codes_issue

    AuthenticatorFactory(user=volunteer)
    codes = backup_codes_issue(user=volunteer)
    sign_in(client, volunteer)
    typed = codes[0].upper().replace("-", " ")
    response = client.post(f"{VERIFY}?use=backup", {"code": typed})
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200


def test_one_wrong_code_does_not_block_the_right_one_at_sign_in(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    with time_machine.travel(timezone.now(), tick=False):
        right = current_code(device)
        refused = client.post(VERIFY, {"code": wrong(right)})
        assert "not valid" in refused.content.decode()
        response = client.post(VERIFY, {"code": right})
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200


def test_a_burst_of_wrong_codes_at_sign_in_is_still_throttled(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    with time_machine.travel(timezone.now(), tick=False):
        right = current_code(device)
        for _ in range(3):
            client.post(VERIFY, {"code": wrong(right)})
        response = client.post(VERIFY, {"code": right})
        assert "Too many wrong codes" in response.content.decode()
        assert client.get(DASHBOARD).status_code == 302


def test_the_throttle_lifts_after_the_wait(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        right = current_code(device)
        for _ in range(3):
            client.post(VERIFY, {"code": wrong(right)})
        clock.shift(2)
        response = client.post(VERIFY, {"code": right})
    assert response.status_code == 302


def test_guessing_on_past_the_throttle_ends_in_the_lock_out(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    sign_in(client, volunteer)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        right = current_code(device)
        for _ in range(5):
            client.post(VERIFY, {"code": wrong(right)})
            clock.shift(60)  # patient enough to wait out every delay
        response = client.post(VERIFY, {"code": right})
    assert response.status_code in (302, 429)
    assert client.get(DASHBOARD).status_code == 302
    again = client.post(LOGIN, {"username": volunteer.username, "password": PASSWORD})
    assert again.status_code == 429


def test_one_wrong_code_does_not_block_the_right_one_at_enrolment(client, volunteer):
    sign_in(client, volunteer)
    client.get(ENROL)
    device = AuthenticatorDevice.objects.get(user=volunteer, confirmed=False)
    with time_machine.travel(timezone.now(), tick=False):
        right = current_code(device)
        refused = client.post(ENROL, {"code": wrong(right)})
        assert "not valid" in refused.content.decode()
        response = client.post(ENROL, {"code": right})
    assert "Your backup codes" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 200


def test_a_burst_of_wrong_codes_at_enrolment_is_still_throttled(client, volunteer):
    sign_in(client, volunteer)
    client.get(ENROL)
    device = AuthenticatorDevice.objects.get(user=volunteer, confirmed=False)
    with time_machine.travel(timezone.now(), tick=False):
        right = current_code(device)
        for _ in range(3):
            client.post(ENROL, {"code": wrong(right)})
        response = client.post(ENROL, {"code": right})
    assert "Too many wrong codes" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=volunteer, confirmed=True).exists()
