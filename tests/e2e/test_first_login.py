"""A newcomer's first sign-in: password, authenticator enrolment, backup codes, dashboard."""

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.models import AuthenticatorDevice
from accounts.roles import Role
from tests.e2e.conftest import shoot
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(secret_base32: str, drift: int = 0) -> str:
    from base64 import b32decode

    padded = secret_base32 + "=" * (-len(secret_base32) % 8)
    return f"{totp(b32decode(padded), drift=drift):06d}"


def sign_in(page, live_server, username, password=PASSWORD, w=str):
    page.goto(f"{live_server.url}/")
    page.get_by_label(w("Username")).fill(username)
    page.get_by_label(w("Password")).fill(password)
    page.get_by_role("button", name=w("Continue")).click()


def test_first_sign_in_enrols_an_authenticator_and_reaches_the_dashboard(
    page, live_server, team, w
):
    UserFactory(username="demo-coordinator", role=Role.COORDINATOR, teams=[team])
    page.goto(f"{live_server.url}/")
    assert "/account/login/" in page.url
    expect(page.get_by_role("heading", name=w("Sign in"))).to_be_visible()
    shoot(page, "01-login")

    sign_in(page, live_server, "demo-coordinator", w=w)
    page.wait_for_url("**/account/enrol/**")
    expect(page.get_by_role("img", name=w("QR code for your authenticator app"))).to_be_visible()
    shoot(page, "02-enrol")
    secret = page.locator("code.secret").inner_text().replace(" ", "")

    page.get_by_label(w("Code from the app")).fill("000000")
    page.get_by_role("button", name=w("Confirm")).click()
    expect(page.get_by_role("alert").first).to_be_visible()
    shoot(page, "03-enrol-wrong-code")

    # One typo costs no wait: the right code goes through at once.
    page.get_by_label(w("Code from the app")).fill(code_for(secret))
    page.get_by_role("button", name=w("Confirm")).click()
    page.get_by_role("heading", name=w("Your backup codes")).wait_for()
    assert page.locator("ol.codes li").count() == 10
    shoot(page, "04-backup-codes")

    page.get_by_role("link", name=w("I have saved them, continue")).click()
    page.get_by_role("heading", name=w("Dashboard")).wait_for()
    expect(page.get_by_text(w("Signed in as %(name)s.", name="demo-coordinator"))).to_be_visible()
    shoot(page, "05-dashboard")
    assert AuthenticatorDevice.objects.get(user__username="demo-coordinator").confirmed


def test_returning_user_signs_in_with_a_code(page, live_server, volunteer):
    device = AuthenticatorDevice.objects.create(user=volunteer, name="app", confirmed=True)
    sign_in(page, live_server, volunteer.username, "a wrong password here")
    expect(page.get_by_text("That username and password do not match")).to_be_visible()
    assert page.get_by_label("Username").input_value() == volunteer.username
    shoot(page, "06-login-wrong-password")

    sign_in(page, live_server, volunteer.username)
    page.wait_for_url("**/account/verify/**")
    shoot(page, "07-verify")
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Dashboard").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/account/login/**")


def test_coordinator_resets_a_volunteers_authenticator(page, live_server, coordinator, volunteer):
    device = AuthenticatorDevice.objects.create(user=coordinator, name="app", confirmed=True)
    AuthenticatorDevice.objects.create(user=volunteer, name="app", confirmed=True)
    sign_in(page, live_server, coordinator.username)
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="Members").click()
    shoot(page, "09-members")
    page.get_by_role("link", name="Reset second factor").click()
    shoot(page, "10-confirm-reset")
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.get_by_text("volunteer1 must set up a new authenticator")).to_be_visible()
    shoot(page, "11-members-after-reset")
    assert not AuthenticatorDevice.objects.filter(user=volunteer).exists()
