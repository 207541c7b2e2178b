"""Appending to the audit log, and walking its hash chain.

Chain: every event stores the SHA-256 of the previous event and its own, computed over a
canonical JSON encoding of its fields (the reason in clear, so re-encrypting under a new
key does not break the chain). Appends lock the single ChainHead row first, inside the
caller's transaction, so concurrent writers queue and the chain stays linear; a change
whose audit write fails rolls back with it.

No client address is hashed: what an event keeps of it (the network, and on a sign-in a
keyed digest) lives outside the chain, so it can be blanked after ADDRESS_RETENTION_DAYS
without breaking a link (audit/addresses.py).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import addresses
from audit.context import current
from audit.models import AccessEvent, Action, ChainHead, InsiderAlert

GENESIS = "0" * 64


def canonical(event: AccessEvent) -> bytes:
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
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(event: AccessEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


# No savepoint: an audit write that fails must take the change it records down with it,
# and inside a caller's transaction a savepoint would cost two more round trips per write.
@transaction.atomic(savepoint=False)
def record(
    action: Action | str,
    *,
    actor=None,
    target_type: str = "",
    target_ref: str = "",
    team_id: int | None = None,
    reason: str = "",
) -> AccessEvent:
    """Appends one event; call it inside the transaction of the change it records."""
    context = current()
    address = addresses.parse(context.address if context else None)
    seq, prev_hash = _advance_head()
    event = AccessEvent(
        seq=seq,
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type,
        target_ref=target_ref,
        team_id=team_id,
        source_network=addresses.network_of(address),
        request_id=context.request_id if context else "",
        reason=reason or None,
        prev_hash=prev_hash,
    )
    if action == Action.SECOND_FACTOR:
        # Only a completed sign-in keeps a digest: the new-address rule compares no other.
        event.source_digest = addresses.digest_of(event.actor_id, address)
    event.hash = digest(event)
    event.save()
    ChainHead.objects.filter(id=1).update(last_hash=event.hash)
    _check_insider_rules(event)
    return event


def _advance_head() -> tuple[int, str]:
    """Moves the head on by one: the new event's seq, and the hash it chains from.

    The UPDATE takes the row lock before the head is read (in the same statement): two
    writers never chain from the same previous hash, on PostgreSQL and SQLite alike.
    """
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    sql = f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        if row is None:
            # An emptied database starts a new chain (the head row is made by audit's first
            # migration); get_or_create survives a racing twin.
            ChainHead.objects.get_or_create(id=1)
            cursor.execute(sql)
            row = cursor.fetchone()
    return row[0], row[1]


# Reads that, over many distinct targets within an hour, look like someone collecting what
# they can: the setting holding each one's threshold, and the alert it raises.
MASS_READS = {
    Action.CASE_VIEWED: ("INSIDER_CASES_PER_HOUR", InsiderAlert.Kind.MANY_CASES),
    Action.REQUEST_VIEWED: ("INSIDER_REQUESTS_PER_HOUR", InsiderAlert.Kind.MANY_REQUESTS),
    Action.ROUTE_VIEWED: ("INSIDER_ROUTES_PER_HOUR", InsiderAlert.Kind.MANY_ROUTES),
    Action.DUPLICATE_PROBE: ("INSIDER_PROBES_PER_HOUR", InsiderAlert.Kind.MANY_PROBES),
}


def _check_mass_reading(event: AccessEvent) -> None:
    setting, kind = MASS_READS[event.action]
    since = event.created_at - timedelta(hours=1)
    reads = AccessEvent.objects.filter(
        actor_id=event.actor_id, action=event.action, created_at__gte=since
    )
    # A target read again within the hour adds nothing to count; the common case (a page
    # reloaded, a note added) costs one indexed look-up instead of the hour's count.
    if reads.filter(target_ref=event.target_ref).exclude(pk=event.pk).exists():
        return
    distinct = reads.values("target_ref").distinct().count()
    # Exactly at the crossing, so one burst raises one alert, not one per target.
    if distinct == getattr(settings, setting) + 1:
        _alert(kind, event)


def _check_insider_rules(event: AccessEvent) -> None:
    if event.actor_id is None:
        return
    if event.action == Action.BREAK_GLASS:
        _alert(InsiderAlert.Kind.BREAK_GLASS, event)
    elif event.action in MASS_READS:
        _check_mass_reading(event)
    elif event.action == Action.SECOND_FACTOR and event.source_digest:
        # Within the retention only, whether or not tonight's purge has run yet: an address
        # not used for ADDRESS_RETENTION_DAYS is new again.
        seen_before = (
            AccessEvent.objects.filter(
                actor_id=event.actor_id,
                action=Action.SECOND_FACTOR,
                source_digest=event.source_digest,
                created_at__gte=addresses.kept_since(event.created_at),
            )
            .exclude(pk=event.pk)
            .exists()
        )
        first_ever = (
            not AccessEvent.objects.filter(actor_id=event.actor_id, action=Action.SECOND_FACTOR)
            .exclude(pk=event.pk)
            .exists()
        )
        if not seen_before and not first_ever:
            _alert(InsiderAlert.Kind.NEW_ADDRESS, event)


def _alert(kind: str, event: AccessEvent) -> None:
    InsiderAlert.objects.create(kind=kind, actor_id=event.actor_id, event_seq=event.seq)


@dataclass(frozen=True)
class Verification:
    checked: int
    broken_seq: int | None
    problem: str


def verify(batch: int = 5000) -> Verification:
    """Walks the chain in order; names the first event whose link or hash is wrong."""
    previous = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = list(AccessEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return Verification(checked, expected_seq, "missing event")
            if event.prev_hash != previous:
                return Verification(checked, event.seq, "link to the previous event broken")
            if digest(event) != event.hash:
                return Verification(checked, event.seq, "contents changed after writing")
            previous = event.hash
            expected_seq += 1
            checked += 1
        last_seq = rows[-1].seq
    head = ChainHead.objects.filter(id=1).first()
    if head and head.seq != checked:
        return Verification(checked, checked + 1, "events missing at the end")
    return Verification(checked, None, "")


def verify_and_record() -> Verification:
    """Verifies the chain and writes the verdict where admins look: an intact chain as an
    "audit chain verified" event (naming how many events were checked), a broken one as an
    insider alert."""
    result = verify()
    if result.broken_seq is not None:
        alert_chain_broken(result)
    else:
        with transaction.atomic():
            record(Action.AUDIT_VERIFIED, target_type="chain", target_ref=str(result.checked))
    return result


def alert_chain_broken(result: Verification) -> None:
    InsiderAlert.objects.create(kind=InsiderAlert.Kind.CHAIN_BROKEN, event_seq=result.broken_seq)
