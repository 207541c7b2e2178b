"""Checks at start-up that the keys fit the data already stored: FIELD_ENCRYPTION_KEY must
read it (an error), and BLIND_INDEX_KEY should be the one its indexes were made with (a
warning: search misses until `rotate_keys --blind-index` has run)."""

from django.core import checks
from django.db import DatabaseError, IntegrityError, connection, transaction

from privacy.blind_index import key_fingerprint
from privacy.fields import DOES_NOT_DECRYPT, DecryptionError
from privacy.models import CANARY_TEXT, BlindIndexKey, KeyCanary

WRONG_KEY = (
    "FIELD_ENCRYPTION_KEY does not decrypt the data already stored (the key canary). "
    "The key is wrong, or the key the data was written with was removed from the list: "
    "put it back, after the new one (keys are comma-separated, newest first)."
)
MOVED_CANARY = (
    "The key canary holds a value written around the application (moved there by SQL): "
    "FIELD_ENCRYPTION_KEY reads it, but someone with the database changed the row. Find out "
    "who; then delete the privacy_keycanary row, and the next start lays a new one."
)


def problem() -> str | None:
    """None when the configured keys read the canary; otherwise what is wrong."""
    if KeyCanary._meta.db_table not in connection.introspection.table_names():
        return None  # not migrated yet: nothing stored to protect
    try:
        canary = KeyCanary.objects.filter(id=1).first()
    except DecryptionError as error:
        return WRONG_KEY if error.problem == DOES_NOT_DECRYPT else MOVED_CANARY
    except DatabaseError:
        return None
    if canary is None:
        # First start: lay the canary. Web and worker may start together; one of them wins.
        try:
            with transaction.atomic():
                KeyCanary.objects.create(id=1, token=CANARY_TEXT)
        except IntegrityError:
            pass
        return None
    return None if canary.token == CANARY_TEXT else WRONG_KEY


STALE_INDEXES = (
    "BLIND_INDEX_KEY is not the key the stored blind indexes were made with, or their "
    "rotation has not finished: duplicate search misses people and requests until "
    "`python manage.py rotate_keys --blind-index` has run to the end."
)


def blind_index_problem() -> str | None:
    """None when the stored indexes were made with the configured key. The first start
    records that key: the indexes of a new database are all made with it."""
    if BlindIndexKey._meta.db_table not in connection.introspection.table_names():
        return None
    state = BlindIndexKey.objects.filter(id=1).first()
    if state is None:
        with transaction.atomic():
            BlindIndexKey.objects.get_or_create(
                id=1, defaults={"fingerprint": key_fingerprint(), "complete": True}
            )
        return None
    return None if state.complete and state.fingerprint == key_fingerprint() else STALE_INDEXES


WRONG_BLIND_INDEX_KEY = (
    "BLIND_INDEX_KEY is not the key the stored blind indexes were made with (nor the one a "
    "rotation is moving them to): every search and duplicate check would miss. Put the "
    "right key back, or run `python manage.py rotate_keys --blind-index` first."
)


def blind_index_key_problem() -> str | None:
    """Stricter than the warning above, for processes that write indexes (the worker):
    None unless the configured key is another key altogether; a rotation under way to
    this very key is fine."""
    if BlindIndexKey._meta.db_table not in connection.introspection.table_names():
        return None
    state = BlindIndexKey.objects.filter(id=1).first()
    if state is None or state.fingerprint == key_fingerprint():
        return None
    return WRONG_BLIND_INDEX_KEY


def assert_keys_work() -> None:
    """For process start (web and worker): refuse to run on a key that cannot read."""
    from django.core.exceptions import ImproperlyConfigured

    if message := problem():
        raise ImproperlyConfigured(message)


@checks.register(checks.Tags.security)
def check_field_key(app_configs=None, **kwargs):
    try:
        message = problem()
    except DatabaseError:
        return []  # no database to read yet; migrate will say so
    return [checks.Error(message, id="privacy.E001")] if message else []


@checks.register(checks.Tags.security)
def check_blind_index_key(app_configs=None, **kwargs):
    try:
        message = blind_index_problem()
    except DatabaseError:
        return []
    return [checks.Warning(message, id="privacy.W002")] if message else []
