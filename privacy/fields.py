"""Encrypted model fields that fail closed.

django-encrypted-model-fields 0.6.5 has three habits we cannot live with:

- ``to_python`` decrypts whatever it is given, so a Fernet token pasted into a form is
  decrypted on save: a stolen dump plus any form is a decryption oracle;
- a value that does not decrypt (wrong key, plaintext planted by SQL) is returned as if it
  were the value, and a later save encrypts the ciphertext a second time;
- ``filter(field=...)`` compares against fresh ciphertext and silently matches nothing.

These subclasses decrypt only what comes from the database, raise when that fails, refuse
token-shaped user input, and refuse lookups (search goes through blind indexes).
"""

import re

from cryptography.fernet import InvalidToken
from django import forms
from django.core.exceptions import FieldError, ValidationError
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields import fields as library

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


class DecryptionError(Exception):
    """A stored value did not decrypt under any configured key.

    Either ``FIELD_ENCRYPTION_KEY`` is wrong or the row was written around the application.
    """


def looks_like_token(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return TOKEN_SHAPE.search(NOT_TOKEN_ALPHABET.sub("", value)) is not None


def refuse_token(value: object) -> None:
    if looks_like_token(value):
        raise ValidationError(TOKEN_REFUSED, code="encrypted_token")


def decrypt(stored: str) -> str:
    try:
        return crypter().decrypt(stored.encode("utf-8")).decode("utf-8")
    except InvalidToken:
        raise DecryptionError(
            "An encrypted column holds a value that does not decrypt under "
            "FIELD_ENCRYPTION_KEY: check that setting (and that nobody wrote the row by hand)."
        ) from None


def encrypt(plain: str) -> str:
    return crypter().encrypt(plain.encode("utf-8")).decode("utf-8")


class FailClosedMixin:
    """Shared behaviour; the concrete classes below mix it with the library's fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators.append(refuse_token)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        # Plain Django conversion of the decrypted text, skipping the library's lenient one.
        return super(library.EncryptedMixin, self).to_python(decrypt(value))

    def to_python(self, value):
        refuse_token(value)
        return super(library.EncryptedMixin, self).to_python(value)

    def get_db_prep_save(self, value, connection):
        value = super(library.EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return None
        refuse_token(value)
        return encrypt(str(value))

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


def secret_fields(model, prefix: str = "") -> tuple[str, ...]:
    """The names of a model's encrypted fields, with a relation's prefix ("person__") for
    `.defer()`: what a query that shows none of them need not read, nor decrypt."""
    return tuple(
        prefix + field.name
        for field in model._meta.concrete_fields
        if isinstance(field, FailClosedMixin)
    )


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
