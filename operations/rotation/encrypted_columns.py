"""Re-encrypting every encrypted column under the first key of ``FIELD_ENCRYPTION_KEY``.

Works on the raw column (the Fernet token as stored), so nothing is decrypted into model
instances and no save() logic runs. A token whose signature checks under the first key is
already current and left alone: that is what makes a run resumable without keeping any
state, and what makes a second run a check that nothing was missed.

Every value is also checked against its place (privacy.seal): its table's model and column
and its row's seal. Re-encrypting keeps the bound text as it is, so it keeps the place; a
value found out of its place (moved there by SQL) is not rotated but reported, by place
and row, to the operator and as an alert to the admins. Left under the old key, it stops
decrypting when that key is removed, as it should: nobody wrote it there.

Each batch of rows, ordered by primary key, is its own transaction. Each value is written
back with a conditional UPDATE of its column alone (``WHERE pk = … AND column = <old
token>``): a value the application changed meanwhile (already under the new key) is not
overwritten with the older text, and the audit log's append-only trigger, which lets
through an UPDATE of ``reason`` and nothing else, accepts it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from audit.log import record
from audit.models import Action
from privacy import seal
from privacy.fields import (
    ANOTHER_PLACE,
    ANOTHER_ROW,
    NOT_BOUND,
    DecryptionError,
    FailClosedMixin,
)
from privacy.keys import crypter
from privacy.rotation import RotationError
from privacy.tampering import report

# Rows per UPDATE statement: three parameters each, well under SQLite's limit of 32,766.
WRITE_CHUNK = 1000

# Called after each committed batch with the table's name and how many rows it held.
OnBatch = Callable[[str, int], None]


@dataclass(frozen=True)
class EncryptedTable:
    name: str
    pk: str
    columns: tuple[str, ...]
    # The place each column's values are bound to: "app_label.model_name.field_name".
    places: tuple[str, ...] = ()


@dataclass
class ColumnCounts:
    rotated: int = 0
    rows_changed: int = 0
    current: int = 0
    columns: int = 0
    # Values the application rewrote between our read and our write: already current.
    changed_meanwhile: int = 0
    # Values out of their place, left as they were: "casework_person.notes (primary key
    # 42): sealed for another row".
    out_of_place: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.rotated:,} values re-encrypted in {self.rows_changed:,} rows "
            f"across {self.columns} columns, {self.current:,} already current"
        )
        if self.changed_meanwhile:
            text += f", {self.changed_meanwhile:,} rewritten by the application meanwhile"
        if self.out_of_place:
            text += f", {len(self.out_of_place):,} out of their place left as they were"
        return text


def encrypted_tables() -> list[EncryptedTable]:
    """Every table holding a fail-closed encrypted column, found by looking at the models,
    so a new encrypted field is rotated without anyone remembering to list it here."""
    tables = []
    for model in apps.get_models():
        options = model._meta
        if options.proxy:
            continue
        fields = [
            field for field in options.local_concrete_fields if isinstance(field, FailClosedMixin)
        ]
        if fields:
            tables.append(
                EncryptedTable(
                    options.db_table,
                    options.pk.column,
                    tuple(field.column for field in fields),
                    tuple(field.place for field in fields),
                )
            )
    return sorted(tables, key=lambda table: table.name)


def rows_to_scan(tables: list[EncryptedTable]) -> int:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        total = 0
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table.name)}")  # noqa: S608
            total += cursor.fetchone()[0]
    return total


def rotate_encrypted_columns(
    *, batch_size: int = 500, on_batch: OnBatch | None = None
) -> ColumnCounts:
    """Re-encrypts every stored value not yet under the first key; audited once at the end.

    Raises RotationError, after committing the batches before it, at the first value that
    no configured key decrypts. Values out of their place are listed in the counts.
    """
    first = Fernet(settings.FIELD_ENCRYPTION_KEY[0])
    every = crypter()
    counts = ColumnCounts()
    tables = encrypted_tables()
    for table in tables:
        counts.columns += len(table.columns)
        after = None
        while True:
            rows = _rotate_batch(table, after, batch_size, first, every, counts)
            if not rows:
                break
            after = rows[-1][0]
            if on_batch:
                on_batch(table.name, len(rows))
    record(
        Action.KEYS_ROTATED,
        actor=None,
        target_type="keys",
        target_ref="FIELD_ENCRYPTION_KEY",
        reason=counts.summary(),
    )
    return counts


def _rotate_batch(table, after, batch_size, first, every, counts) -> list[tuple]:
    """Rotates one batch of rows after primary key ``after``; returns the rows it read."""
    quote = connection.ops.quote_name
    pk = quote(table.pk)
    selected = ", ".join(quote(column) for column in table.columns)
    where = "" if after is None else f"WHERE {pk} > %s"
    query = (
        f"SELECT {pk}, {quote('seal')}, {selected} FROM {quote(table.name)} {where} "  # noqa: S608
        f"ORDER BY {pk} LIMIT %s"
    )
    params = [batch_size] if after is None else [after, batch_size]
    refused = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
        # Per column: (primary key, new token, token read), for the conditional UPDATE.
        changes: dict[str, list[tuple[Any, str, str]]] = {column: [] for column in table.columns}
        changed_rows = set()
        for pk_value, row_seal, *tokens in rows:
            for column, place, token in zip(table.columns, table.places, tokens, strict=True):
                if not token:
                    continue  # NULL, or blanked by a purge: no token
                data = _decrypted(token, every, table, column, pk_value)
                problem = _out_of_place(data, place, seal.as_uuid(row_seal))
                if problem:
                    counts.out_of_place.append(
                        f"{table.name}.{column} (primary key {pk_value}): {problem}"
                    )
                    refused.append(
                        DecryptionError(problem, place=place, problem=problem, pk=pk_value)
                    )
                elif _is_current(token, first):
                    counts.current += 1
                else:
                    changes[column].append((pk_value, first.encrypt(data).decode(), token))
                    changed_rows.add(pk_value)
        for column, params in changes.items():
            if params:
                written = _write(cursor, table, column, params)
                counts.rotated += written
                counts.changed_meanwhile += len(params) - written
        counts.rows_changed += len(changed_rows)
    for error in refused:  # after the batch's commit: the alerts are not rolled back with it
        report(error)
    return rows


def _is_current(token: str, first: Fernet) -> bool:
    try:
        first.extract_timestamp(token)  # checks the signature under the first key only
        return True
    except InvalidToken:
        return False


def _out_of_place(data: bytes, place: str, row) -> str:
    """What is wrong with where this decrypted value is stored, or "" when nothing is."""
    try:
        sealed_place, sealed_row, _text = seal.unwrap(data)
    except (seal.NotBound, UnicodeDecodeError):
        return NOT_BOUND
    if sealed_place != place:
        return f"{ANOTHER_PLACE} ({sealed_place})"
    if sealed_row != row:
        return ANOTHER_ROW
    return ""


def _decrypted(token: str, every: MultiFernet, table, column, pk) -> bytes:
    try:
        return every.decrypt(token)
    except (InvalidToken, TypeError):
        raise RotationError(
            f"{table.name}.{column} (primary key {pk}) holds a value that no key in "
            "FIELD_ENCRYPTION_KEY decrypts. Put back the key it was written with, or find "
            "out who wrote the row around the application; then run the command again: "
            "the batches before this one are done."
        ) from None


def _write(cursor, table, column: str, params: list[tuple]) -> int:
    """Writes the column alone, only where it still holds the token we read.

    One statement per column and batch (UPDATE … FROM VALUES, PostgreSQL and SQLite 3.33+):
    one per value costs a round trip each, four times the whole run on PostgreSQL.
    """
    quote = connection.ops.quote_name
    name, pk, col = quote(table.name), quote(table.pk), quote(column)
    written = 0
    for start in range(0, len(params), WRITE_CHUNK):
        chunk = params[start : start + WRITE_CHUNK]
        # VALUES columns are named column1, column2, … on both databases.
        sql = (
            f"UPDATE {name} SET {col} = v.column2 "  # noqa: S608
            f"FROM (VALUES {', '.join(['(%s, %s, %s)'] * len(chunk))}) AS v "
            f"WHERE {name}.{pk} = v.column1 AND {name}.{col} = v.column3"
        )
        cursor.execute(sql, [value for pk_new_old in chunk for value in pk_new_old])
        written += cursor.rowcount
    return written
