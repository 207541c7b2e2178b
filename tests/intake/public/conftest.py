"""The public form's host: `public_host` makes PUBLIC_HOST public for a test (the staff app
goes on answering on "testserver"), and `public` is a browser's client on it."""

import re

import pytest
from django.test import Client

PUBLIC_HOST = "form.example.onion"
REFERENCE = re.compile(r'<p class="secret" id="reference">([^<]+)</p>')
PASSPHRASE = re.compile(r'<p class="secret" id="passphrase">([^<]+)</p>')
TOKEN = re.compile(r'<input type="hidden" name="once" value="([^"]*)"')


def make_public(settings, host: str = PUBLIC_HOST) -> None:
    settings.PUBLIC_HOSTS = [host]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]


@pytest.fixture
def public_host(settings):
    make_public(settings)
    return PUBLIC_HOST


@pytest.fixture
def public(public_host) -> Client:
    """A browser that asks for English (the form's own default is Russian): the tests read
    its English words."""
    return Client(HTTP_HOST=public_host, HTTP_ACCEPT_LANGUAGE="en")


def shown_once(response) -> tuple[str, str]:
    """The reference and passphrase the page after sending shows."""
    html = response.content.decode()
    return REFERENCE.search(html)[1], PASSPHRASE.search(html)[1]


def page_token(response) -> str:
    """The one-time token in the form page's hidden field."""
    return TOKEN.search(response.content.decode())[1]


def submit(client: Client, message: str = "I got a summons for Monday.", **extra):
    response = client.post("/", {"message": message, **extra})
    assert response.status_code == 200, response.content.decode()[:2000]
    return shown_once(response)
