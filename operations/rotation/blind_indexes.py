"""Recomputing every blind index under the configured ``BLIND_INDEX_KEY``.

The operator puts the new key in place, restarts, and runs ``rotate_keys --blind-index``.
Each digest is recomputed from the plaintext still held in encrypted columns, with the same
functions the application uses to write them (``person_digests``, ``contact_digests``), so
normalisation lives in one place:

1. people, by primary key: a person whose ``details`` rows differ from what their fields
   give now gets them rewritten;
2. intake requests, by primary key: a request whose rows differ from what its contact
   gives now gets them rewritten, and the people's ``intake`` rows copied from the old
   digest are carried over to the new one (same digest, same contact: the old request
   rows say what each old person row was);
3. once every request is done, a person's ``intake`` row that no request's contact gives
   any more cannot be recomputed (the request was deleted or its contact erased): it is
   dropped and counted.

Steps 1 and 2 compare before they write, so a rerun skips what is done. Step 3 runs only
when this rotation found stale rows (or an interrupted one did: ``BlindIndexKey``), so a
run under an unchanged key never drops anything.

It reaches into casework and intake, hence operations: the digests are theirs, and
rotation must use their functions rather than copy them.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.log import record
from audit.models import Action
from casework.models import Person, PersonIndex
from casework.services.cases import person_digests
from intake.conversations import address_digest
from intake.models import IntakeIndex, IntakeRequest
from privacy import blind_index
from privacy.fields import DecryptionError
from privacy.models import BlindIndexKey
from privacy.rotation import RotationError

# Called after each committed batch with what it covered ("people", "requests") and how many.
OnBatch = Callable[[str, int], None]


@dataclass
class IndexCounts:
    people_reindexed: int = 0
    requests_reindexed: int = 0
    current: int = 0
    contacts_carried: int = 0
    contacts_dropped: int = 0

    def summary(self) -> str:
        return (
            f"{self.people_reindexed:,} people and {self.requests_reindexed:,} requests "
            f"re-indexed ({self.contacts_carried:,} request contacts of people carried over), "
            f"{self.current:,} already current; {self.contacts_dropped:,} request contacts "
            "of people dropped (no plaintext left to recompute them from)"
        )


def sources_to_scan() -> int:
    return Person.objects.count() + IntakeRequest.objects.count()


def rotate_blind_indexes(*, batch_size: int = 500, on_batch: OnBatch | None = None) -> IndexCounts:
    """Brings every blind index to the configured key; audited once at the end."""
    fingerprint = blind_index.key_fingerprint()
    counts = IndexCounts()
    for name, batch in (("people", _people_batch), ("requests", _requests_batch)):
        after = 0
        while True:
            with transaction.atomic():
                done, stale = batch(after, batch_size, counts)
                if stale:
                    _mark_started(fingerprint)
            if not done:
                break
            after = done[-1]
            if on_batch:
                on_batch(name, len(done))
    with transaction.atomic():
        state = BlindIndexKey.objects.select_for_update().filter(id=1).first()
        if state and state.fingerprint == fingerprint and not state.complete:
            counts.contacts_dropped = _drop_unrecomputable_contacts()
        BlindIndexKey.objects.update_or_create(
            id=1,
            defaults={"fingerprint": fingerprint, "complete": True, "updated_at": timezone.now()},
        )
        record(
            Action.KEYS_ROTATED,
            actor=None,
            target_type="keys",
            target_ref="BLIND_INDEX_KEY",
            reason=counts.summary(),
        )
    return counts


def _mark_started(fingerprint: str) -> None:
    """Written in each stale batch's transaction, so no change is ever committed unmarked."""
    BlindIndexKey.objects.update_or_create(
        id=1,
        defaults={"fingerprint": fingerprint, "complete": False, "updated_at": timezone.now()},
    )


def _loaded(queryset, what: str, after: int) -> list:
    try:
        return list(queryset)
    except DecryptionError:
        raise RotationError(
            f"A {what} after primary key {after} does not decrypt under FIELD_ENCRYPTION_KEY: "
            "fix the field key first (rotate_keys without --blind-index names the row)."
        ) from None


def _people_batch(after: int, batch_size: int, counts: IndexCounts) -> tuple[list[int], int]:
    """Rewrites the ``details`` rows of the people in this batch whose rows are stale."""
    people = _loaded(
        Person.objects.select_for_update().filter(pk__gt=after).order_by("pk")[:batch_size],
        "person",
        after,
    )
    ids = [person.pk for person in people]
    stored = defaultdict(set)
    rows = PersonIndex.objects.filter(person_id__in=ids, source=PersonIndex.DETAILS)
    for person_id, kind, digest in rows.values_list("person_id", "kind", "digest"):
        stored[person_id].add((kind, digest))
    stale, fresh = [], []
    for person in people:
        wanted = person_digests(person)
        if stored[person.pk] == wanted:
            counts.current += 1
            continue
        stale.append(person.pk)
        fresh += [
            PersonIndex(person_id=person.pk, kind=kind, digest=digest, source=PersonIndex.DETAILS)
            for kind, digest in sorted(wanted)
        ]
    PersonIndex.objects.filter(person_id__in=stale, source=PersonIndex.DETAILS).delete()
    PersonIndex.objects.bulk_create(fresh)
    counts.people_reindexed += len(stale)
    return ids, len(stale)


def _requests_batch(after: int, batch_size: int, counts: IndexCounts) -> tuple[list[int], int]:
    """Rewrites the rows of the requests in this batch whose rows are stale, and carries
    the people's copies of them over."""
    requests = _loaded(
        IntakeRequest.objects.select_for_update()
        .filter(pk__gt=after)
        .order_by("pk")
        .only("pk", "seal", "contact", "channel", "reply_address", "address_digest")[:batch_size],
        "request",
        after,
    )
    ids = [request.pk for request in requests]
    _readdress(requests)
    stored: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
    rows = IntakeIndex.objects.filter(request_id__in=ids)
    for request_id, kind, digest in rows.values_list("request_id", "kind", "digest"):
        stored[request_id].add((kind, digest))
    stale: list[int] = []
    fresh: list[IntakeIndex] = []
    renamed: dict[tuple[str, str], str] = {}
    for request in requests:
        wanted = set(blind_index.contact_digests(request.contact))
        if stored[request.pk] == wanted:
            counts.current += 1
            continue
        stale.append(request.pk)
        fresh += [
            IntakeIndex(request_id=request.pk, kind=kind, digest=digest)
            for kind, digest in sorted(wanted)
        ]
        # contact_digests gives at most one digest per kind: the old one of a kind maps
        # to the new one of that kind.
        new_by_kind: dict[str, str] = dict(wanted)
        for kind, old in stored[request.pk] - wanted:
            if kind in new_by_kind:
                renamed[(kind, old)] = new_by_kind[kind]
    IntakeIndex.objects.filter(request_id__in=stale).delete()
    IntakeIndex.objects.bulk_create(fresh)
    counts.contacts_carried += _carry_person_contacts(renamed)
    counts.requests_reindexed += len(stale)
    return ids, len(stale)


def _readdress(requests: list[IntakeRequest]) -> None:
    """A conversation's address digest is keyed from BLIND_INDEX_KEY too: recomputed, so the
    chat that wrote before the rotation finds its request again afterwards."""
    for request in requests:
        if not request.reply_address:
            continue
        digest = address_digest(request.channel, request.reply_address)
        if digest != request.address_digest:
            IntakeRequest.objects.filter(pk=request.pk).update(address_digest=digest)


def _carry_person_contacts(renamed: dict[tuple[str, str], str]) -> int:
    """Moves people's ``intake`` rows from old digests to new ones; returns how many.

    Whichever person holds the old digest: equal digests mean equal contacts. A person
    who already holds the new one (another request with the same contact came first)
    loses the old row instead, as the unique constraint wants.
    """
    if not renamed:
        return 0
    olds = [old for _kind, old in renamed]
    rows = [
        row
        for row in PersonIndex.objects.filter(source=PersonIndex.INTAKE, digest__in=olds)
        if (row.kind, row.digest) in renamed
    ]
    held = set(
        PersonIndex.objects.filter(
            source=PersonIndex.INTAKE, digest__in=renamed.values()
        ).values_list("person_id", "kind", "digest")
    )
    moved, duplicates = [], []
    for row in rows:
        row.digest = renamed[(row.kind, row.digest)]
        key = (row.person_id, row.kind, row.digest)
        if key in held:
            duplicates.append(row.pk)
        else:
            held.add(key)
            moved.append(row)
    PersonIndex.objects.filter(pk__in=duplicates).delete()
    _set_digests(moved)
    return len(rows)


def _set_digests(rows: list[PersonIndex]) -> None:
    """UPDATE … FROM VALUES, a thousand rows a statement (two parameters each, well under
    SQLite's limit): bulk_update's CASE WHEN took longer than the rest of a 10,000-people
    rotation on PostgreSQL."""
    quote = connection.ops.quote_name
    table = quote(PersonIndex._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            # VALUES columns are named column1, column2 on PostgreSQL and SQLite alike.
            sql = (
                f"UPDATE {table} SET {quote('digest')} = v.column2 "  # noqa: S608
                f"FROM (VALUES {', '.join(['(%s, %s)'] * len(chunk))}) AS v "
                f"WHERE {table}.{quote(PersonIndex._meta.pk.column)} = v.column1"
            )
            cursor.execute(sql, [value for row in chunk for value in (row.pk, row.digest)])


def _drop_unrecomputable_contacts() -> int:
    """Drops people's ``intake`` rows that no request's contact gives under this key.

    Runs after every request is current, so such a row is either under the old key with
    its request gone (or its contact erased), or was never anything a request gave.
    """
    sources = IntakeIndex.objects.filter(kind=OuterRef("kind"), digest=OuterRef("digest"))
    orphans = PersonIndex.objects.filter(source=PersonIndex.INTAKE).filter(~Exists(sources))
    dropped, _by_model = orphans.delete()
    return dropped
