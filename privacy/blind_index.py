"""Blind indexes: keyed hashes that let us find equal values without storing them in clear.

A stolen dump holds only ciphertext and these digests. Without ``BLIND_INDEX_KEY`` a digest
cannot be checked against a guessed phone number or name (a plain hash could, since phone
numbers are few enough to try them all), and the key never lives in the database.

Each digest is HMAC-SHA256 of a normalised value (``privacy.normalise``), domain-separated by
its kind, so the same string indexed as a handle and as a name gives two unrelated digests and
one index cannot be joined against another.
"""

import datetime
import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.normalise import (
    normalise_email,
    normalise_handle,
    normalise_name_birth,
    normalise_phone,
)

KEY_BYTES = 32

# What makes free text a handle rather than a mistyped phone number: see contact_digests.
HANDLE_MARKERS = re.compile(r"^\s*(?:@|(?:https?://)?(?:www\.)?(?:t|telegram)\.me/)", re.I)
ANY_LETTER = re.compile(r"[^\W\d_]")


class Kind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    HANDLE = "handle", _("Messenger handle")
    EMAIL = "email", _("E-mail address")
    NAME_BIRTH = "name_birth", _("Name and date of birth")


def _key() -> bytes:
    """Read at call time, so a key change (or a test's override) applies at once."""
    key = settings.BLIND_INDEX_KEY
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ImproperlyConfigured("BLIND_INDEX_KEY must be 32 bytes.")
    return key


FINGERPRINT_LABEL = b"safe-passage blind index key fingerprint"


def key_fingerprint() -> str:
    """Names the configured key without revealing it (one more HMAC output among many)."""
    return hmac.new(_key(), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


DERIVED_KEY_LABEL = b"safe-passage derived key\x00"


def derived_key(purpose: bytes) -> bytes:
    """A key of its own for another kind of keyed digest, made from ``BLIND_INDEX_KEY``: what
    is digested under it can never be matched against a blind index, or the other way round."""
    return hmac.new(_key(), DERIVED_KEY_LABEL + purpose, hashlib.sha256).digest()


def keyed_digest(purpose: bytes, message: str) -> str:
    """Hex HMAC-SHA256 of `message` under the derived key for `purpose`: for the digests
    that are not blind indexes (an address, a source network, a form page's token)."""
    return hmac.new(derived_key(purpose), message.encode(), hashlib.sha256).hexdigest()


def digest(kind: Kind | str, normalised: str) -> str:
    """Hex HMAC-SHA256 of ``kind NUL value``; the kind must be one of ``Kind``."""
    message = f"{Kind(kind).value}\x00{normalised}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def _digest_or_none(kind: Kind, normalised: str | None) -> str | None:
    return None if normalised is None else digest(kind, normalised)


def phone_digest(raw: str) -> str | None:
    return _digest_or_none(Kind.PHONE, normalise_phone(raw))


def handle_digest(raw: str) -> str | None:
    return _digest_or_none(Kind.HANDLE, normalise_handle(raw))


def email_digest(raw: str) -> str | None:
    return _digest_or_none(Kind.EMAIL, normalise_email(raw))


def name_birth_digest(name: str, birth_date: datetime.date | None) -> str | None:
    return _digest_or_none(Kind.NAME_BIRTH, normalise_name_birth(name, birth_date))


def contact_digests(raw: str) -> list[tuple[Kind, str]]:
    """Every plausible reading of a free-text contact typed at intake.

    The first rule that applies wins, so each text gets at most one digest:

    1. it looks like an e-mail address: the e-mail digest;
    2. it is only digits and phone punctuation and parses as a valid number: the phone digest
       (a bare number is far more likely a phone than a handle made of digits);
    3. it starts with ``@`` or a ``t.me/`` link, or contains a letter: the handle digest;
    4. otherwise nothing (a number too short or malformed to be any of these).
    """
    if (value := email_digest(raw)) is not None:
        return [(Kind.EMAIL, value)]
    if (value := phone_digest(raw)) is not None:
        return [(Kind.PHONE, value)]
    looks_like_handle = HANDLE_MARKERS.match(raw) or ANY_LETTER.search(raw)
    if looks_like_handle and (value := handle_digest(raw)) is not None:
        return [(Kind.HANDLE, value)]
    return []
