"""Two PostgreSQL roles: the owner of the tables, which only ``manage.py migrate`` logs in
as (``DATABASE_OWNER_URL``), and the restricted role the web app, its worker and beat run
as (``DATABASE_URL``).

The app's role owns nothing, so it cannot ALTER a table, switch off or drop a trigger, or
replace the function behind one; it holds no TRUNCATE anywhere, and on the audit tables
only what the app itself does there. Whoever takes the app's credentials can add to the
audit log, not empty or rewrite it.

``apply_grants`` runs as the owner after every migrate, so a table a migration made has its
grants at once. Each run revokes everything from the app's role first and then grants
exactly what is listed here: running it twice changes nothing, and a privilege granted by
hand in between is taken back.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection, transaction
from psycopg2 import sql

# What the app's role may do on the audit tables, and nothing else there:
# - events are appended; an UPDATE may re-encrypt the reason (rotate_keys), blank the
#   network and digest (the nightly purge, audit/addresses.py) or seal an event that has no
#   links yet (audit/log.py), and the append-only trigger refuses any other change;
# - the chain head moves on with every seal, and is made again in an emptied database;
# - an alert is raised, and marked once its notifications are made (casework/reminders.py).
AUDIT_TABLE_GRANTS = {
    # reason: key rotation re-encrypts it; the network and digest: the nightly purge blanks
    # them; position and links: the sealer chains an event once. The trigger allows no more.
    "audit_accessevent": (
        "SELECT, INSERT, UPDATE (reason, source_network, source_digest, position, prev_hash, hash)"
    ),
    "audit_chainhead": "SELECT, INSERT, UPDATE (seq, last_hash)",
    "audit_insideralert": "SELECT, INSERT, UPDATE (notified_at)",
}
# Which migrations ran is the owner's record: an app that could write it could mark a
# migration that tightens the audit log as applied before it ever runs.
OWNER_RECORD_GRANTS = {"django_migrations": "SELECT"}
# Every other table: rows are read and written, nothing more (no TRUNCATE, REFERENCES or
# TRIGGER).
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"

# The keys of a database setting that say who logs in where; NAME stays, so the owner
# migrates the very database the app uses (and the test database under tests).
LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def apply_grants(*, connection, role: str) -> None:
    """Grants ``role`` exactly the app's privileges on the current schema; run as the owner."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema_name = cursor.fetchone()
        if role == owner:
            raise ValueError(f"{role} runs the migrations: it cannot also be the app's role.")
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = {name for (name,) in cursor.fetchall()}
        schema, grantee = sql.Identifier(schema_name), sql.Identifier(role)
        statements = [
            ("REVOKE ALL ON SCHEMA {schema} FROM {grantee}", ""),
            ("GRANT USAGE ON SCHEMA {schema} TO {grantee}", ""),
            ("REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {grantee}", ""),
            ("GRANT {privileges} ON ALL TABLES IN SCHEMA {schema} TO {grantee}", TABLE_PRIVILEGES),
            ("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {grantee}", ""),
            (
                "GRANT {privileges} ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}",
                SEQUENCE_PRIVILEGES,
            ),
        ]
        for template, privileges in statements:
            cursor.execute(
                sql.SQL(template).format(
                    schema=schema, grantee=grantee, privileges=sql.SQL(privileges)
                )
            )
        for name, privileges in {**AUDIT_TABLE_GRANTS, **OWNER_RECORD_GRANTS}.items():
            if name not in tables:
                continue  # migrated back to before it existed
            table = sql.Identifier(schema_name, name)
            cursor.execute(
                sql.SQL("REVOKE ALL ON TABLE {table} FROM {grantee}").format(
                    table=table, grantee=grantee
                )
            )
            cursor.execute(
                sql.SQL("GRANT {privileges} ON TABLE {table} TO {grantee}").format(
                    privileges=sql.SQL(privileges), table=table, grantee=grantee
                )
            )


def current_role(connection) -> str:
    """The role the connection's queries run as (after any ``assume_role``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@contextmanager
def connected_as_owner(connection, owner: Mapping[str, Any]) -> Iterator[None]:
    """Inside the block ``connection`` logs in as ``owner`` (a parsed DATABASE_OWNER_URL) to
    the same database; afterwards as before. Closed on the way in and out, so no query of
    one role runs in the other's session."""
    database = connection.settings_dict
    saved = {key: database.get(key) for key in LOGIN_KEYS}
    connection.close()
    database.update(
        USER=owner["USER"],
        PASSWORD=owner.get("PASSWORD") or "",
        HOST=owner.get("HOST") or "",
        PORT=owner.get("PORT") or "",
        OPTIONS=owner.get("OPTIONS") or {},
    )
    try:
        yield
    finally:
        connection.close()
        database.update(saved)


def privileged_role_problem(connection) -> str | None:
    """None when the connection runs as a role that can neither switch the audit log's
    triggers off nor empty it; otherwise what is wrong."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, ("
            "  SELECT pg_has_role(current_user, tableowner, 'MEMBER') FROM pg_tables"
            "  WHERE schemaname = current_schema() AND tablename = 'audit_accessevent'"
            ") FROM pg_roles WHERE rolname = current_user"
        )
        role, superuser, owns_audit_log = cursor.fetchone()
    if superuser:
        what = "a superuser"
    elif owns_audit_log:
        what = "the owner of the audit log (audit_accessevent)"
    else:
        return None
    return (
        f"The app connects to PostgreSQL as {role}, {what}: whoever takes the app's "
        "credentials could switch the audit log's triggers off, rewrite it or empty it. Set "
        "DATABASE_URL to a restricted role that owns nothing, and DATABASE_OWNER_URL to the "
        "owner, which only `manage.py migrate` uses (README, 'Two database roles')."
    )


@checks.register(checks.Tags.security)
def check_app_role(app_configs=None, **kwargs):
    """Production on PostgreSQL refuses to run as a role that could undo the audit log.
    `migrate` runs its checks as DATABASE_URL's role, before it logs in as the owner."""
    if settings.EMBEDDED or connection.vendor != "postgresql":
        return []
    try:
        message = privileged_role_problem(connection)
    except DatabaseError:
        return []  # no database to reach yet; migrate will say so
    return [checks.Error(message, id="privacy.E003")] if message else []
