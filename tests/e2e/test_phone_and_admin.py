"""Issue 24 on a phone and at a desk, in English and Russian: the authenticator set up on
the phone that holds it, a backup code, and an admin unlocking a locked-out member."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.models import AuthenticatorDevice
from accounts.roles import Role
from accounts.second_factor import backup_codes_issue
from audit.log import record
from audit.models import Action
from tests.e2e.conftest import shoot
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(secret_base32: str) -> str:
    from base64 import b32decode

    padded = secret_base32 + "=" * (-len(secret_base32) % 8)
    return f"{totp(b32decode(padded)):06d}"


def sign_in(page, live_server, username, w):
    page.goto(f"{live_server.url}/")
    page.get_by_label(w("Username")).fill(username)
    page.get_by_label(w("Password")).fill(PASSWORD)
    page.get_by_role("button", name=w("Continue")).click()


def test_setting_up_the_authenticator_on_the_phone_itself(page, live_server, team, w):
    UserFactory(username="river-fox", role=Role.VOLUNTEER, teams=[team])
    sign_in(page, live_server, "river-fox", w)
    page.wait_for_url("**/account/enrol/**")

    link = page.get_by_role("link", name=w("Open in authenticator app"))
    expect(link).to_be_visible()
    href = unescape(link.get_attribute("href"))
    assert href.startswith("otpauth://totp/")
    secret = parse_qs(urlsplit(href).query)["secret"][0]
    # The key as shown is the key the link (and the QR code) carries.
    groups = page.locator("code.secret span")
    assert "".join(groups.all_inner_texts()) == secret
    # No group is split across lines: each is one box, one line high, inside the screen.
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('code.secret span')).map(span => {
            const rects = span.getClientRects();
            const box = span.getBoundingClientRect();
            return {lines: rects.length, top: box.top, height: box.height, right: box.right};
        })"""
    )
    line_height = min(box["height"] for box in boxes)
    width = page.viewport_size["width"]
    for box in boxes:
        assert box["lines"] == 1
        assert box["height"] < line_height * 1.5
        assert box["right"] <= width
    shoot(page, "80-enrol-on-phone")

    code = page.get_by_label(w("Code from the app"))
    assert code.get_attribute("inputmode") == "numeric"
    assert code.get_attribute("autocomplete") == "one-time-code"
    # A typo, then the right code at once: the right one goes through.
    right = code_for(secret)
    code.fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name=w("Confirm")).click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label(w("Code from the app")).fill(right)
    page.get_by_role("button", name=w("Confirm")).click()
    page.get_by_role("heading", name=w("Your backup codes")).wait_for()
    shoot(page, "81-backup-codes")
    assert AuthenticatorDevice.objects.get(user__username="river-fox").confirmed


def test_signing_in_with_a_backup_code(page, live_server, volunteer, w):
    AuthenticatorDevice.objects.create(user=volunteer, name="app", confirmed=True)
    codes = backup_codes_issue(user=volunteer)
    sign_in(page, live_server, volunteer.username, w)
    page.wait_for_url("**/account/verify/**")
    daily = page.get_by_label(w("Code"), exact=True)
    assert daily.get_attribute("inputmode") == "numeric"
    shoot(page, "82-verify")
    page.get_by_role("link", name=w("Use a backup code")).click()
    backup = page.get_by_label(w("Backup code"))
    assert backup.get_attribute("inputmode") == "text"
    shoot(page, "83-verify-backup-code")
    backup.fill(codes[0].upper().replace("-", " "))
    page.get_by_role("button", name=w("Verify")).click()
    page.wait_for_url(f"{live_server.url}/")


def test_an_admin_finds_a_locked_out_member_and_unlocks_them(
    page, live_server, admin_user, team, w
):
    device = AuthenticatorDevice.objects.create(user=admin_user, name="app", confirmed=True)
    locked = UserFactory(username="stone-owl", role=Role.VOLUNTEER, teams=[team])
    UserFactory.create_batch(3, role=Role.VOLUNTEER, teams=[team])
    reader = UserFactory(username="quiet-heron", role=Role.VOLUNTEER, teams=[team])
    for _ in range(4):  # one case reloaded: one row in the log as shown
        record(Action.CASE_VIEWED, actor=reader, target_type="case", target_ref="C-2026-00042")
    stranger = Client()
    for _ in range(5):
        stranger.post(
            reverse("accounts:login"),
            {"username": locked.username, "password": "not the password"},
            REMOTE_ADDR="203.0.113.7",
        )

    sign_in(page, live_server, admin_user.username, w)
    page.get_by_label(w("Code")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name=w("Verify")).click()
    page.wait_for_url(f"{live_server.url}/")
    # The dashboard's count opens the accounts it counts.
    page.locator(f"a[href='{reverse('accounts:members')}?state=locked']").click()
    page.wait_for_url("**/members/?state=locked")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "stone-owl" in rows.first.inner_text()
    shoot(page, "84-members-locked-out")

    page.goto(f"{live_server.url}{reverse('accounts:members')}")
    page.get_by_label(w("Username")).fill("owl")
    page.get_by_role("button", name=w("Filter")).click()
    row = page.get_by_role("row").filter(has_text="stone-owl")
    assert re.search(w("locked out until %(until)s", until=r"\d\d:\d\d"), row.inner_text())
    shoot(page, "85-members-search")
    row.get_by_role("link", name=w("Clear lock-out")).click()
    shoot(page, "86-unlock-confirm")
    page.get_by_role("button", name=w("Yes, do it")).click()
    page.get_by_text(w("%(username)s can sign in again.", username="stone-owl")).wait_for()
    after = page.get_by_role("row").filter(has_text="stone-owl")
    assert after.get_by_role("link", name=w("Clear lock-out")).count() == 0
    shoot(page, "87-members-unlocked")

    page.goto(f"{live_server.url}{reverse('audit:events')}")
    first = page.locator("tbody tr").first
    assert "stone-owl" in first.inner_text()
    folded = page.locator("tbody tr.folded").filter(has_text="quiet-heron")
    assert "\N{MULTIPLICATION SIGN}4" in folded.inner_text()
    shoot(page, "88-audit-unlock-named")
