"""Checks at start-up that FIELD_ENCRYPTION_KEY reads the data already stored."""

from django.core import checks
from django.db import DatabaseError, IntegrityError, connection, transaction

from privacy.fields import DecryptionError
from privacy.models import CANARY_TEXT, KeyCanary

WRONG_KEY = (
    "FIELD_ENCRYPTION_KEY does not decrypt the data already stored (the key canary). "
    "The key is wrong, or the key the data was written with was removed from the list: "
    "put it back, after the new one (keys are comma-separated, newest first)."
)


def problem() -> str | None:
    """None when the configured keys read the canary; otherwise what is wrong."""
    if KeyCanary._meta.db_table not in connection.introspection.table_names():
        return None  # not migrated yet: nothing stored to protect
    try:
        canary = KeyCanary.objects.filter(id=1).first()
    except DecryptionError:
        return WRONG_KEY
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
