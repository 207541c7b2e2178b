"""Standing personas: a volunteer and a coordinator of one team, a volunteer of another
team, and an admin. Each `*_client` is signed in with a verified second factor."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CSRF_SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from accounts.middleware import mark_session_start
from accounts.models import AuthenticatorDevice, User
from accounts.roles import Role
from config.step_up import mark_step_up
from privacy.database_roles import apply_grants
from tests.factories import AuthenticatorFactory, TeamFactory, UserFactory

# Two database roles (privacy/database_roles.py) --------------------------------------------
# With DATABASE_OWNER_URL set (.ci/run sets it for the PostgreSQL run), the owner creates and
# migrates the test database, the app's role (DATABASE_URL's user) is granted what
# `manage.py migrate` grants it, and every test runs as the app's role: the default
# connection logs in as the owner and at once assumes the app's role (Django's
# OPTIONS["assume_role"], a SET ROLE), so each query the app makes is checked against the
# app's privileges. The harness's own housekeeping, and a test that must act as the owner
# (as_database_owner), step back with SET ROLE NONE. Without DATABASE_OWNER_URL the suite
# runs as DATABASE_URL's role throughout, as it always has.
OWNER = settings.DATABASE_OWNER
# Who DATABASE_URL logs in as, kept before the harness below changes the settings.
APP_LOGIN = {
    key: settings.DATABASES["default"].get(key) for key in ("USER", "PASSWORD", "HOST", "PORT")
}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With two roles, pytest-django creates and migrates the test database as the owner,
    with a plain migrate: django_db_setup below grants the app's role afterwards."""
    if OWNER is None:
        return
    settings.DATABASES["default"].update(
        USER=OWNER["USER"],
        PASSWORD=OWNER.get("PASSWORD") or "",
        HOST=OWNER.get("HOST") or "",
        PORT=OWNER.get("PORT") or "",
    )
    # Our migrate would log in as the owner again, to the database DATABASE_OWNER_URL names
    # rather than the test database, and grant the owner to itself.
    settings.DATABASE_OWNER = None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as `manage.py migrate` leaves it: the app's role granted its
    privileges; then every test connects as that role."""
    if OWNER is None:
        yield
        return
    with django_db_blocker.unblock():
        apply_grants(connection=connection, role=APP_LOGIN["USER"])
    settings.DATABASE_OWNER = OWNER
    database = connection.settings_dict
    login_options = database["OPTIONS"]
    database["OPTIONS"] = {**login_options, "assume_role": APP_LOGIN["USER"]}
    connection.close()
    yield
    # pytest-django drops the test database next, which only its owner may do.
    database["OPTIONS"] = login_options
    connection.close()


@contextmanager
def as_database_owner(db=None) -> Iterator[None]:
    """Inside the block the connection acts as the owner of the tables: for what a test sets
    up, or attacks, with powers the app's role lacks. Without two roles (the suite then runs
    as the owner throughout) and on SQLite it changes nothing."""
    db = db or connection
    if OWNER is None or db.vendor != "postgresql":
        yield
        return
    from psycopg2.extensions import TRANSACTION_STATUS_INERROR

    with db.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (before,) = cursor.fetchone()
        cursor.execute("SET ROLE NONE")
    try:
        yield
    finally:
        # A failed transaction is rolled back by its owner, and the SET ROLE with it; a
        # connection closed inside the block assumes the app's role again when it reopens.
        raw = db.connection
        if raw is not None and raw.get_transaction_status() != TRANSACTION_STATUS_INERROR:
            with db.cursor() as cursor:
                cursor.execute("SET ROLE %s", [before])


@pytest.fixture(scope="session", autouse=True)
def _flush_as_owner():
    """Between transactional tests Django empties every table with one TRUNCATE. That is the
    harness's housekeeping, not the app's: it runs as the owner, with triggers off for the
    statement (session_replication_role, which needs a superuser) so that the audit log's
    truncate trigger lets it through. The app's role still may not, and the trigger still
    refuses everyone else."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with as_database_owner(self.connection), self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                flush(self, sql_list)
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


def child_database_env() -> dict[str, str]:
    """The database settings for a child process (a Celery worker) sharing the test
    database: logged in as the app's role, as production runs it. DATABASE_OWNER_URL is
    blanked: only migrate uses it, and it names the database the tests do not use."""
    user, password = quote(APP_LOGIN["USER"] or "", safe=""), APP_LOGIN["PASSWORD"]
    login = f"{user}:{quote(password, safe='')}" if password else user
    port = f":{APP_LOGIN['PORT']}" if APP_LOGIN["PORT"] else ""
    name = connection.settings_dict["NAME"]
    return {
        "DATABASE_URL": f"postgres://{login}@{APP_LOGIN['HOST']}{port}/{name}",
        "DATABASE_OWNER_URL": "",
    }


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


HEADER_UNREAD = re.compile(
    r'class="inbox-link[^"]*"[^>]*>[^<]*(?:<span class="count">(\d+)</span>)?'
)


def inbox_seen(client: Client, label: str) -> tuple[int, set[str]]:
    """What a user sees of one kind of notification: the unread count in the header, and
    how the inbox marks the newest row of that kind ({"urgent", "unread"}, or fewer)."""
    page = client.get(reverse("casework:inbox")).content.decode()
    header = HEADER_UNREAD.search(page)
    assert header, "no inbox link in the header"
    assert label in page, f"no {label!r} in the inbox"
    row = page.split(label, 1)[0].rsplit('<li class="', 1)[1].split('"', 1)[0]
    return int(header[1] or 0), set(row.split()) & {"urgent", "unread"}


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


# Argon2 costs ~50 ms a user and the suite makes thousands; a test about hashing asks for
# `production_hashers` and gets the deployment's list back.
PRODUCTION_HASHERS = list(settings.PASSWORD_HASHERS)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def production_hashers(_fast_password_hashing, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


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
def _own_documents_dir(settings, tmp_path):
    """Each test keeps the documents' encrypted blobs in its own folder, so a storage scan
    sees only what that test stored."""
    documents = dict(settings.STORAGES["documents"])
    documents["OPTIONS"] = {**documents.get("OPTIONS", {}), "location": str(tmp_path / "documents")}
    settings.STORAGES = {**settings.STORAGES, "documents": documents}


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
