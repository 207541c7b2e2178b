"""Walks every URL pattern: nothing but sign-in and enrolment without a verified second factor."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import AuthenticatorFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
# Reachable with no session at all.
PUBLIC = {"accounts:login"}
# Reachable signed in with a password only, before the second factor.
BEFORE_SECOND_FACTOR = {"accounts:login", "accounts:verify", "accounts:enrol", "accounts:logout"}
# A password link's pages: without a live link they answer 404, signed in or not.
LINK_PAGES = {"accounts:link", "accounts:link_set"}
# Machines' calls, each with a credential of its own instead of a session: the Telegram
# bot's webhook (the secret header; a 404 while the bot is off, as here, tests/intake/telegram).
MACHINE_PAGES = {"telegram:webhook"}
SAMPLES = ["1", "accounts", "user", "team", "C-2026-00001", str(uuid.uuid4()), "x"]
# Our path converters (config/converters.py) take nothing else.
CONVERTER_SAMPLES = {"ref": "C-2026-00001", "country": "GE"}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None


def sample_url(route: str) -> str:
    """A concrete path for a route, with each parameter filled by a value it accepts."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("$", "").replace("^", "")
    route = re.sub(r"<(?:int:)?\w+>", "1", route)
    route = re.sub(r"<(\w+):\w+>", lambda match: CONVERTER_SAMPLES.get(match[1], "x"), route)

    def fill(match: re.Match) -> str:
        body = match.group(2)
        for candidate in SAMPLES:
            if re.fullmatch(body, candidate):
                return candidate
        return "x"

    route = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", fill, route)
    route = route.replace("\\", "")
    return "/" + route


ALL_ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_sees_the_pages_we_know():
    names = {name for _, name in ALL_ROUTES}
    assert {"dashboard:home", "accounts:profile", "accounts:members", "admin:index"} <= names
    assert len(ALL_ROUTES) > 30  # the admin alone brings dozens


def final_path(response) -> str:
    return response.request["PATH_INFO"]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), ALL_ROUTES)
def test_anonymous_visitor_ends_at_sign_in(client, route, name):
    url = sample_url(route)
    response = client.get(url, follow=True)
    if name in LINK_PAGES | MACHINE_PAGES:
        assert response.status_code == 404, url
        return
    assert response.status_code == 200, url
    if name in PUBLIC:
        assert final_path(response) == url
        return
    # The admin's own pages pass through its login, which hands over to ours.
    assert final_path(response) == LOGIN, (url, response.redirect_chain)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), ALL_ROUTES)
def test_password_without_second_factor_reaches_only_the_second_step(
    client, volunteer, route, name
):
    AuthenticatorFactory(user=volunteer)
    url = sample_url(route)
    for method in (client.get, client.post):
        client.force_login(volunteer)
        response = method(url, follow=True)
        if name in BEFORE_SECOND_FACTOR:
            assert response.status_code in (200, 405), url
            continue
        if name in LINK_PAGES | MACHINE_PAGES:
            assert response.status_code == 404, url
            continue
        assert response.status_code == 200, url
        assert final_path(response) in {VERIFY, LOGIN}, (url, response.redirect_chain)
        assert b"Second step" in response.content or b"Sign in" in response.content


@pytest.mark.django_db
def test_without_an_authenticator_the_second_step_is_enrolment(client, volunteer):
    client.force_login(volunteer)
    response = client.get(reverse("accounts:profile"))
    assert response.url.startswith(reverse("accounts:enrol"))


def test_static_files_are_served_without_a_session(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
