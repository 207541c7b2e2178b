"""The app's database role cannot undo the audit log; the owner that migrates grants it
exactly what the app needs (privacy/database_roles.py, audit migration 0014).

The attacks log in for real, as a separate PostgreSQL session of the restricted role: the
app's own role when the suite runs with two roles (as CI's PostgreSQL run does), otherwise
a role made here and granted what `manage.py migrate` grants.
"""

import secrets
from datetime import timedelta

import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from psycopg2 import errors, sql

from audit import addresses, log
from audit.models import AccessEvent, Action, InsiderAlert
from casework import scheduling
from privacy.database_roles import AUDIT_TABLE_GRANTS, apply_grants, check_app_role
from tests.conftest import APP_LOGIN, OWNER, as_database_owner
from tests.factories import CaseFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database roles and grants are PostgreSQL's; SQLite has neither",
)
needs_two_roles = pytest.mark.skipif(
    OWNER is None,
    reason="the suite runs as one role: set DATABASE_OWNER_URL, as .ci/run does",
)


def scratch_name(purpose: str) -> str:
    """A role name no other test (or xdist worker, the roles being server-wide) uses."""
    return f"sp_test_{purpose}_{secrets.token_hex(4)}"


def statement(template: str, *names: str) -> sql.Composed:
    """``template`` with each ``{}`` an identifier, quoted."""
    return sql.SQL(template).format(*(sql.Identifier(name) for name in names))


@pytest.fixture
def case(team, volunteer):
    return CaseFactory(team=team, assignee=volunteer)


@pytest.fixture(scope="module")
def restricted_login(django_db_setup, django_db_blocker):
    """How to log in as the restricted role, to the test database."""
    database = connection.settings_dict
    login = {"dbname": database["NAME"], "host": APP_LOGIN["HOST"], "port": APP_LOGIN["PORT"]}
    if OWNER is not None:
        yield {**login, "user": APP_LOGIN["USER"], "password": APP_LOGIN["PASSWORD"]}
        return
    role, password = scratch_name("app"), secrets.token_urlsafe(16)
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(statement("CREATE ROLE {} LOGIN PASSWORD %s", role), [password])
        apply_grants(connection=connection, role=role)
    yield {**login, "user": role, "password": password}
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(statement("DROP OWNED BY {}", role))  # its grants
        cursor.execute(statement("DROP ROLE {}", role))


@pytest.fixture
def app_session(restricted_login):
    """A cursor of its own session, as whoever took the app's credentials would open."""
    session = psycopg2.connect(**{key: value for key, value in restricted_login.items() if value})
    session.autocommit = True
    try:
        with session.cursor() as cursor:
            yield cursor
    finally:
        session.close()


REFUSED = {
    "empty the log": "TRUNCATE audit_accessevent",
    "empty the chain head": "TRUNCATE audit_chainhead",
    "empty the alerts": "TRUNCATE audit_insideralert",
    "empty a case table": "TRUNCATE casework_case CASCADE",
    "switch every trigger off": "ALTER TABLE audit_accessevent DISABLE TRIGGER ALL",
    "switch the append-only trigger off": (
        "ALTER TABLE audit_accessevent DISABLE TRIGGER audit_accessevent_append_only"
    ),
    "switch the truncate trigger off": (
        "ALTER TABLE audit_accessevent DISABLE TRIGGER audit_accessevent_refuse_truncate"
    ),
    "drop the append-only trigger": (
        "DROP TRIGGER audit_accessevent_append_only ON audit_accessevent"
    ),
    "drop the truncate trigger": (
        "DROP TRIGGER audit_accessevent_refuse_truncate ON audit_accessevent"
    ),
    "replace the trigger's function": (
        "CREATE OR REPLACE FUNCTION audit_accessevent_refuse_change() RETURNS trigger "
        "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql"
    ),
    "turn triggers off for its session": "SET session_replication_role = replica",
    "rewrite an event's action": "UPDATE audit_accessevent SET action = 'login'",
    "delete events": "DELETE FROM audit_accessevent",
    "delete the chain head": "DELETE FROM audit_chainhead",
    "delete alerts": "DELETE FROM audit_insideralert",
    "rewrite an alert": "UPDATE audit_insideralert SET kind = 'break_glass'",
    "drop the log": "DROP TABLE audit_accessevent",
    "take the log over": "ALTER TABLE audit_accessevent OWNER TO CURRENT_USER",
    "create a table": "CREATE TABLE shadow (id integer)",
    "mark a migration applied": (
        "INSERT INTO django_migrations (app, name, applied) VALUES ('audit', '9999_x', now())"
    ),
    "forget a migration": "DELETE FROM django_migrations",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_app_role_cannot_undo_the_audit_log(app_session, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        app_session.execute(statement)


def test_the_app_role_is_who_logged_in_and_owns_nothing(app_session, restricted_login):
    app_session.execute(
        "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole, "
        "(SELECT count(*) FROM pg_class WHERE relowner = pg_roles.oid) "
        "FROM pg_roles WHERE rolname = current_user"
    )
    assert app_session.fetchone() == (restricted_login["user"], False, False, False, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["audit_accessevent", "audit_chainhead"])
def test_a_role_given_truncate_by_mistake_is_still_refused(table):
    role = scratch_name("truncate")
    with as_database_owner(), connection.cursor() as cursor:
        cursor.execute(statement("CREATE ROLE {}", role))  # gone with the test's transaction
        cursor.execute(statement("GRANT USAGE ON SCHEMA public TO {}", role))
        cursor.execute(statement("GRANT SELECT, TRUNCATE ON {} TO {}", table, role))
        refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
        with refused, transaction.atomic():
            cursor.execute(statement("SET ROLE {}", role))
            cursor.execute(statement("TRUNCATE {}", table))


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["audit_accessevent", "audit_chainhead"])
def test_even_the_owner_must_switch_the_truncate_trigger_off_first(table):
    refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
    with as_database_owner(), connection.cursor() as cursor, refused, transaction.atomic():
        cursor.execute(statement("TRUNCATE {}", table))


@pytest.mark.django_db
def test_the_app_role_does_all_the_app_does_to_the_audit_log(
    volunteer_client, case, admin_user, settings
):
    """Reading a case appends to the log; the nightly purge blanks an old network; key
    rotation rewrites a reason's ciphertext; an alert is marked once its notices are made."""
    if OWNER is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (APP_LOGIN["USER"],)
    response = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert response.status_code == 200
    viewed = AccessEvent.objects.get(action=Action.CASE_VIEWED, target_ref=case.reference)
    assert viewed.source_network

    later = timezone.now() + timedelta(days=settings.ADDRESS_RETENTION_DAYS + 1)
    assert addresses.purge_expired(later) >= 1
    viewed.refresh_from_db()
    assert viewed.source_network == ""

    event = log.record(Action.BREAK_GLASS, target_ref=case.reference, reason="Unreachable")
    event.save(update_fields=["reason"])  # a fresh ciphertext of the same text
    assert log.verify().broken_seq is None

    InsiderAlert.objects.create(kind=InsiderAlert.Kind.BREAK_GLASS, event_seq=event.seq)
    scheduling.dispatch_due()
    assert not InsiderAlert.objects.filter(notified_at__isnull=True).exists()


def privileges(role: str) -> tuple[set, set]:
    """(table, privilege) and (table, column, privilege) granted to ``role``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = %s",
            [role],
        )
        tables = set(cursor.fetchall())
        cursor.execute(
            "SELECT table_name, column_name, privilege_type "
            "FROM information_schema.column_privileges WHERE grantee = %s",
            [role],
        )
        columns = set(cursor.fetchall())
    return tables, columns


@pytest.mark.django_db
def test_the_grants_are_exact_and_applying_them_again_changes_nothing():
    with as_database_owner():
        if OWNER is not None:
            role = APP_LOGIN["USER"]
        else:
            role = scratch_name("grants")
            with connection.cursor() as cursor:  # gone with the test's transaction
                cursor.execute(statement("CREATE ROLE {}", role))
        apply_grants(connection=connection, role=role)
        first = privileges(role)
        apply_grants(connection=connection, role=role)
        assert privileges(role) == first

    tables, columns = first
    on = {}
    for table, privilege in tables:
        on.setdefault(table, set()).add(privilege)
    assert on["audit_accessevent"] == {"SELECT", "INSERT"}
    assert on["audit_insideralert"] == {"SELECT", "INSERT"}
    assert on["audit_chainhead"] == {"SELECT", "INSERT"}
    assert on["django_migrations"] == {"SELECT"}
    assert on["casework_case"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert not {"TRUNCATE", "REFERENCES", "TRIGGER"} & set().union(*on.values())
    updatable = {(table, column) for table, column, kind in columns if kind == "UPDATE"}
    assert {entry for entry in updatable if entry[0] in AUDIT_TABLE_GRANTS} == {
        ("audit_accessevent", "reason"),
        ("audit_accessevent", "source_network"),
        ("audit_accessevent", "source_digest"),
        # The sealer's: the trigger lets an event without links be sealed once, no more
        # (tests/audit/test_audit_log.py).
        ("audit_accessevent", "position"),
        ("audit_accessevent", "prev_hash"),
        ("audit_accessevent", "hash"),
        ("audit_chainhead", "seq"),
        ("audit_chainhead", "last_hash"),
        ("audit_insideralert", "notified_at"),
    }


@pytest.mark.django_db
def test_applying_the_grants_takes_back_a_privilege_granted_by_hand(restricted_login):
    with as_database_owner(), connection.cursor() as cursor:
        cursor.execute(statement("GRANT ALL ON audit_accessevent TO {}", restricted_login["user"]))
        apply_grants(connection=connection, role=restricted_login["user"])
        cursor.execute(
            "SELECT has_table_privilege(%s, 'audit_accessevent', 'TRUNCATE'), "
            "has_table_privilege(%s, 'audit_accessevent', 'DELETE'), "
            "has_schema_privilege(%s, current_schema(), 'CREATE')",
            [restricted_login["user"]] * 3,
        )
        assert cursor.fetchone() == (False, False, False)


@needs_two_roles
@pytest.mark.django_db(transaction=True)
def test_migrate_logs_in_as_the_owner_and_grants_the_app_role(settings):
    """With the production checks on: they run as the app's role, which passes them, and
    the owner then migrates; a privilege granted by hand meanwhile is taken back."""
    settings.EMBEDDED = False
    role = APP_LOGIN["USER"]
    try:
        with as_database_owner(), connection.cursor() as cursor:
            cursor.execute(statement("GRANT TRUNCATE ON audit_accessevent TO {}", role))
        call_command("migrate", verbosity=0, skip_checks=False)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, has_table_privilege(%s, 'audit_accessevent', 'TRUNCATE')",
                [role],
            )
            assert cursor.fetchone() == (role, False)
    finally:
        with as_database_owner():
            apply_grants(connection=connection, role=role)


@pytest.mark.django_db
def test_migrate_refuses_to_start_when_the_app_runs_as_the_owner(settings):
    settings.EMBEDDED = False
    with as_database_owner(), pytest.raises(SystemCheckError, match=r"privacy\.E003"):
        call_command("migrate", verbosity=0, skip_checks=False)


@pytest.mark.django_db
def test_production_refuses_a_superuser(settings):
    settings.EMBEDDED = False
    with as_database_owner():  # the owner: in CI, and most often, the superuser postgres
        (error,) = check_app_role()
    assert error.id == "privacy.E003"
    assert "DATABASE_OWNER_URL" in error.msg


@pytest.mark.django_db
def test_production_refuses_the_owner_of_the_audit_log(settings):
    settings.EMBEDDED = False
    role = scratch_name("owner")
    with as_database_owner(), connection.cursor() as cursor:
        cursor.execute(statement("CREATE ROLE {}", role))  # gone with the test's transaction
        cursor.execute(statement("ALTER TABLE audit_accessevent OWNER TO {}", role))
        cursor.execute(statement("SET ROLE {}", role))
        (error,) = check_app_role()
    assert error.id == "privacy.E003"
    assert "the owner of the audit log" in error.msg


@needs_two_roles
@pytest.mark.django_db
def test_production_accepts_the_app_role(settings):
    settings.EMBEDDED = False
    assert check_app_role() == []


@pytest.mark.django_db
def test_the_embedded_mode_does_not_ask(settings):
    settings.EMBEDDED = True
    with as_database_owner():
        assert check_app_role() == []
