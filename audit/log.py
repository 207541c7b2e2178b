"""Appending to the audit log, and walking its keyed chain.

Chain: every event stores the link of the previous event and its own, an HMAC-SHA256 under
AUDIT_KEY over a canonical JSON encoding of its fields (the reason in clear, so
re-encrypting under a new field key does not break the chain). The key is not in the
database: whoever holds the database can delete or edit events but cannot link a
rewritten chain again, and `verify` names the first event that does not verify. Cutting the
end off (or everything) and setting the head back leaves a chain that verifies; the
checkpoints kept outside the database name that (audit/checkpoints.py).

AUDIT_KEY rotates like the field key: the new key in front links new events, the old ones
behind it still verify the events linked before. Along the chain a key may only give way to
a newer one, so an old key that leaked cannot link events after its successor took over.

Appending and chaining are apart, so audited reads never queue on one row. An append is a
plain INSERT in the caller's transaction (a change whose audit write fails rolls back with
it); the database numbers it (`seq`), no lock taken. The sealer (`seal`, every
AUDIT_SEAL_SECONDS from beat, and before every verification and checkpoint) takes the one
ChainHead row, and gives the events written since, in the order they were numbered, their
chain position, the previous link and their own. Positions have no gaps, whatever
transactions rolled back or committed late; the checkpoints cover sealed events only.

No client address is hashed: what an event keeps of it (the network, and on a sign-in a
keyed digest) lives outside the chain, so it can be blanked after ADDRESS_RETENTION_DAYS
without breaking a link (audit/addresses.py).
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from audit import addresses, checkpoints
from audit.context import current
from audit.models import AccessEvent, Action, ChainHead, InsiderAlert
from privacy import tampering
from privacy.fields import ANOTHER_ROW, DecryptionError
from privacy.seal import as_uuid

GENESIS = "0" * 64
logger = logging.getLogger(__name__)


def canonical(event: AccessEvent) -> bytes:
    fields = [
        event.seq,
        event.position,
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


def link(event: AccessEvent, key: bytes | None = None) -> str:
    """The event's link under `key` (the newest AUDIT_KEY by default)."""
    return hmac.new(key or settings.AUDIT_KEY[0], canonical(event), hashlib.sha256).hexdigest()


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
    """Appends one event; call it inside the transaction of the change it records. The
    sealer chains it within seconds."""
    context = current()
    address = addresses.parse(context.address if context else None)
    event = AccessEvent(
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type,
        target_ref=target_ref,
        team_id=team_id,
        source_network=addresses.network_of(address),
        request_id=context.request_id if context else "",
        reason=reason or None,
    )
    if action == Action.SECOND_FACTOR:
        # Only a completed sign-in keeps a digest: the new-address rule compares no other.
        event.source_digest = addresses.digest_of(event.actor_id, address)
    event.save()
    _check_insider_rules(event)
    return event


SEAL_BATCH = 5000


def seal() -> int:
    """Chains every event written since the last seal, in the order the database numbered
    them; returns how many. One sealer at a time: the first statement takes the head's row
    lock (PostgreSQL) or the write lock (SQLite) before anything is read."""
    sealed = 0
    while True:
        with transaction.atomic():
            done = _seal_batch()
        sealed += done
        if done < SEAL_BATCH:
            return sealed


def _seal_batch() -> int:
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq WHERE id = 1")  # noqa: S608
        if cursor.rowcount == 0:
            # An emptied database starts a new chain; get_or_create survives a racing twin.
            ChainHead.objects.get_or_create(id=1)
            cursor.execute(f"UPDATE {table} SET seq = seq WHERE id = 1")  # noqa: S608
    head = ChainHead.objects.get(id=1)
    pending = _stored_events(AccessEvent.objects.filter(position__isnull=True), SEAL_BATCH)
    position, previous, written = head.seq, head.last_hash, []
    for _seq, event in pending:
        if isinstance(event, Unreadable):
            # Written by someone else than the app (it cannot write such a row): chained as
            # found would hide it. Left unsealed, it stops the chain here; verify names it.
            logger.error("An unsealed audit event cannot be read; sealing stopped before it.")
            break
        position += 1
        event.position, event.prev_hash = position, previous
        event.hash = previous = link(event)
        written.append(event)
    if written:
        _write_links(written)
        ChainHead.objects.filter(id=1).update(seq=position, last_hash=previous)
    return len(written)


def _write_links(events: list[AccessEvent]) -> None:
    """One UPDATE … FROM (VALUES …) for the batch, on PostgreSQL and SQLite alike: far
    cheaper than bulk_update's CASE over thousands of rows."""
    table = connection.ops.quote_name(AccessEvent._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(events))
    sql = (
        f"UPDATE {table} SET position = v.column2, prev_hash = v.column3, "  # noqa: S608
        f"hash = v.column4 FROM (VALUES {values}) AS v WHERE {table}.seq = v.column1"
    )
    params = [
        value
        for event in events
        for value in (event.seq, event.position, event.prev_hash, event.hash)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Reads that, over many distinct targets within an hour, look like someone collecting what
# they can: the setting holding each one's threshold, and the alert it raises.
MASS_READS: dict[str, tuple[str, InsiderAlert.Kind]] = {
    Action.CASE_VIEWED: ("INSIDER_CASES_PER_HOUR", InsiderAlert.Kind.MANY_CASES),
    Action.REQUEST_VIEWED: ("INSIDER_REQUESTS_PER_HOUR", InsiderAlert.Kind.MANY_REQUESTS),
    Action.ROUTE_VIEWED: ("INSIDER_ROUTES_PER_HOUR", InsiderAlert.Kind.MANY_ROUTES),
    Action.DUPLICATE_PROBE: ("INSIDER_PROBES_PER_HOUR", InsiderAlert.Kind.MANY_PROBES),
    Action.SEARCHED: ("INSIDER_CASES_PER_HOUR", InsiderAlert.Kind.MANY_CASES),
    Action.DOCUMENT_DOWNLOADED: ("INSIDER_CASES_PER_HOUR", InsiderAlert.Kind.MANY_CASES),
    Action.DOCUMENT_PREVIEWED: ("INSIDER_CASES_PER_HOUR", InsiderAlert.Kind.MANY_CASES),
    Action.REQUEST_DOCUMENT_DOWNLOADED: (
        "INSIDER_REQUESTS_PER_HOUR",
        InsiderAlert.Kind.MANY_REQUESTS,
    ),
    Action.REQUEST_DOCUMENT_PREVIEWED: (
        "INSIDER_REQUESTS_PER_HOUR",
        InsiderAlert.Kind.MANY_REQUESTS,
    ),
}
# Each search counts as one more case read (it tells which cases a contact belongs to, as
# opening them would), whatever it found: the two are counted together, toward one alert.
SEARCHES_READ_AS: dict[str, str] = {Action.SEARCHED: Action.CASE_VIEWED}
SEARCHES_OF = {read: search for search, read in SEARCHES_READ_AS.items()}


# A document downloaded or previewed is a read of its case (the event names the case):
# counted with the case views, by case, toward the same alert. A request's file, before
# triage, is a read of that request, counted with the request views.
READ_WITH: dict[str, str] = {
    Action.DOCUMENT_DOWNLOADED: Action.CASE_VIEWED,
    Action.DOCUMENT_PREVIEWED: Action.CASE_VIEWED,
    Action.REQUEST_DOCUMENT_DOWNLOADED: Action.REQUEST_VIEWED,
    Action.REQUEST_DOCUMENT_PREVIEWED: Action.REQUEST_VIEWED,
}


def _reads_of(read: str) -> list[str]:
    return [read, *(action for action, counted in READ_WITH.items() if counted == read)]


def _check_mass_reading(event: AccessEvent) -> None:
    setting, kind = MASS_READS[event.action]
    since = event.created_at - timedelta(hours=1)
    mine = AccessEvent.objects.filter(actor_id=event.actor_id, created_at__gte=since)
    read = SEARCHES_READ_AS.get(event.action) or READ_WITH.get(event.action, event.action)
    reads = _reads_of(read)
    # A target read again within the hour adds nothing to count; the common case (a page
    # reloaded, a note added) costs one indexed look-up instead of the hour's count.
    again = mine.filter(action__in=reads, target_ref=event.target_ref).exclude(pk=event.pk)
    if event.action in reads and again.exists():
        return
    search = SEARCHES_OF.get(read)
    if search is None:
        distinct = mine.filter(action__in=reads).values("target_ref").distinct().count()
    else:
        counts = mine.filter(action__in=[*reads, search]).aggregate(
            targets=Count("target_ref", distinct=True, filter=Q(action__in=reads)),
            searches=Count("pk", filter=Q(action=search)),
        )
        distinct = counts["targets"] + counts["searches"]
    # Exactly at the crossing, so one burst raises one alert, not one per target.
    if distinct == getattr(settings, setting) + 1:
        _alert(kind, event)


# A wrong password, a wrong code at sign-in, a wrong confirmation: each a guess.
SIGN_IN_FAILURES = (Action.LOGIN_FAILED, Action.SECOND_FACTOR_FAILED, Action.STEP_UP_FAILED)


def _check_failed_sign_ins(event: AccessEvent) -> None:
    """Many guesses within SIGN_IN_FAILURE_MINUTES: at one account (from however many
    addresses, which the lock-out, counted per address, does not see), or across all of
    them, typed names that are no account included (someone trying names). One alert when
    the count crosses its threshold, not one per guess; the account's, if it has one."""
    since = event.created_at - timedelta(minutes=settings.SIGN_IN_FAILURE_MINUTES)
    failures = AccessEvent.objects.filter(action__in=SIGN_IN_FAILURES, created_at__gte=since)
    if event.actor_id is not None:
        at_account = failures.filter(actor_id=event.actor_id).count()
        if at_account == settings.SIGN_IN_FAILURES_PER_ACCOUNT + 1:
            _alert(InsiderAlert.Kind.FAILED_SIGN_INS, event)
    if failures.count() == settings.SIGN_IN_FAILURES_ALL_ACCOUNTS + 1:
        InsiderAlert.objects.create(
            kind=InsiderAlert.Kind.FAILED_SIGN_INS,
            event_seq=event.seq,
            detail=f"across all accounts, within {settings.SIGN_IN_FAILURE_MINUTES} minutes",
        )


def _check_insider_rules(event: AccessEvent) -> None:
    if event.action in SIGN_IN_FAILURES:
        _check_failed_sign_ins(event)
        return
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
    # The first event that is missing, changed or unreadable; None when every event is.
    broken_seq: int | None
    problem: str

    @property
    def intact(self) -> bool:
        return self.broken_seq is None and not self.problem


# The columns the chain covers, read as stored: the reason as its ciphertext, decrypted
# here one row at a time so a value that does not decrypt is a broken link, not a crash.
CHAINED = (
    "seq",
    "position",
    "created_at",
    "actor_id",
    "action",
    "target_type",
    "target_ref",
    "team_id",
    "request_id",
    "prev_hash",
    "hash",
)


class Unreadable(Exception):
    """A stored event that cannot be turned back into what was chained."""


def _stored_events(rows, batch: int):
    """The first `batch` of `rows` (a queryset of events) by position, unsealed ones by
    number, as (seq, event or Unreadable). A batch that does not load (a value no converter
    can read) is read again one row at a time, so the one bad row is named and the rest
    still checked."""
    rows = rows.order_by("position", "seq").annotate(stored_reason=Cast("reason", TextField()))
    try:
        loaded = list(rows.values_list(*CHAINED, "seal", "stored_reason")[:batch])
    except DatabaseError:
        raise
    except Exception:  # a converter choking on what someone wrote into the row
        seqs = list(rows.values_list("seq", flat=True)[:batch])
        loaded = []
        for seq in seqs:
            try:
                loaded.extend(rows.filter(seq=seq).values_list(*CHAINED, "seal", "stored_reason"))
            except DatabaseError:
                raise
            except Exception as error:
                loaded.append((seq, *(None,) * len(CHAINED), error))
    for values in loaded:
        yield values[0], _rebuild(values)


def _rebuild(values) -> AccessEvent | Unreadable:
    *fields, row_seal, stored_reason = values
    if isinstance(stored_reason, Exception):
        return Unreadable("a column does not parse")
    event = AccessEvent(**dict(zip(CHAINED, fields, strict=True)))
    if not isinstance(event.created_at, datetime):
        return Unreadable("its time does not parse")
    if stored_reason is not None:
        # As the field reads it, place checked; then the row, as Sealed.from_db would. A
        # refused value is reported as a page would report it: a log line, an alert.
        field = AccessEvent._meta.get_field("reason")
        try:
            reason = field.from_db_value(stored_reason, None, connection)
            sealed_to = getattr(reason, "sealed_to", None)  # none on a purged, empty reason
            if sealed_to is not None and sealed_to != as_uuid(row_seal):
                raise DecryptionError(
                    f"{field.place} of row {event.seq} holds a value {ANOTHER_ROW}.",
                    place=field.place,
                    problem=ANOTHER_ROW,
                    pk=event.seq,
                    origin=(field.place, sealed_to),
                )
        except DecryptionError as error:
            tampering.report(error)
            return Unreadable(f"its reason is refused: {error.problem}")
        except (ValueError, TypeError):
            return Unreadable("its reason does not parse")
        event.reason = None if reason is None else str.__str__(reason)
    return event


def verify(
    batch: int = 5000, extra_checkpoints: list[checkpoints.Checkpoint] | None = None
) -> Verification:
    """Walks the sealed chain by position, then holds it against the checkpoints; names the
    first position that is missing, changed, unreadable or not linked under AUDIT_KEY.
    Never raises on what it finds in the table: whatever is there is a verdict. Events not
    sealed yet are not part of it (`verify_and_record` seals first)."""
    keys = list(settings.AUDIT_KEY)
    # Index into `keys` (newest first) of the oldest key still allowed to link.
    oldest_allowed = len(keys) - 1
    marks, file_problems = checkpoints.read()
    marks.extend(extra_checkpoints or [])
    wanted = {mark.seq for mark in marks}
    links_at: dict[int, str] = {}
    previous = GENESIS
    expected = 1
    checked = 0
    sealed = AccessEvent.objects.filter(position__isnull=False)
    while True:
        walked = 0
        for seq, event in _stored_events(sealed.filter(position__gte=expected), batch):
            walked += 1
            if isinstance(event, Unreadable):
                return Verification(checked, expected, f"unreadable event #{seq}: {event}")
            if event.position != expected:
                return Verification(checked, expected, "missing event")
            if event.prev_hash != previous:
                return Verification(
                    checked, expected, f"event #{seq}: link to the previous event broken"
                )
            matched = next(
                (
                    index
                    for index in range(oldest_allowed, -1, -1)
                    if hmac.compare_digest(link(event, keys[index]), event.hash or "")
                ),
                None,
            )
            if matched is None:
                return Verification(
                    checked,
                    expected,
                    f"event #{seq}: contents changed after writing, or linked without AUDIT_KEY",
                )
            oldest_allowed = matched
            if expected in wanted:
                links_at[expected] = event.hash
            previous = event.hash
            expected += 1
            checked += 1
        if walked < batch:
            break
    head = ChainHead.objects.filter(id=1).first()
    if head and head.seq > checked:
        return Verification(checked, checked + 1, "events missing at the end")
    if result := _against_checkpoints(marks, links_at, checked):
        return result
    if head and head.seq < checked:
        return Verification(checked, None, f"the chain head was set back to #{head.seq}")
    if stuck := _not_sealed_in_time():
        return Verification(checked, None, stuck)
    if unreadable := _unreadable_pending(batch):
        return Verification(checked, None, unreadable)
    if file_problems:
        return Verification(checked, None, "; ".join(file_problems))
    return Verification(checked, None, "")


# Longer than the sealer's interval by far: an event this old and not sealed means the
# sealer is not running, or stopped at a row it cannot read (`_seal_batch`).
SEAL_OVERDUE = timedelta(minutes=10)


def _not_sealed_in_time() -> str:
    overdue = AccessEvent.objects.filter(
        position=None, created_at__lt=timezone.now() - SEAL_OVERDUE
    ).order_by("seq")
    first = overdue.values_list("seq", flat=True).first()
    if first is None:
        return ""
    return (
        f"{overdue.count()} events written more than ten minutes ago are not chained, the "
        f"first #{first}: the sealer is not running, or stopped at a row it cannot read"
    )


def _unreadable_pending(batch: int) -> str:
    """An event not chained yet that cannot be read: the sealer stops before it, so it is
    named now rather than in ten minutes."""
    pending = AccessEvent.objects.filter(position=None)
    for seq, event in _stored_events(pending, batch):
        if isinstance(event, Unreadable):
            return f"event #{seq}, not chained yet, is unreadable: {event}"
    return ""


def _against_checkpoints(
    marks: list[checkpoints.Checkpoint], links_at: dict[int, str], checked: int
) -> Verification | None:
    """The first checkpoint the chain no longer agrees with: the events after the last one
    it does agree with are where it was cut or rewritten."""
    last_good = 0
    for mark in sorted(marks, key=lambda item: item.seq):
        if mark.seq > checked:
            return Verification(
                checked,
                checked + 1,
                f"events missing: the checkpoint of {mark.at or 'an e-mail'} ({mark.source}) "
                f"names event #{mark.seq}, the chain ends at #{checked}",
            )
        if not hmac.compare_digest(links_at.get(mark.seq, ""), mark.link):
            return Verification(
                checked,
                last_good + 1,
                f"event #{mark.seq} is not the one the checkpoint of "
                f"{mark.at or 'an e-mail'} ({mark.source}) names: the chain was cut and "
                "written again",
            )
        last_good = mark.seq
    return None


WRONG_AUDIT_KEY = (
    "AUDIT_KEY does not verify the newest audit event: the key is wrong, or the key the "
    "chain was linked with was removed from the list (keys are comma-separated, newest "
    "first: put it back behind the new one). New events would not link to the chain."
)


def key_problem() -> str | None:
    """None when a configured AUDIT_KEY verifies the newest event (or there is none yet)."""
    if AccessEvent._meta.db_table not in connection.introspection.table_names():
        return None
    newest = (
        AccessEvent.objects.filter(position__isnull=False)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    if newest is None:
        return None
    seq, event = next(_stored_events(AccessEvent.objects.filter(position=newest), 1))
    if isinstance(event, Unreadable):
        return f"The newest audit event (#{seq}) cannot be read: {event}."
    for key in settings.AUDIT_KEY:
        if hmac.compare_digest(link(event, key), event.hash or ""):
            return None
    return WRONG_AUDIT_KEY


def verify_and_record(
    extra_checkpoints: list[checkpoints.Checkpoint] | None = None,
) -> Verification:
    """Verifies the chain and writes the verdict where admins look: an intact chain as an
    "audit chain verified" event (naming how many events were checked) and a checkpoint,
    anything else as an insider alert; a check that could not run at all as one too."""
    try:
        seal()
        result = verify(extra_checkpoints=extra_checkpoints)
    except Exception:
        # Its own failure is a verdict as well: the admins hear of it, the caller sees it.
        logger.exception("The audit chain could not be verified.")
        alert(InsiderAlert.Kind.CHECK_FAILED)
        raise
    if not result.intact:
        alert(InsiderAlert.Kind.CHAIN_BROKEN, seq=result.broken_seq)
    else:
        with transaction.atomic():
            record(Action.AUDIT_VERIFIED, target_type="chain", target_ref=str(result.checked))
        checkpoint()
    return result


def checkpoint() -> checkpoints.Checkpoint | None:
    """Seals what is pending, then appends the sealed head to the checkpoint file."""
    seal()
    return checkpoints.write()


def alert(kind: str, *, seq: int | None = None) -> None:
    InsiderAlert.objects.create(kind=kind, event_seq=seq)
