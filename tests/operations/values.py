"""A digest of every encrypted value of every model, as the application reads it: the same
in the restored database as in the one backed up, or the restore lost or changed a value.
Run in the restore drill's child process too (`manage.py shell -c`)."""

import hashlib

from django.apps import apps

from privacy.fields import encrypted_fields


def encrypted_digest() -> str:
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda model: model._meta.label):
        names = [field.attname for field in encrypted_fields(model)]
        if not names:
            continue
        for row in model._base_manager.only("seal", *names).order_by("pk"):
            for name in names:
                digest.update(repr((model._meta.label, row.pk, name, getattr(row, name))).encode())
    return digest.hexdigest()


def models_without_encrypted_rows() -> list[str]:
    return [
        model._meta.label
        for model in apps.get_models()
        if encrypted_fields(model) and not model._base_manager.exists()
    ]
