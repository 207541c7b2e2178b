"""With Referrer-Policy: no-referrer a browser posts forms with "Origin: null". The CSRF
check takes Sec-Fetch-Site: same-origin instead, and nothing else."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import form_token
from tests.factories import PASSWORD

LOGIN = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def post_login(volunteer, *, secure: bool, **headers):
    client = Client(enforce_csrf_checks=True)
    token = form_token(client.get(LOGIN, secure=secure))
    return client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=secure,
        headers=headers,
    )


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_a_same_origin_form_post_with_a_null_origin_signs_in(volunteer, secure):
    response = post_login(volunteer, secure=secure, origin="null", sec_fetch_site="same-origin")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:enrol"))  # past the password step


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none", ""])
def test_a_null_origin_from_anywhere_else_is_refused(volunteer, site):
    response = post_login(volunteer, secure=True, origin="null", sec_fetch_site=site)
    assert response.status_code == 403


def test_another_origin_is_refused_whatever_sec_fetch_site_claims(volunteer):
    response = post_login(
        volunteer, secure=True, origin="https://evil.example", sec_fetch_site="same-origin"
    )
    assert response.status_code == 403


def test_the_token_is_still_required(volunteer):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD},
        headers={"origin": "null", "sec_fetch_site": "same-origin"},
    )
    assert response.status_code == 403


def test_a_missing_csrf_middleware_is_still_reported(settings):
    from django.core import checks

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "privacy.W001" in {message.id for message in messages}
