"""Encrypted model fields that fail closed.

django-encrypted-model-fields 0.6.5 has three habits we cannot live with:

- ``to_python`` decrypts whatever it is given, so a Fernet token pasted into a form is
  decrypted on save: a stolen dump plus any form is a decryption oracle;
- a value that does not decrypt (wrong key, plaintext planted by SQL) is returned as if it
  were the value, and a later save encrypts the ciphertext a second time;
- ``filter(field=...)`` compares against fresh ciphertext and silently matches nothing.

These subclasses decrypt only what comes from the database, raise when that fails, refuse
token-shaped user input, and refuse lookups (search goes through blind indexes).

Each value is also bound to its place, the model, the field and the row (privacy.seal):
written with the row's seal in ``pre_save``, which knows the instance, and checked on the
way back, so a token moved elsewhere by SQL is refused like one that does not decrypt.
"""

import re
import uuid
from typing import TYPE_CHECKING

from cryptography.fernet import InvalidToken
from django import forms
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields import fields as library

from privacy import seal
from privacy.keys import crypter

# A Fernet token is url-safe base64 of 0x80 + timestamp + IV + ciphertext + HMAC: it always
# starts "gAAAAA" and is at least 100 characters long.
TOKEN_SHAPE = re.compile(r"gAAAAA[A-Za-z0-9_\-]{80,}")
# Looked for after dropping everything outside that alphabet, "=" padding included: a token
# broken by line breaks, spaces or other separators is whole again once someone removes them.
NOT_TOKEN_ALPHABET = re.compile(r"[^A-Za-z0-9_\-]+")

TOKEN_REFUSED = _(
    "This looks like encrypted data copied from somewhere else. It cannot be entered here."
)

# What was wrong with a refused value, for the log line and the admins' alert.
DOES_NOT_DECRYPT = "does not decrypt"
NOT_BOUND = "not bound to a place (written before sealing, or by hand)"
ANOTHER_PLACE = "sealed for another place"
ANOTHER_ROW = "sealed for another row"
EMPTY = "empty, where only the application may write an empty value"


class DecryptionError(Exception):
    """A stored value was refused: it does not decrypt under any configured key, or it was
    sealed for another place or row, or it was written around the application.

    The message and the attributes name where, never what: `place` is the model and field
    ("casework.person.notes"), `pk` the row when known, `problem` one of the texts above,
    `origin` the (place, row seal) a moved value was sealed for. `stored`, the token as
    found, is kept out of the message; privacy.tampering finds its row with it.
    """

    def __init__(
        self,
        message: str,
        *,
        place: str = "",
        problem: str = DOES_NOT_DECRYPT,
        pk=None,
        origin: tuple[str, uuid.UUID] | None = None,
        stored: str | None = None,
    ):
        super().__init__(message)
        self.place, self.problem, self.pk, self.origin = place, problem, pk, origin
        self.stored = stored
        # A privacy.tampering.Refusal once reported (an object here: tampering imports this
        # module): each error is told once.
        self.reported: object = None


def looks_like_token(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return TOKEN_SHAPE.search(NOT_TOKEN_ALPHABET.sub("", value)) is not None


def refuse_token(value: object) -> None:
    if looks_like_token(value):
        raise ValidationError(TOKEN_REFUSED, code="encrypted_token")


def decrypt_bytes(stored: str, *, place: str = "") -> bytes:
    try:
        return crypter().decrypt(stored.encode("utf-8"))
    except InvalidToken:
        raise DecryptionError(
            f"{place or 'An encrypted column'} holds a value that does not decrypt under "
            "FIELD_ENCRYPTION_KEY: check that setting (and that nobody wrote the row by hand).",
            place=place,
            stored=stored,
        ) from None


def encrypt_bytes(data: bytes) -> str:
    return crypter().encrypt(data).decode("utf-8")


class _ToSeal:
    """A value on its way from ``pre_save``, which knows the row, to ``get_db_prep_save``,
    which knows the database: encrypted there, bound to the row's seal."""

    __slots__ = ("row", "value")

    def __init__(self, value, row: uuid.UUID):
        self.value, self.row = value, row


if TYPE_CHECKING:
    # What the mixin is mixed into (the library's fields are untyped): a model field.
    _Field = models.Field
else:
    _Field = object


class FailClosedMixin(_Field):
    """Shared behaviour; the concrete classes below mix it with the library's fields.

    ``purgeable=True``: a purge may blank the field with ``QuerySet.update(field="")``,
    which knows no row to bind to. The column then holds an empty string, read back as an
    empty value. Only for fields whose emptiness opens nothing (never a secret such as an
    authenticator key): anyone holding the database can plant an empty string.
    """

    # Not a database attribute: migrations altering it alone touch no table.
    non_db_attrs = (*models.Field.non_db_attrs, "purgeable")

    def __init__(self, *args, purgeable: bool = False, **kwargs):
        self.purgeable = purgeable
        super().__init__(*args, **kwargs)
        self.validators.append(refuse_token)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.purgeable:
            kwargs["purgeable"] = True
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.place = f"{cls._meta.label_lower}.{self.name}"

    @cached_property
    def binds(self) -> bool:
        """Whether values are bound to their row: always, but in a migration's historical
        model from before its app's seal migration, which reads and writes bare values."""
        if any(field.name == "seal" for field in self.model._meta.concrete_fields):
            return True
        if self.model.__module__ == "__fake__":  # Django's historical models (migrations)
            return False
        raise ImproperlyConfigured(
            f"{self.model.__name__} has encrypted fields: it must subclass privacy.models.Sealed."
        )

    def _refused(self, problem: str, stored: str, origin=None) -> DecryptionError:
        return DecryptionError(
            f"{self.place} holds a value {problem}.",
            place=self.place,
            problem=problem,
            origin=origin,
            stored=stored,
        )

    def _convert(self, text: str):
        # Plain Django conversion of the decrypted text, skipping the library's lenient one.
        return super(library.EncryptedMixin, self).to_python(text)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if value == "":
            if self.purgeable:
                return self._convert("")
            raise self._refused(EMPTY, value)
        data = decrypt_bytes(value, place=self.place)
        if not self.binds:
            if seal.is_bound(data):
                raise self._refused("bound, in a table not sealed yet", value)
            return self._convert(data.decode("utf-8"))
        try:
            place, row, text = seal.unwrap(data)
        except (seal.NotBound, UnicodeDecodeError):
            raise self._refused(NOT_BOUND, value) from None
        if place != self.place:
            raise self._refused(ANOTHER_PLACE, value, origin=(place, row))
        # The row is checked by Sealed.from_db, which knows which row this came from.
        return seal.opened(self._convert(text), row)

    def to_python(self, value):
        refuse_token(value)
        return super(library.EncryptedMixin, self).to_python(value)

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value is None or not self.binds:
            return value
        row = model_instance.seal
        if row is None:
            raise FieldError(f"{self.place}: the row has no seal to bind its value to.")
        return _ToSeal(value, seal.as_uuid(row))

    def get_db_prep_save(self, value, connection):
        row = None
        if isinstance(value, _ToSeal):
            value, row = value.value, value.row
        value = super(library.EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return None
        refuse_token(value)
        text = str(value)
        if row is not None:
            return encrypt_bytes(seal.wrap(self.place, row, text))
        if not self.binds:
            return encrypt_bytes(text.encode("utf-8"))
        if text == "" and self.purgeable:
            return ""
        # QuerySet.update() and bulk_update() know no row to bind the value to.
        raise FieldError(
            f"{self.place} is bound to its row and cannot be written without it: set it on "
            "the instance and save(update_fields=[...]), or update that row alone with "
            "privacy.fields.bound_to(instance, value)"
            + ("." if self.purgeable else "; only a purgeable field may be blanked so.")
        )

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be searched with "
            f"'{lookup_name}'; search through its blind index instead."
        )

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted; no transforms.")

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": self.form_class, **kwargs})


def bound_to(instance, value):
    """`value` for a ``QuerySet.update()`` of `instance`'s own row alone (a conditional
    UPDATE filtered on its primary key): update() knows no row, so the value carries the
    seal of the instance it is bound to."""
    return _ToSeal(value, seal.as_uuid(instance.seal))


def encrypted_fields(model) -> tuple[FailClosedMixin, ...]:
    return tuple(
        field for field in model._meta.concrete_fields if isinstance(field, FailClosedMixin)
    )


def secret_fields(model, prefix: str = "") -> tuple[str, ...]:
    """The names of a model's encrypted fields, with a relation's prefix ("person__") for
    `.defer()`: what a query that shows none of them need not read, nor decrypt."""
    return tuple(prefix + field.name for field in encrypted_fields(model))


class RefuseTokenFormMixin:
    """Refuses a token before any other check, so the user reads the reason that matters."""

    def to_python(self, value):
        refuse_token(value)
        return super().to_python(value)


class TextFormField(RefuseTokenFormMixin, forms.CharField):
    pass


class DateFormField(RefuseTokenFormMixin, forms.DateField):
    pass


class EmailFormField(RefuseTokenFormMixin, forms.EmailField):
    pass


class EncryptedCharField(FailClosedMixin, library.EncryptedCharField):
    form_class = TextFormField


class EncryptedTextField(FailClosedMixin, library.EncryptedTextField):
    form_class = TextFormField


class EncryptedDateField(FailClosedMixin, library.EncryptedDateField):
    form_class = DateFormField


class EncryptedEmailField(FailClosedMixin, library.EncryptedEmailField):
    form_class = EmailFormField


__all__ = [
    "DecryptionError",
    "EncryptedCharField",
    "EncryptedDateField",
    "EncryptedEmailField",
    "EncryptedTextField",
]
