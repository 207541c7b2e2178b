"""CSRF on every POST: no URL of the project takes a form post without the token.

Each URL (from the same resolver walk as the access matrix) is posted by the role that may
act on it, with a client that enforces the check: without a token the answer is the CSRF
failure page (403) and nothing changes; with the token it is the access matrix's answer,
which proves the 403 came from the missing token and not from anything else.
"""

import copy

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from audit.models import AccessEvent
from tests.conftest import form_token
from tests.security.conftest import ROLES, World, body, rolled_back
from tests.security.test_access_matrix import POST_DATA, expected_for, observed
from tests.security.urlconf import Unfillable, all_patterns, variants

pytestmark = pytest.mark.django_db

CSRF_PAGE = "Form expired"
# Views that take posts from outside a browser session, each with its own credential, and
# the tests that hold them to it.
CSRF_EXEMPT = {
    # Telegram's calls carry X-Telegram-Bot-Api-Secret-Token (tests/intake/telegram).
    "telegram:webhook",
}
PATTERNS = [pattern for pattern in all_patterns() if pattern.key not in CSRF_EXEMPT]


def exempt_views(resolver=None, namespaces=()):
    """The names (or routes) of every csrf_exempt view in the URLconf."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from exempt_views(entry, inner)
        elif getattr(entry.callback, "csrf_exempt", False):
            yield ":".join((*namespaces, entry.name)) if entry.name else str(entry.pattern)


def test_only_the_listed_views_are_csrf_exempt():
    assert set(exempt_views()) == CSRF_EXEMPT


def acting_role(key: str, variant: str) -> str:
    """The role whose POST the matrix lets through (else the admin, else anonymous)."""
    rule = expected_for(key, variant) or {"POST": {}}
    for role in (*ROLES[2:], "password_only", "anonymous"):
        answer = rule["POST"].get(role, "")
        if answer and answer.split()[0] not in {"403", "404", "405"}:
            return role
    return "admin"


def enforcing(client: Client) -> Client:
    """The same session, with the CSRF check a browser would meet."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = copy.deepcopy(client.cookies)
    return strict


# A page with a form for each kind of session: the token lives in the session (no CSRF
# cookie), and the page's form is where a browser learns it.
FORM_PAGE = {"anonymous": "/account/login/", "password_only": "/account/verify/"}


def token_for(client: Client, role: str = "volunteer_a") -> str:
    response = client.get(FORM_PAGE.get(role, "/account/"))
    assert response.status_code == 200, response
    return form_token(response)


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.key)
def test_a_post_without_the_token_is_refused(world: World, pattern):
    try:
        concrete = variants(world, pattern)
    except Unfillable as error:
        pytest.fail(str(error))
    for variant, url in concrete:
        role = acting_role(pattern.key, variant)
        data = POST_DATA.get(pattern.key, lambda w, v: {})(world, variant)
        client = enforcing(world.clients[role])
        assert not getattr(resolve(url).func, "csrf_exempt", False), f"{url} is csrf_exempt"
        events = AccessEvent.objects.count()
        with rolled_back():
            refused = client.post(url, data)
            assert refused.status_code == 403, f"{url} as {role}: {refused.status_code}"
            assert CSRF_PAGE in refused.content.decode(), url
            assert AccessEvent.objects.count() == events, f"{url} changed something"
        token = token_for(client, role)
        with rolled_back():
            accepted = client.post(url, {**data, "csrfmiddlewaretoken": token})
            body(accepted)
        want = (expected_for(pattern.key, variant) or {"POST": {}})["POST"].get(role)
        assert observed(accepted) == want, f"{url} as {role} with the token"


@pytest.fixture
def signed_in(world: World) -> Client:
    return enforcing(world.clients["volunteer_a"])


def test_the_sign_in_form_needs_the_token(world: World):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/account/login/", {"username": "phished1", "password": "x" * 20})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_null_origin_from_the_same_site_still_needs_the_token(world: World, signed_in):
    before = world.case_a.events.count()
    response = signed_in.post(
        f"/cases/{world.case_a.reference}/timeline/",
        {"kind": "note", "text": "forged"},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403
    assert world.case_a.events.count() == before


def test_another_site_is_refused_even_with_a_valid_token(world: World, signed_in):
    token = token_for(signed_in)
    response = signed_in.post(
        f"/cases/{world.case_a.reference}/timeline/",
        {"kind": "note", "text": "forged", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 403
    assert CSRF_PAGE in response.content.decode()


def test_a_token_from_another_session_is_refused(world: World, signed_in):
    stranger = Client(enforce_csrf_checks=True)
    stolen = token_for(stranger, "anonymous")
    response = signed_in.post(
        f"/cases/{world.case_a.reference}/timeline/",
        {"kind": "note", "text": "forged", "csrfmiddlewaretoken": stolen},
    )
    assert response.status_code == 403
