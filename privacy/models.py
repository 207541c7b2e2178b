from django.db import models
from django.utils import timezone

from privacy.fields import EncryptedTextField

CANARY_TEXT = "safe-passage key canary"


class KeyCanary(models.Model):
    """A known text encrypted under the field key: if it does not decrypt, neither will
    anything else, and the app refuses to start rather than show ciphertext or write
    data under a key that cannot read the rest."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = EncryptedTextField()

    def __str__(self) -> str:
        return "key canary"


class BlindIndexKey(models.Model):
    """Which BLIND_INDEX_KEY the stored blind indexes are being, or were last, made with.

    Rows themselves tell whether they are current (recompute and compare), so a blind-index
    rotation resumes without this. What they cannot tell is whether an index row with no
    plaintext left to recompute it from is stale or current; only a rotation that found
    stale rows, or one an interrupted run started, may drop those. ``complete`` is False
    from the first stale batch of a rotation until the run that finishes it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # HMAC of a fixed label under the key: names the key without revealing it.
    fingerprint = models.CharField(max_length=64)
    complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "blind index key"
