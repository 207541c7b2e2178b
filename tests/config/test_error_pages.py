"""Error pages keep the site's navigation for whoever is signed in (issue 24, item 10)."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NOWHERE = "/no-such-page/"


def navigation(page: str) -> str:
    found = page.split('<nav aria-label="Main">', 1)
    return found[1].split("</nav>", 1)[0] if len(found) == 2 else ""


def test_not_found_keeps_the_navigation_of_a_signed_in_volunteer(volunteer_client):
    response = volunteer_client.get(NOWHERE)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page
    nav = navigation(page)
    assert reverse("casework:case_list") in nav and reverse("accounts:profile") in nav


def test_not_allowed_keeps_the_navigation(volunteer_client):
    response = volunteer_client.get(reverse("accounts:members"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not allowed" in page
    assert reverse("dashboard:home") in navigation(page)


def test_an_admins_error_page_shows_the_admins_navigation(admin_client_verified):
    page = admin_client_verified.get(NOWHERE).content.decode()
    assert reverse("audit:events") in navigation(page)


def test_a_stranger_gets_the_error_without_any_navigation(client):
    response = client.get(NOWHERE)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page
    assert navigation(page) == ""


def test_half_signed_in_gets_no_navigation(volunteer):
    from tests.factories import PASSWORD, AuthenticatorFactory

    AuthenticatorFactory(user=volunteer)
    client = Client()
    client.post(reverse("accounts:login"), {"username": volunteer.username, "password": PASSWORD})
    page = client.get(NOWHERE).content.decode()
    assert navigation(page) == ""


@pytest.mark.urls("tests.config.broken_urls")
def test_the_server_error_page_stays_standalone(volunteer_client):
    volunteer_client.raise_request_exception = False
    response = volunteer_client.get("/explode/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "secret detail" not in page
