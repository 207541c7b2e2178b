"""The audit chain is linked again, under AUDIT_KEY, in chain positions (audit/log.py).

Until now each link was a plain SHA-256: whoever held the database could delete or edit
events and compute every link again, and verify_audit said "intact". From here each link
is an HMAC under a key kept out of the database. Like 0011, this launders nothing:

1. it walks the chain as it stands, under the old plain links, and notes the first broken
   one, if any;
2. it gives every event its chain position (its rank in the old order) and links it
   again, in order, under the first AUDIT_KEY, with the append-only trigger off for this
   migration's own transaction only;
3. it appends one "Audit chain linked again under the audit key" event whose reason names
   the old last event (number and link, for whoever kept a copy) and the verdict of step 1.
   A chain found broken is raised as a "chain broken" alert too.

Reasons are read as stored and decrypted here, as the fields stood when this was written.
Not reversible: the plain links are gone.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

GENESIS = "0" * 64
BATCH = 1000


def _old_canonical(seq, created_at, actor_id, action, target_type, target_ref, team_id,
                   request_id, reason, prev_hash) -> bytes:  # fmt: skip
    """As audit.log hashed an event up to 0017: no position."""
    fields = [seq, created_at.isoformat(), actor_id, action, target_type, target_ref,
              team_id, request_id, reason or "", prev_hash]  # fmt: skip
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _canonical(seq, created_at, actor_id, action, target_type, target_ref, team_id,
               request_id, reason, position, prev_hash) -> bytes:  # fmt: skip
    """As audit.log.canonical links an event from here on."""
    fields = [seq, position, created_at.isoformat(), actor_id, action, target_type,
              target_ref, team_id, request_id, reason or "", prev_hash]  # fmt: skip
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _append_only(schema_editor, on: bool) -> None:
    if schema_editor.connection.vendor == "postgresql":
        verb = "ENABLE" if on else "DISABLE"
        # Deferred foreign-key checks queued by the writes run first: ALTER TABLE refuses a
        # table with checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
        schema_editor.execute(
            f"ALTER TABLE audit_accessevent {verb} TRIGGER audit_accessevent_append_only",
            params=None,
        )


def _write(schema_editor, rows) -> None:
    table = schema_editor.quote_name("audit_accessevent")
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    sql = (
        f"UPDATE {table} SET position = v.column2, prev_hash = v.column3, "  # noqa: S608
        f"hash = v.column4 FROM (VALUES {values}) AS v WHERE {table}.seq = v.column1"
    )
    params = [value for row in rows for value in row]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)


def relink(apps, schema_editor):
    from privacy.keys import crypter

    AccessEvent = apps.get_model("audit", "AccessEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    InsiderAlert = apps.get_model("audit", "InsiderAlert")
    if not AccessEvent.objects.exists():
        return
    key = settings.AUDIT_KEY[0]
    head = ChainHead.objects.filter(id=1).first()
    columns = ("seq", "created_at", "actor_id", "action", "target_type", "target_ref",
               "team_id", "request_id")  # fmt: skip
    old_previous = new_previous = GENESIS
    expected_seq, last_seq, count = 1, 0, 0
    broken = None
    _append_only(schema_editor, on=False)
    while True:
        rows = list(
            AccessEvent.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .annotate(stored=models.functions.Cast("reason", models.TextField()))
            .values_list(*columns, "stored", "prev_hash", "hash")[:BATCH]
        )
        if not rows:
            break
        written = []
        for *fields, stored, prev_hash, old_link in rows:
            try:
                reason = crypter().decrypt(stored.encode()).decode() if stored else ""
            except Exception:  # noqa: BLE001 - a verdict, not a crash
                reason = stored or ""
                if broken is None:
                    broken = (fields[0], "unreadable reason")
            if broken is None:
                if fields[0] != expected_seq:
                    broken = (expected_seq, "missing event")
                elif prev_hash != old_previous:
                    broken = (fields[0], "link to the previous event broken")
                elif hashlib.sha256(_old_canonical(*fields, reason, prev_hash)).hexdigest() != (
                    old_link
                ):
                    broken = (fields[0], "contents changed after writing")
            old_previous, expected_seq = old_link, fields[0] + 1
            count += 1
            link = hmac.new(key, _canonical(*fields, reason, count, new_previous), hashlib.sha256)
            written.append((fields[0], count, new_previous, link.hexdigest()))
            new_previous = written[-1][3]
        _write(schema_editor, written)
        last_seq = rows[-1][0]
    if broken is None and head is not None and head.seq != count:
        broken = (count + 1, "events missing at the end")
    verdict = "intact" if broken is None else f"broken at #{broken[0]}: {broken[1]}"
    reason = (
        f"{count} events linked again under AUDIT_KEY. Last event before: #{last_seq} "
        f"{old_previous}. Chain as found: {verdict}."
    )
    # Written as stored, not through the model: the reason is encrypted as the fields stood
    # when this was written, whatever later migrations make of every stored value. Its number
    # comes from the database, like every event's from here on.
    now, position = timezone.now(), count + 1
    table = schema_editor.quote_name("audit_accessevent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (created_at, action, target_type, target_ref, "  # noqa: S608
            "source_network, source_digest, request_id, reason, prev_hash) "
            "VALUES (%s, %s, %s, %s, '', '', '', %s, '') RETURNING seq",
            [now, "chain_keyed", "chain", str(last_seq),
             crypter().encrypt(reason.encode()).decode()],  # fmt: skip
        )
        seq = cursor.fetchone()[0]
        fields = (seq, now, None, "chain_keyed", "chain", str(last_seq), None, "")
        link = hmac.new(key, _canonical(*fields, reason, position, new_previous), hashlib.sha256)
        cursor.execute(
            f"UPDATE {table} SET position = %s, prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608
            [position, new_previous, link.hexdigest(), seq],
        )
    _append_only(schema_editor, on=True)
    ChainHead.objects.update_or_create(
        id=1, defaults={"seq": position, "last_hash": link.hexdigest()}
    )
    if broken is not None:
        InsiderAlert.objects.create(kind="chain_broken", event_seq=broken[0])


# From now on an UPDATE may also seal an event: give an event that has no link yet its
# position, previous link and link, once; nothing else about it may change.
TRIGGER = """
CREATE OR REPLACE FUNCTION audit_accessevent_refuse_change() RETURNS trigger AS $$
DECLARE
    loose CONSTANT text[] := ARRAY['reason', 'source_network', 'source_digest'];
    sealing CONSTANT text[] := ARRAY['position', 'prev_hash', 'hash'];
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.source_network IN (OLD.source_network, '')
        AND NEW.source_digest IN (OLD.source_digest, '') THEN
        IF (to_jsonb(NEW) - loose) = (to_jsonb(OLD) - loose) THEN
            RETURN NEW;
        END IF;
        IF OLD.hash IS NULL AND OLD.position IS NULL
            AND (to_jsonb(NEW) - loose - sealing) = (to_jsonb(OLD) - loose - sealing) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_accessevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
PREVIOUS = """
CREATE OR REPLACE FUNCTION audit_accessevent_refuse_change() RETURNS trigger AS $$
DECLARE
    loose CONSTANT text[] := ARRAY['reason', 'source_network', 'source_digest'];
BEGIN
    IF TG_OP = 'UPDATE'
        AND (to_jsonb(NEW) - loose) = (to_jsonb(OLD) - loose)
        AND NEW.source_network IN (OLD.source_network, '')
        AND NEW.source_digest IN (OLD.source_digest, '') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_accessevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def replace(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0017_events_numbered_by_the_database")]

    operations = [
        migrations.RunPython(relink, migrations.RunPython.noop),
        migrations.RunPython(replace(TRIGGER), replace(PREVIOUS)),
    ]
