"""Events are numbered by the database as they are written, and chained later by a sealer.

Until now every append locked the one chain-head row to take the next number and the last
link, so every audited read of the deployment queued on that row until its transaction
ended. From here the event's number is its primary key (the database's own sequence, no
lock), and the chain position, previous link and link are filled in by the sealer
(audit/log.py), hence nullable until then.

The number keeps its meaning: each event's `seq` becomes its primary key's value (ids are
first set to the numbers, then the old numbering column goes and the id column takes its
name). The indexes that named `seq` are dropped and made again on the new column.
"""

from django.db import migrations, models

SEQ_INDEXES = [
    models.Index(fields=["actor", "-seq"], name="audit_acces_actor_i_9f798b_idx"),
    models.Index(fields=["target_ref", "-seq"], name="audit_acces_target__39a532_idx"),
    models.Index(fields=["action", "-seq"], name="audit_acces_action_e1c8d7_idx"),
    models.Index(fields=["actor", "action", "-seq"], name="audit_acces_actor_i_264618_idx"),
]


def ids_become_numbers(apps, schema_editor):
    """id := seq, in two steps so no two rows share an id in between. The append-only
    trigger is off for this migration's own transaction only."""
    table = schema_editor.quote_name("audit_accessevent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_accessevent_append_only")
        cursor.execute(f"UPDATE {table} SET id = -seq")  # noqa: S608
        cursor.execute(f"UPDATE {table} SET id = -id")  # noqa: S608
        if postgresql:
            # The deferred foreign-key checks those UPDATEs queued, run now: the ALTER TABLEs
            # below refuse a table with checks still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_accessevent_append_only")


def sequence_past_the_numbers(apps, schema_editor):
    """The next number the database gives must be past every number already used."""
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT takes the highest row id already there into account
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_accessevent', 'seq'), "
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_accessevent), false)"
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0016_keyed_chain_action")]

    operations = [
        migrations.RunPython(ids_become_numbers, migrations.RunPython.noop),
        *[
            migrations.RemoveIndex(model_name="accessevent", name=index.name)
            for index in SEQ_INDEXES
        ],
        migrations.RemoveField(model_name="accessevent", name="seq"),
        migrations.RenameField(model_name="accessevent", old_name="id", new_name="seq"),
        migrations.AlterField(
            model_name="accessevent",
            name="seq",
            field=models.BigAutoField(primary_key=True, serialize=False),
        ),
        *[migrations.AddIndex(model_name="accessevent", index=index) for index in SEQ_INDEXES],
        migrations.RunPython(sequence_past_the_numbers, migrations.RunPython.noop),
        migrations.AddField(
            model_name="accessevent",
            name="position",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="accessevent",
            index=models.Index(
                condition=models.Q(("position__isnull", True)),
                fields=["seq"],
                name="audit_event_unsealed",
            ),
        ),
    ]
