"""Binding each encrypted value to its place: the model, the field and the row.

Why. Whoever holds the database (its host, its role) but not FIELD_ENCRYPTION_KEY cannot
read a token, but could move one: copy another person's legal name into the notes of a
case they may open, or an admin's authenticator secret into a field they can see, and let
the application decrypt it for them. So the text encrypted is not the value alone but an
unambiguous encoding of the place it was written to, then the value:

    0xFF 0x01 | length of the place (2 bytes) | place | row seal (16 bytes) | value

- the place is "app_label.model_name.field_name", e.g. "casework.person.notes";
- the row seal is a random UUID kept in clear in the row's own ``seal`` column
  (privacy.models.Sealed), made with the row and never changed;
- 0xFF never begins UTF-8 text, so a token written before this format (the bare value)
  is never mistaken for a bound one: it is refused, not trusted.

Fernet authenticates the whole. A value moved to another column or model fails the place
check (the field's ``from_db_value``); one moved to another row of the same column fails
the row check (``Sealed.from_db``, which knows the row).

Why a seal column and not the primary key: an auto id is not known before the INSERT,
and binding to it would cost a second write on every new row (every timeline entry, every
request). Against the database owner the seal is as strong as the primary key: whoever can
copy a column can as easily swap primary keys, or copy the seal along with every value of
the row. What binding stops is a value read somewhere it was not written. It does not stop
whole rows being re-linked (a case pointed at another person's row): the owner holds the
rows and their relations, and only the values' places are bound.

Renaming a model or an encrypted field changes its place: the migration that renames it
must re-encrypt its values (privacy.rotation.sealing does it for a whole table).
"""

import uuid
from datetime import date

MARK = b"\xff\x01"  # 0xFF: never the first byte of UTF-8 text; 0x01: this format's version
SEAL_BYTES = 16


class NotBound(ValueError):
    """The decrypted text is not in the bound format: a bare value written before it."""


def wrap(place: str, row: uuid.UUID, text: str) -> bytes:
    """The bytes to encrypt for `text` stored at `place` in the row sealed `row`."""
    name = place.encode("ascii")
    return MARK + len(name).to_bytes(2, "big") + name + row.bytes + text.encode("utf-8")


def unwrap(data: bytes) -> tuple[str, uuid.UUID, str]:
    """The place, row seal and text of decrypted bytes; NotBound if they are not bound."""
    if not data.startswith(MARK):
        raise NotBound
    start = len(MARK) + 2
    length = int.from_bytes(data[len(MARK) : start], "big")
    seal_at = start + length
    text_at = seal_at + SEAL_BYTES
    if len(data) < text_at:
        raise NotBound
    place = data[start:seal_at].decode("ascii")
    return place, uuid.UUID(bytes=data[seal_at:text_at]), data[text_at:].decode("utf-8")


def is_bound(data: bytes) -> bool:
    return data.startswith(MARK)


def as_uuid(value) -> uuid.UUID:
    """A seal as a raw cursor returns it: a UUID on PostgreSQL, 32 hex digits on SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


# A decrypted value on its way from `from_db_value` to `Sealed.from_db`: it remembers the row
# seal it was sealed with until the row check has compared that with the row it came from.
# Subclasses, so that `values()`, which never reaches `from_db`, still gets a str or a date.


class OpenedText(str):
    sealed_to: uuid.UUID

    def plain(self) -> str:
        return str.__str__(self)


class OpenedDate(date):
    __slots__ = ("sealed_to",)
    sealed_to: uuid.UUID

    def plain(self) -> date:
        return date(self.year, self.month, self.day)


OPENED = (OpenedText, OpenedDate)


def opened(value, row: uuid.UUID):
    """`value` (a str or a date, as the field converts it) remembering its row seal."""
    result: OpenedText | OpenedDate
    if isinstance(value, str):
        result = OpenedText(value)
    elif isinstance(value, date):
        result = OpenedDate(value.year, value.month, value.day)
    else:
        raise TypeError(f"no row check for a {type(value).__name__}")
    result.sealed_to = row
    return result
