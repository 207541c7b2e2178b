import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("accounts:login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_forbid_framing_and_referrers(client):
    response = client.get(reverse("accounts:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "no-referrer"
    # The page's own policy would override the header's: it must not loosen it.
    assert b'<meta name="referrer" content="no-referrer">' in response.content
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_turn_off_browser_features(client):
    policy = client.get(reverse("accounts:login"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


def test_signed_in_pages_are_never_stored(volunteer_client):
    response = volunteer_client.get(reverse("dashboard:home"))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "|safe" not in text


def test_vendored_scripts_are_served_locally(client, volunteer_client):
    page = volunteer_client.get(reverse("dashboard:home")).content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert sources
    for source in sources:
        assert source.startswith("/static/")
        assert client.get(source).status_code == 200


def test_not_found_page_leaks_nothing(volunteer_client):
    probe = "/C-2026-99999/some-guess/"
    response = volunteer_client.get(probe)
    assert response.status_code == 404
    body = response.content.decode()
    assert "some-guess" not in body
    assert "Not found" in body
    assert "urlpatterns" not in body


@pytest.mark.urls("tests.config.broken_urls")
def test_server_error_page_leaks_nothing(client):
    client.raise_request_exception = False
    response = client.get("/explode/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret detail" not in body
    assert "+7 900" not in body
    assert "Traceback" not in body


def test_forged_form_gets_a_clear_403_not_a_500(volunteer):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("accounts:login"), {"username": volunteer.username, "password": "x" * 12}
    )
    assert response.status_code == 403
    assert "Form expired" in response.content.decode()
