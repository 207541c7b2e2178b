"""Binding the values stored before sealing to their rows (privacy.seal), for the migration
that gives a model its ``seal`` column; and back, for that migration's reversal.

Each such migration adds ``seal`` nullable and without a default (a callable default in
AddField gives every existing row the same value), then runs ``seal_rows``, which gives each
row its own uuid4 and re-encrypts each of its values bound to it, then makes ``seal`` NOT
NULL. After it no bare token is left, and a bare token pasted in later is refused.

On the raw columns, as rotation does: no model code runs, and a historical model knows
nothing of seals. Batches ordered by primary key, one UPDATE … FROM (VALUES …) each. A value
no configured key decrypts stops the migration, naming the table, column and row, never the
value: binding what cannot be read would hide it.
"""

import uuid

from cryptography.fernet import InvalidToken

from privacy import seal
from privacy.fields import FailClosedMixin
from privacy.keys import crypter
from privacy.rotation import RotationError

# Parameters per UPDATE statement, well under SQLite's limit of 32,766.
PARAMETERS = 3000


def seal_rows(app_label: str, *model_names: str):
    """A RunPython function binding every value of these models to a new seal per row."""

    def run(apps, schema_editor):
        for name in model_names:
            _rewrite(apps.get_model(app_label, name), schema_editor.connection, bind=True)

    return run


def unseal_rows(app_label: str, *model_names: str):
    """The reverse: every value back to a bare token, each checked against its place and
    row first, so reversing the migration launders no moved value."""

    def run(apps, schema_editor):
        for name in model_names:
            _rewrite(apps.get_model(app_label, name), schema_editor.connection, bind=False)

    return run


def _rewrite(model, connection, *, bind: bool) -> None:
    options = model._meta
    fields = [field for field in options.concrete_fields if isinstance(field, FailClosedMixin)]
    seal_field = options.get_field("seal")
    quote = connection.ops.quote_name
    table, pk = quote(options.db_table), quote(options.pk.column)
    columns = [quote(field.column) for field in fields]
    places = [f"{options.label_lower}.{field.name}" for field in fields]
    batch = max(1, PARAMETERS // (len(fields) + 2))
    after = None
    while True:
        where = "" if after is None else f"WHERE {pk} > %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {quote(seal_field.column)}, {', '.join(columns)} "  # noqa: S608
                f"FROM {table} {where} ORDER BY {pk} LIMIT %s",
                [batch] if after is None else [after, batch],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        written = []
        for pk_value, stored_seal, *tokens in rows:
            row = uuid.uuid4() if bind else seal.as_uuid(stored_seal)
            where_found = (options.db_table, pk_value)
            new = [
                _rebound(token, place, row, bind, where_found, field.column)
                for token, place, field in zip(tokens, places, fields, strict=True)
            ]
            written.append((pk_value, seal_field.get_db_prep_value(row, connection), *new))
        _write(connection, table, pk, quote(seal_field.column), columns, written)
        after = rows[-1][0]


def _rebound(token, place: str, row: uuid.UUID, bind: bool, where_found, column: str):
    if not token:
        return token  # NULL, or blanked by a purge: nothing to bind
    table, pk = where_found
    try:
        data = crypter().decrypt(token.encode("utf-8"))
    except InvalidToken:
        raise RotationError(
            f"{table}.{column} (primary key {pk}) holds a value that no key in "
            "FIELD_ENCRYPTION_KEY decrypts. Put back the key it was written with, or find out "
            "who wrote the row around the application; then migrate again."
        ) from None
    if bind:
        if seal.is_bound(data):
            raise RotationError(f"{table}.{column} (primary key {pk}) is already bound.")
        text = data.decode("utf-8")
        return crypter().encrypt(seal.wrap(place, row, text)).decode("utf-8")
    if not seal.is_bound(data):
        return token
    found_place, found_row, text = seal.unwrap(data)
    if (found_place, found_row) != (place, row):
        raise RotationError(
            f"{table}.{column} (primary key {pk}) holds a value sealed for another place or "
            "row; it is not unbound, so that reversing the migration launders nothing."
        )
    return crypter().encrypt(text.encode("utf-8")).decode("utf-8")


def _write(connection, table: str, pk: str, seal_column: str, columns: list[str], rows) -> None:
    width = len(columns) + 2
    values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
    # VALUES columns are named column1, column2, … on PostgreSQL and SQLite alike.
    assignments = ", ".join(
        f"{column} = v.column{number}" for number, column in enumerate(columns, start=3)
    )
    sql = (
        f"UPDATE {table} SET {seal_column} = v.column2, {assignments} "  # noqa: S608
        f"FROM (VALUES {values}) AS v WHERE {table}.{pk} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
