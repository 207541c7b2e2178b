"""Clear client addresses leave the audit log, and the chain is re-hashed without them.

Why re-hash. The chain hashed every event's address in clear, so an event cannot lose its
address and keep a hash anyone can check: a hash over a value nobody has any more proves
nothing. Two ways out were weighed:

- hash a keyed digest of the address in its place. The digest would then have to stay in the
  append-only table for ever (the chain breaks when it goes), and whoever also has the key
  gets the address back from a digest and its /24 in 256 guesses;
- hash no address at all (chosen). What an event keeps, its network and on a sign-in a keyed
  digest, lives in two columns outside the chain that are blanked ADDRESS_RETENTION_DAYS
  after the event; on PostgreSQL the trigger lets an UPDATE blank them, nothing else.

Either way every existing event needs a new hash. This migration does it so that it
launders nothing:

1. it walks the chain as it stands, addresses included, exactly as verify_audit did, and
   notes the first broken link, if any;
2. it gives each event younger than ADDRESS_RETENTION_DAYS the network of its address (and
   a completed sign-in its digest), and blanks every address;
3. it re-hashes every event in order under the new encoding (audit.log.canonical without
   the address, frozen below), with the append-only trigger off for this migration's own
   transaction only. A later edit of any hashed field is caught as before, and a gap in
   the numbering still shows;
4. it appends one "Clear addresses removed, audit chain re-hashed" event whose reason names
   the old last event (number and hash, for whoever kept a copy: a backup, an old
   verify_audit run) and the verdict of step 1. A chain found broken is also raised as a
   "chain broken" alert for the admins: an earlier break is written into the new chain,
   not hidden by it.

Nothing secret is written: the reason holds numbers and hashes only. Not reversible: the
addresses are gone, and migrating back brings back an empty column.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

GENESIS = "0" * 64
BATCH = 1000
SECOND_FACTOR = "second_factor"


def _encode(fields) -> bytes:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def old_hash(event) -> str:
    """The hash as audit.log computed it up to 0010: the address hashed in clear."""
    fields = [
        event.seq,
        event.created_at.isoformat(),
        event.actor_id,
        event.action,
        event.target_type,
        event.target_ref,
        event.team_id,
        event.source_address,
        event.request_id,
        event.reason or "",
        event.prev_hash,
    ]
    return hashlib.sha256(_encode(fields)).hexdigest()


def new_hash(event) -> str:
    """The hash as audit.log computes it from 0011 on: no address."""
    fields = [
        event.seq,
        event.created_at.isoformat(),
        event.actor_id,
        event.action,
        event.target_type,
        event.target_ref,
        event.team_id,
        event.request_id,
        event.reason or "",
        event.prev_hash,
    ]
    return hashlib.sha256(_encode(fields)).hexdigest()


def _append_only(schema_editor, on: bool) -> None:
    if schema_editor.connection.vendor == "postgresql":
        verb = "ENABLE" if on else "DISABLE"
        schema_editor.execute(
            f"ALTER TABLE audit_accessevent {verb} TRIGGER audit_accessevent_append_only",
            params=None,
        )


def _write(schema_editor, rows) -> None:
    """One UPDATE … FROM (VALUES …) per batch: PostgreSQL and SQLite alike, and much
    cheaper than bulk_update's CASE per column over a million rows."""
    table = schema_editor.quote_name("audit_accessevent")
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"UPDATE {table} SET prev_hash = v.column2, hash = v.column3, "  # noqa: S608
        f"source_network = v.column4, source_digest = v.column5, source_address = NULL "
        f"FROM (VALUES {values}) AS v WHERE {table}.seq = v.column1"
    )
    params = []
    for event in rows:
        params += [
            event.seq,
            event.prev_hash,
            event.hash,
            event.source_network,
            event.source_digest,
        ]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)


def remove_addresses(apps, schema_editor):
    from audit.addresses import digest_of, network_of, parse

    AccessEvent = apps.get_model("audit", "AccessEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    InsiderAlert = apps.get_model("audit", "InsiderAlert")
    if not AccessEvent.objects.exists():
        return
    head = ChainHead.objects.filter(id=1).first()
    kept_since = timezone.now() - timedelta(days=settings.ADDRESS_RETENTION_DAYS)
    old_previous = new_previous = GENESIS
    expected_seq, last_seq, count = 1, 0, 0
    broken = None  # (seq, problem) of the first broken link as found
    _append_only(schema_editor, on=False)
    while True:
        rows = list(AccessEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:BATCH])
        if not rows:
            break
        for event in rows:
            if broken is None:
                if event.seq != expected_seq:
                    broken = (expected_seq, "missing event")
                elif event.prev_hash != old_previous:
                    broken = (event.seq, "link to the previous event broken")
                elif old_hash(event) != event.hash:
                    broken = (event.seq, "contents changed after writing")
            old_previous, expected_seq = event.hash, event.seq + 1
            address = parse(event.source_address)
            if address is not None and event.created_at >= kept_since:
                event.source_network = network_of(address)
                if event.action == SECOND_FACTOR:
                    event.source_digest = digest_of(event.actor_id, address)
            event.source_address = None
            event.prev_hash = new_previous
            event.hash = new_previous = new_hash(event)
        _write(schema_editor, rows)
        count += len(rows)
        last_seq = rows[-1].seq
    _append_only(schema_editor, on=True)
    if broken is None and head is not None and head.seq != count:
        broken = (count + 1, "events missing at the end")
    verdict = "intact" if broken is None else f"broken at #{broken[0]}: {broken[1]}"
    event = AccessEvent(
        seq=max(head.seq if head else 0, last_seq) + 1,
        created_at=timezone.now(),
        action="chain_rehashed",
        target_type="chain",
        target_ref=str(last_seq),
        request_id="",
        reason=(
            f"{count} events re-hashed without their client addresses. Last event before: "
            f"#{last_seq} {old_previous}. Chain as found: {verdict}."
        ),
        prev_hash=new_previous,
    )
    event.hash = new_hash(event)
    event.save()
    ChainHead.objects.update_or_create(id=1, defaults={"seq": event.seq, "last_hash": event.hash})
    if broken is not None:
        InsiderAlert.objects.create(kind="chain_broken", event_seq=broken[0])


# From now on an UPDATE may re-encrypt the reason (0003) or blank the network and digest;
# it may never write another network or digest, nor touch any other column.
TRIGGER = """
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
PREVIOUS = """
CREATE OR REPLACE FUNCTION audit_accessevent_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'reason') = (to_jsonb(OLD) - 'reason') THEN
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
    dependencies = [("audit", "0010_accessevent_source_network_and_digest")]

    operations = [
        migrations.RunPython(remove_addresses, migrations.RunPython.noop),
        migrations.RunPython(replace(TRIGGER), replace(PREVIOUS)),
    ]
