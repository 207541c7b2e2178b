import uuid
from functools import cache

from django.apps import apps
from django.core import checks
from django.db import models
from django.utils import timezone

from privacy.fields import (
    ANOTHER_ROW,
    DecryptionError,
    EncryptedTextField,
    FailClosedMixin,
    encrypted_fields,
)
from privacy.seal import OPENED


class Sealed(models.Model):
    """A model with encrypted fields. Each row carries a random seal, made with the row and
    never changed, that its encrypted values are bound to (privacy.seal); loading a row
    checks that every encrypted value read was sealed for this row.

    A query that reads encrypted fields should read ``seal`` too: ``.only()`` without it
    costs one more query per row, to fetch the seal the values must match.
    """

    seal = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        _check_rows(instance)
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # A deferred encrypted field comes with the seal it must match, in the same query.
        if fields is not None and "seal" not in fields:
            names = {field.attname for field in _encrypted(type(self))}
            if names.intersection(fields):
                fields = [*fields, "seal"]
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


@cache
def _encrypted(model) -> tuple[FailClosedMixin, ...]:
    return encrypted_fields(model)


def _check_rows(instance: Sealed) -> None:
    """Compares the seal each loaded value was sealed with against the row's own, and
    keeps the plain value; raises DecryptionError, naming the row, at the first that
    belongs to another row."""
    loaded = instance.__dict__
    row = None
    for field in _encrypted(type(instance)):
        value = loaded.get(field.attname)
        if not isinstance(value, OPENED):
            continue  # not loaded, NULL, or blanked by a purge
        sealed_to = value.sealed_to
        if row is None:
            row = instance.seal  # a deferred seal is fetched here: one query
        if sealed_to != row:
            raise DecryptionError(
                f"{field.place} of row {instance.pk} holds a value {ANOTHER_ROW}.",
                place=field.place,
                problem=ANOTHER_ROW,
                pk=instance.pk,
                origin=(field.place, sealed_to),
            )
        loaded[field.attname] = value.plain()


@checks.register(checks.Tags.models)
def check_encrypted_models_are_sealed(app_configs=None, **kwargs):
    """An encrypted field on a model that is not Sealed would never have its row checked."""
    return [
        checks.Error(
            f"{model._meta.label} has encrypted fields but does not subclass "
            "privacy.models.Sealed.",
            id="privacy.E002",
        )
        for model in apps.get_models()
        if encrypted_fields(model) and not issubclass(model, Sealed)
    ]


CANARY_TEXT = "safe-passage key canary"


class KeyCanary(Sealed):
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
