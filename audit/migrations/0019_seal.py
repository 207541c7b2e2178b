"""Each access event gets its own seal, and its encrypted reason is re-encrypted bound to
the event (privacy.seal): a reason copied into another event, or anywhere else, no longer
reads. InsiderAlert gets `detail`, where a "tampered" alert names the place and row of the
refused value.

The append-only trigger refuses an UPDATE that changes anything but the reason (0011), so
it is off for this migration's own transaction, as 0011 did; it refuses any later change of
the seal. The chain hashes the reason in clear: re-encrypting it leaves every hash valid.
"""

import uuid

from django.db import migrations, models

from privacy.rotation.sealing import seal_rows, unseal_rows


def _append_only(schema_editor, on: bool) -> None:
    if schema_editor.connection.vendor == "postgresql":
        verb = "ENABLE" if on else "DISABLE"
        schema_editor.execute(
            f"ALTER TABLE audit_accessevent {verb} TRIGGER audit_accessevent_append_only",
            params=None,
        )


def with_trigger_off(rewrite):
    def run(apps, schema_editor):
        _append_only(schema_editor, on=False)
        rewrite(apps, schema_editor)
        _append_only(schema_editor, on=True)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0018_keyed_chain")]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="seal",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="insideralert",
            name="detail",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(
            with_trigger_off(seal_rows("audit", "accessevent")),
            with_trigger_off(unseal_rows("audit", "accessevent")),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="seal",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]
