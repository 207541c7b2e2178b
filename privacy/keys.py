"""The field-encryption keys, read from settings on every use so rotation needs no restart."""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def crypter() -> MultiFernet:
    """The first key encrypts; every configured key is tried to decrypt."""
    return _crypter_for(tuple(settings.FIELD_ENCRYPTION_KEY))
