"""A dump of the database must not clone anybody's second factor."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AuthenticatorDevice
from tests.accounts.test_login import enrol
from tests.conftest import current_code

pytestmark = pytest.mark.django_db


def dump(*tables: str) -> str:
    text = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(text)


def test_dumped_device_tables_hold_no_usable_totp_secret_or_backup_code(client, volunteer):
    codes = enrol(client, volunteer)
    device = AuthenticatorDevice.objects.get(user=volunteer)
    rows = dump(
        AuthenticatorDevice._meta.db_table,
        "accounts_backupcodedevice",
        "accounts_backupcode",
    )
    assert device.key not in rows
    assert device.base32_secret not in rows
    assert device.base32_secret.lower() not in rows.lower()
    for code in codes:
        assert code not in rows
        assert code.replace("-", "") not in rows
    assert re.search(r"gAAAAA", rows)  # the secret is there, encrypted


def test_the_otp_admin_hides_device_secrets(settings):
    assert settings.OTP_ADMIN_HIDE_SENSITIVE_DATA is True


def test_the_stored_secret_still_verifies_after_a_reload(client, volunteer):
    enrol(client, volunteer)
    client.post(reverse("accounts:logout"))
    client.post(
        reverse("accounts:login"),
        {"username": volunteer.username, "password": "correct horse battery staple 42"},
    )
    device = AuthenticatorDevice.objects.get(user=volunteer)
    # The code of the next time step: newer than the one used at enrolment, within drift.
    response = client.post(
        reverse("accounts:verify"), {"code": current_code(device, offset_steps=1)}
    )
    assert response.status_code == 302
