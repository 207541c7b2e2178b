"""On PostgreSQL, TRUNCATE of the access log or of the chain head is refused, by anyone.

The row trigger of 0002 never sees a TRUNCATE: it empties the table without touching a
row. The app's role holds no TRUNCATE privilege (privacy/database_roles.py); these
statement triggers also stop a role that was given it by mistake. Only the tables' owner can
switch them off, and the app never logs in as the owner. Emptying the chain head would
restart the numbering and hide where the log was cut, so it is refused too.
"""

from django.db import migrations

TABLES = ("audit_accessevent", "audit_chainhead")

FUNCTION = """
CREATE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER {table}_refuse_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""
DROP_TRIGGER = "DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table};"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS audit_refuse_truncate();"


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(TRIGGER.format(table=table), params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP_TRIGGER.format(table=table), params=None)
        schema_editor.execute(DROP_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0013_alert_kinds_for_tampering")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
