"""Standing personas: a volunteer and a coordinator of one team, a volunteer of another
team, and an admin. Each `*_client` is signed in with a verified second factor."""

import re

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CSRF_SESSION_KEY
from django.test import Client
from django.utils.crypto import get_random_string
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from accounts.middleware import mark_session_start
from accounts.models import AuthenticatorDevice, User
from accounts.roles import Role
from config.step_up import mark_step_up
from tests.factories import AuthenticatorFactory, TeamFactory, UserFactory


def current_code(device: AuthenticatorDevice, offset_steps: int = 0) -> str:
    """The code an authenticator app would show now (or a step earlier or later)."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=0, digits=device.digits, drift=offset_steps)
    return f"{value:06d}"


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def form_token(response) -> str:
    """The CSRF token a page's form carries: it lives in the session, not in a cookie
    (CSRF_USE_SESSIONS), so a browser, and a test, learns it from the page."""
    match = CSRF_FIELD.search(response.content.decode())
    assert match, f"no form with a CSRF token on {response.request['PATH_INFO']}"
    return match[1]


def verified_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorFactory(user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    mark_session_start(session)
    # Signing in with password and code is a fresh confirmation (config.step_up), as here.
    mark_step_up(session)
    # The sign-in form put a CSRF secret in the session (CSRF_USE_SESSIONS), and signing in
    # keeps it: pages of a signed-in session do not write it again.
    session[CSRF_SESSION_KEY] = get_random_string(
        CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS
    )
    session.save()
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the dashboard keeps team figures a minute)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _own_checkpoint_file(settings, tmp_path):
    """Each test keeps its audit checkpoints apart: a checkpoint another test's database
    wrote would name events this one never had."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request for a Russian page switches
    the worker's thread to Russian, and it would stay so for whatever the next test
    renders outside a request."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def team(db):
    return TeamFactory(name="North")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South")


@pytest.fixture
def volunteer(team):
    return UserFactory(username="volunteer1", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def coordinator(team):
    return UserFactory(username="coordinator1", role=Role.COORDINATOR, teams=[team])


@pytest.fixture
def other_volunteer(other_team):
    return UserFactory(username="volunteer2", role=Role.VOLUNTEER, teams=[other_team])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin1", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def volunteer_client(volunteer):
    return verified_client(volunteer)


@pytest.fixture
def coordinator_client(coordinator):
    return verified_client(coordinator)


@pytest.fixture
def admin_client_verified(admin_user):
    return verified_client(admin_user)
