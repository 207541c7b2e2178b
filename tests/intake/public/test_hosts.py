"""The public form lives on its own host names: the staff app is not there, the form is not
on the staff hosts, and a public page sets no cookie, loads no script and keeps no copy."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AccessEvent
from intake.models import IntakeRequest
from tests.intake.public.conftest import page_token, submit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
STAFF_PAGES = ["/", "/account/login/", "/intake/", "/cases/", "/admin/", "/audit/", "/search/"]


def public_paths(resolver=None, prefix="") -> list[str]:
    """Every page of the public URLconf (none takes an argument)."""
    resolver = resolver or get_resolver(settings.PUBLIC_URLCONF)
    paths = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths += public_paths(entry, route)
        else:
            assert isinstance(entry, URLPattern)
            assert not entry.pattern.regex.groupindex, f"{route} takes an argument"
            paths.append("/" + route)
    return paths


def test_the_public_urlconf_is_the_form_and_the_way_back_only():
    assert sorted(public_paths()) == ["/", "/back/", "/back/write/"]


@pytest.mark.parametrize("path", [p for p in STAFF_PAGES if p != "/"])
def test_staff_pages_are_not_found_on_the_public_host(public, path):
    for response in (public.get(path), public.post(path, {"username": "x"})):
        assert response.status_code == 404
        assert "Location" not in response  # not even a way to the sign-in page


def test_the_public_host_start_page_is_the_form_not_the_dashboard(public):
    response = public.get("/")
    assert response.status_code == 200
    assert 'name="message"' in response.content.decode()


@pytest.mark.parametrize("path", ["/back/", "/back/write/"])
def test_the_public_pages_are_not_found_on_the_staff_host(public_host, volunteer_client, path):
    for staff in (Client(), volunteer_client):  # "testserver", a staff host
        assert staff.get(path).status_code == 404
        assert staff.post(path, {"reference": "R-2026-00001"}).status_code == 404


def test_the_staff_host_start_page_is_not_the_form(public_host):
    response = Client().get("/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_without_public_hosts_there_is_no_public_form(settings):
    assert settings.PUBLIC_HOSTS == []
    assert Client(HTTP_HOST="localhost").get("/back/").status_code == 404


def test_a_public_host_with_a_port_is_the_public_host(public_host):
    client = Client(HTTP_HOST=f"{public_host}:8080")
    assert client.get("/intake/").status_code == 404
    assert client.get("/back/").status_code == 200


def test_only_the_public_static_files_are_served_there(public):
    assert public.get("/static/public/form.css").status_code == 200
    assert public.get("/static/css/app.css").status_code == 404
    assert public.get("/static/vendor/htmx-2.0.11.min.js").status_code == 404


def every_public_response(client: Client, team) -> list:
    reference, passphrase = submit(client)
    credentials = {"reference": reference, "passphrase": passphrase}
    page = {"message": "Help me, please.", "once": page_token(client.get("/"))}
    return [
        client.get("/"),
        client.get("/?lang=en"),
        client.post("/", {"message": ""}),
        client.post("/", {"message": "Help me, please."}),
        client.post("/", page),
        client.post("/", page),  # the same page again: "we already have your request"
        client.get("/back/"),
        client.post("/back/", credentials),
        client.post("/back/", {**credentials, "passphrase": "wrong words"}),
        client.post("/back/write/", {**credentials, "text": "Still here."}),
        client.get("/back/write/"),
        client.put("/"),
        client.get("/no-such-page/"),
        client.get("/static/public/form.css"),
        client.get("/static/css/app.css"),
    ]


def text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_public_response_sets_a_cookie(public, team):
    for response in every_public_response(public, team):
        assert not response.cookies, (response.request["PATH_INFO"], response.cookies)
        assert "Set-Cookie" not in response
    assert not public.cookies


def test_cookies_sent_to_the_public_host_are_not_read(public, team):
    """A session cookie of the staff site, sent by mistake or planted, is not even read."""
    public.cookies["sessionid"] = "x" * 32
    public.cookies["csrftoken"] = "y" * 32
    response = public.post("/", {"message": "Help me, please."})
    assert response.status_code == 200
    assert not response.cookies


def test_public_pages_carry_the_strict_policy_and_no_script(public, team):
    for response in every_public_response(public, team):
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "style-src 'self'" in policy
        assert "form-action 'self'" in policy
        assert "script-src" not in policy
        assert "unsafe" not in policy
        assert response["Referrer-Policy"] == "no-referrer"
        assert "<script" not in text(response).lower()


def test_public_pages_are_never_stored(public, team):
    for response in every_public_response(public, team):
        if response.request["PATH_INFO"].startswith("/static/"):
            continue
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]


def test_public_pages_load_nothing_from_elsewhere(public, team):
    for response in every_public_response(public, team):
        html = text(response)
        for address in re.findall(r'(?:href|src|action)="([^"]*)"', html):
            assert address.startswith(("/", "?", "#")), address
            assert not address.startswith("//"), address


def test_the_audit_log_keeps_nothing_of_where_the_person_is(public, team):
    public.post("/", {"message": "Help me, please."}, REMOTE_ADDR="203.0.113.77")
    request = IntakeRequest.objects.get()
    events = AccessEvent.objects.filter(target_ref=request.reference)
    assert events.exists()
    assert set(events.values_list("source_network", flat=True)) == {""}
    assert set(events.values_list("source_digest", flat=True)) == {""}


def test_a_forwarded_address_is_not_kept_either(public, team, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    public.post(
        "/", {"message": "Help me, please."}, HTTP_X_FORWARDED_FOR="198.51.100.5, 203.0.113.77"
    )
    assert set(AccessEvent.objects.values_list("source_network", flat=True)) == {""}


def test_the_staff_site_keeps_its_own_policy_and_cookies(public_host, volunteer_client):
    response = volunteer_client.get("/intake/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_public_hosts_join_the_allowed_hosts():
    env = {
        "PATH": os.environ["PATH"],
        "SAFE_PASSAGE_MODE": "embedded",
        "SAFE_PASSAGE_VAR_DIR": os.environ.get("SAFE_PASSAGE_VAR_DIR", str(ROOT / "var")),
        "PUBLIC_HOSTS": "Help.Example.Onion",
    }
    script = (
        "from django.conf import settings; print(settings.ALLOWED_HOSTS, settings.PUBLIC_HOSTS)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "'help.example.onion'" in result.stdout.split("]")[0]
    assert result.stdout.strip().endswith("['help.example.onion']")
