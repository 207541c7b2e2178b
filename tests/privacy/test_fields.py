"""Encrypted fields fail closed (issue: decryption oracle, wrong key, planted plaintext)."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, transaction
from django.forms import modelform_factory

from accounts.models import AuthenticatorDevice
from privacy import seal
from privacy.fields import DecryptionError, encrypt_bytes
from tests.factories import AuthenticatorFactory

pytestmark = pytest.mark.django_db


def stored_value(device) -> str:
    table = connection.ops.quote_name(AuthenticatorDevice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key FROM {table} WHERE id = %s", [device.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_a_pasted_token_is_refused_by_the_form_with_a_clear_message(volunteer):
    other = AuthenticatorFactory(user=volunteer)
    token = stored_value(other)
    form_class = modelform_factory(AuthenticatorDevice, fields=["key"])
    form = form_class(data={"key": token})
    assert not form.is_valid()
    assert "looks like encrypted data" in form.errors["key"][0]


def test_a_pasted_token_is_refused_by_model_validation(volunteer):
    token = stored_value(AuthenticatorFactory(user=volunteer))
    device = AuthenticatorDevice(user=volunteer, name="x", key=token)
    with pytest.raises(ValidationError, match="looks like encrypted data"):
        device.full_clean()


def test_a_token_is_never_decrypted_on_save(volunteer):
    original = AuthenticatorFactory(user=volunteer)
    token = stored_value(original)
    with pytest.raises(ValidationError), transaction.atomic():
        AuthenticatorDevice.objects.create(user=volunteer, name="copy", key=token)
    assert AuthenticatorDevice.objects.count() == 1


def test_a_token_inside_longer_text_is_refused_too(volunteer):
    token = stored_value(AuthenticatorFactory(user=volunteer))
    form = modelform_factory(AuthenticatorDevice, fields=["key"])(data={"key": f"see {token}"})
    assert not form.is_valid()


def test_ordinary_text_starting_like_a_token_is_accepted(volunteer):
    device = AuthenticatorFactory(user=volunteer, key="gAAAAA" + "0" * 20)
    device.refresh_from_db()
    assert device.key == "gAAAAA" + "0" * 20


def test_a_wrong_key_raises_instead_of_showing_ciphertext(volunteer, settings):
    device = AuthenticatorFactory(user=volunteer)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEY"):
        AuthenticatorDevice.objects.get(pk=device.pk)


def test_an_old_key_after_the_new_one_still_decrypts(volunteer, settings):
    device = AuthenticatorFactory(user=volunteer)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY]
    assert AuthenticatorDevice.objects.get(pk=device.pk).key == device.key


def test_plaintext_planted_by_sql_raises_on_read(volunteer):
    device = AuthenticatorFactory(user=volunteer)
    table = connection.ops.quote_name(AuthenticatorDevice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET key = %s WHERE id = %s", ["00" * 20, device.pk])  # noqa: S608
    with pytest.raises(DecryptionError):
        AuthenticatorDevice.objects.get(pk=device.pk)


def test_lookups_on_an_encrypted_field_are_refused(volunteer):
    device = AuthenticatorFactory(user=volunteer)
    with pytest.raises(FieldError, match="blind index"):
        list(AuthenticatorDevice.objects.filter(key=device.key))
    with pytest.raises(FieldError):
        list(AuthenticatorDevice.objects.filter(key__icontains="a"))
    assert AuthenticatorDevice.objects.filter(key__isnull=False).count() == 1


def test_the_column_holds_ciphertext_that_decrypts_to_the_value(volunteer):
    device = AuthenticatorFactory(user=volunteer)
    raw = stored_value(device)
    assert raw.startswith("gAAAAA")
    assert device.key not in raw
    fresh = encrypt_bytes(seal.wrap("accounts.authenticatordevice.key", device.seal, device.key))
    assert fresh != raw  # a fresh IV every time
