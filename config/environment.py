"""Reading settings from the environment, and the keys of the embedded default.

Kept apart from ``settings.py`` so the parsing rules can be tested on their own and so
``generate_keys`` makes keys exactly the way start-up checks them.
"""

import base64
import binascii
import fcntl
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BLIND_INDEX_KEY_BYTES = 32


class ConfigurationError(ImproperlyConfigured):
    """A setting is missing or malformed; the message names the variable."""


def env_str(name: str, default: str) -> str:
    """An empty variable counts as unset: `ADMIN_URL=` must not move the admin to `/`."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_fernet_keys(raw: str) -> list[str]:
    """Comma-separated Fernet keys, newest first; every one must be well formed."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise ConfigurationError("FIELD_ENCRYPTION_KEY is empty.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            raise ConfigurationError(
                f"FIELD_ENCRYPTION_KEY key #{position} is not a Fernet key "
                "(32 bytes, url-safe base64). Make one with `python manage.py generate_keys`."
            ) from None
    return keys


def parse_blind_index_key(raw: str) -> bytes:
    """A 32-byte HMAC key written as 64 hex digits."""
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != BLIND_INDEX_KEY_BYTES:
        raise ConfigurationError(
            "BLIND_INDEX_KEY must be 64 hex digits (32 bytes). "
            "Make one with `python manage.py generate_keys`."
        )
    return key


# Django's own bar for a secret key (its check security.W009): shorter or plainer than this,
# and sessions, password-reset links and signed values are within reach of a guess.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
# 32 random bytes show about 30 different values; fewer than 16 is a key typed by hand.
BLIND_INDEX_KEY_MIN_UNIQUE = 16


def check_secret_key(secret_key: str) -> None:
    if len(secret_key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigurationError(
            f"SECRET_KEY is too short: use at least {SECRET_KEY_MIN_LENGTH} random characters."
        )
    if len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE or secret_key.startswith("django-insecure-"):
        raise ConfigurationError(
            "SECRET_KEY is not random enough (too few different characters, or Django's "
            "development key). Make one with `python manage.py generate_keys`."
        )


def check_keys_differ(secret_key: str, fernet_keys: list[str], blind_index_key: bytes) -> None:
    """Each key does one job: whoever learns a key for one job must not hold the others.

    (A Fernet key is 44 characters, so the length rule already keeps it out of SECRET_KEY.)
    """
    if secret_key.lower() == blind_index_key.hex():
        raise ConfigurationError(
            "SECRET_KEY equals BLIND_INDEX_KEY: give each its own key "
            "(`python manage.py generate_keys`)."
        )
    if any(base64.urlsafe_b64decode(key) == blind_index_key for key in fernet_keys):
        raise ConfigurationError(
            "BLIND_INDEX_KEY holds the same bytes as a FIELD_ENCRYPTION_KEY key: "
            "give each its own key (`python manage.py generate_keys`)."
        )


def parse_audit_keys(raw: str) -> list[bytes]:
    """Comma-separated 32-byte HMAC keys, newest first: the first links new audit events,
    the others verify the events linked before a rotation."""
    keys = []
    for position, item in enumerate((part.strip() for part in raw.split(",")), start=1):
        if not item:
            continue
        try:
            key = bytes.fromhex(item)
        except ValueError:
            key = b""
        if len(key) != BLIND_INDEX_KEY_BYTES or len(set(key)) < BLIND_INDEX_KEY_MIN_UNIQUE:
            raise ConfigurationError(
                f"AUDIT_KEY key #{position} is not 64 random hex digits (32 bytes). "
                "Make one with `python manage.py generate_keys`."
            )
        keys.append(key)
    if not keys:
        raise ConfigurationError("AUDIT_KEY is empty.")
    return keys


def check_audit_keys_differ(
    audit_keys: list[bytes], fernet_keys: list[str], blind_index_key: bytes
) -> None:
    """Whoever holds the database and one other key must not be able to re-link the audit
    chain: its key is its own."""
    others = {blind_index_key, *(base64.urlsafe_b64decode(key) for key in fernet_keys)}
    if any(key in others for key in audit_keys):
        raise ConfigurationError(
            "AUDIT_KEY holds the same bytes as BLIND_INDEX_KEY or a FIELD_ENCRYPTION_KEY "
            "key: give each its own key (`python manage.py generate_keys`)."
        )


def check_blind_index_key(key: bytes) -> None:
    if len(set(key)) < BLIND_INDEX_KEY_MIN_UNIQUE:
        raise ConfigurationError(
            "BLIND_INDEX_KEY is not random (all zeros, or a few digits repeated): anyone "
            "could compute the search indexes of a stolen database. Make one with "
            "`python manage.py generate_keys`."
        )


def check_allowed_hosts(hosts: list[str]) -> None:
    if "*" in hosts:
        raise ConfigurationError(
            "ALLOWED_HOSTS must not contain '*': list the host names this site answers."
        )


def check_database_owner(app: Mapping[str, Any], owner: Mapping[str, Any]) -> None:
    """DATABASE_OWNER_URL is the same PostgreSQL database as DATABASE_URL, logged in as
    another role: migrating some other database, or "restricting" the app to the owner
    itself, would leave the audit log as open as before while looking done."""
    postgresql = "django.db.backends.postgresql"
    if app["ENGINE"] != postgresql or owner["ENGINE"] != postgresql:
        raise ConfigurationError(
            "DATABASE_OWNER_URL is for PostgreSQL only, and DATABASE_URL must then be "
            "PostgreSQL too (postgres://user:pass@host:5432/name)."
        )
    if owner["NAME"] != app["NAME"]:
        raise ConfigurationError(
            f"DATABASE_OWNER_URL names the database {owner['NAME']!r}, DATABASE_URL "
            f"{app['NAME']!r}: both must name the one database the app uses."
        )
    if not owner["USER"] or owner["USER"] == app["USER"]:
        raise ConfigurationError(
            "DATABASE_OWNER_URL and DATABASE_URL must log in as two different roles: the "
            "owner of the tables, and the restricted role the app runs as."
        )


def parse_site_url(raw: str) -> str:
    """The https address people open the site at; links in e-mails start with it."""
    parts = urlsplit(raw)
    if not raw:
        raise ConfigurationError(
            "SITE_URL is not set: the https address of this site, for links in e-mails "
            "(https://cases.example.org)."
        )
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            f"SITE_URL must be an https address such as https://cases.example.org, not {raw!r}."
        )
    return raw.rstrip("/")


def generate_keys() -> dict[str, str]:
    return {
        "SECRET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(BLIND_INDEX_KEY_BYTES),
        "AUDIT_KEY": secrets.token_hex(BLIND_INDEX_KEY_BYTES),
    }


def load_embedded_secrets(path: Path) -> dict[str, str]:
    """Keys for the embedded default: made once, kept in ``var/`` readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not each write their own keys.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(generate_keys(), handle)
    for _attempt in range(50):
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError:
            # Another process created the file a moment ago and is still writing it.
            time.sleep(0.1)
            continue
        if set(generate_keys()) - set(stored):
            return _add_missing_keys(path)
        return stored
    raise ConfigurationError(f"{path} is not valid JSON; delete it to make new keys.")


def _add_missing_keys(path: Path) -> dict[str, str]:
    """A key this version needs and the file predates (AUDIT_KEY): made once and added,
    never replacing a key the stored data depends on. The lock keeps web and worker,
    starting together, from each adding their own."""
    with open(path, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        stored = json.load(handle)
        added = {name: value for name, value in generate_keys().items() if name not in stored}
        if added:
            stored.update(added)
            handle.seek(0)
            handle.truncate()
            json.dump(stored, handle)
            handle.flush()
            os.fsync(handle.fileno())
    return stored
