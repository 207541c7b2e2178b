from django.db import models

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
