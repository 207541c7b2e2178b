"""Backup codes short enough to copy by hand (16 characters of Crockford's base32), stored
as slow, salted hashes so that a stolen database cannot be guessed back into codes."""

import hashlib
import re
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import BackupCode, BackupCodeDevice
from accounts.second_factor import backup_codes_issue
from tests.accounts.test_device_storage import dump
from tests.conftest import verified_client
from tests.factories import PASSWORD, AuthenticatorFactory

LOGIN = reverse("accounts:login")
BACKUP = reverse("accounts:verify") + "?use=backup"
STEP_UP = reverse("accounts:step_up")
DASHBOARD = reverse("dashboard:home")
SHAPE = re.compile(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}")
# As the old codes were made: 24 characters of RFC 4648 base32, where o, i and l are letters.
LEGACY_CODE = "oil2-abcd-efgh-ijkl-mnop-qrs7"

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(volunteer):
    AuthenticatorFactory(user=volunteer)
    return volunteer


def signs_in(user, typed: str) -> bool:
    """Password, then the backup code form; True if the dashboard opens."""
    client = Client()
    assert client.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    client.post(BACKUP, {"code": typed})
    return client.get(DASHBOARD).status_code == 200


def with_zero_or_one(user) -> str:
    """A freshly issued code that holds a 0 or a 1, the digits a reader may take for letters."""
    for _ in range(20):  # ten codes lack both with a chance of 3 in 100,000
        for code in backup_codes_issue(user=user):
            if "0" in code or "1" in code:
                return code
    raise AssertionError("no code holds a 0 or a 1")


def misread(code: str) -> str:
    """The code as copied by someone who reads 0 as O and 1 as I or l."""
    return code.upper().replace("0", "O").replace("1", "I", 1).replace("1", "l")


def test_ten_distinct_codes_of_four_groups_of_four_without_ambiguous_letters(member):
    codes = backup_codes_issue(user=member)
    assert len(set(codes)) == 10
    assert all(SHAPE.fullmatch(code) for code in codes)
    assert not set("ilou") & set("".join(codes))
    assert BackupCode.objects.filter(device__user=member).values("digest").distinct().count() == 10


@pytest.mark.parametrize(
    "typing",
    [
        lambda code: code,
        lambda code: code.replace("-", ""),
        lambda code: " ".join(code.upper().split("-")),
        lambda code: f" {code.replace('-', ' - ')} ",
        misread,
    ],
    ids=["as shown", "no dashes", "capitals and spaces", "spaced dashes", "o for 0, i/l for 1"],
)
def test_a_new_code_signs_in_however_it_is_typed(member, typing):
    code = with_zero_or_one(member)
    assert signs_in(member, typing(code))


def test_a_used_code_is_refused(member):
    code = backup_codes_issue(user=member)[4]
    assert signs_in(member, code)
    assert not signs_in(member, code)
    assert not signs_in(member, code.upper().replace("-", ""))
    assert BackupCode.objects.filter(used_at__isnull=False).count() == 1


def test_the_step_up_page_takes_a_new_code_with_spaces(member):
    code = backup_codes_issue(user=member)[0]
    client = verified_client(member)
    typed = code.upper().replace("-", " ")
    response = client.post(STEP_UP, {"password": PASSWORD, "code": typed})
    assert response.status_code == 302
    again = verified_client(member).post(STEP_UP, {"password": PASSWORD, "code": typed})
    assert again.status_code == 400


def test_a_code_issued_before_still_signs_in_once_until_new_codes_are_issued(member):
    device = BackupCodeDevice.objects.create(user=member, name="backup codes", confirmed=True)
    for code in (LEGACY_CODE, LEGACY_CODE[::-1]):
        digest = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        BackupCode.objects.create(device=device, digest=digest)

    # Typed as before: its o, i and l are not read as digits.
    assert signs_in(member, LEGACY_CODE.upper().replace("-", " "))
    assert not signs_in(member, LEGACY_CODE)

    backup_codes_issue(user=member)
    assert not signs_in(member, LEGACY_CODE[::-1])


def test_the_database_holds_neither_the_codes_nor_their_plain_sha256(member):
    codes = backup_codes_issue(user=member)
    rows = dump("accounts_backupcodedevice", "accounts_backupcode").lower()
    for code in codes:
        plain = code.replace("-", "")
        assert code not in rows
        assert plain not in rows
        assert hashlib.sha256(plain.encode()).hexdigest() not in rows
        assert hashlib.sha256(code.encode()).hexdigest() not in rows
    # Salted: the same code hashes differently on another member's device.
    other = BackupCodeDevice(salt="another-salt")
    device = BackupCodeDevice.objects.get(user=member)
    assert device.code_hash(codes[0]) != other.code_hash(codes[0])
    assert signs_in(member, codes[0])


def test_codes_are_stored_with_argon2_in_production(production_hashers, member):
    """The suite hashes with MD5 for speed (tests/conftest.py); the deployment's list is
    under test here."""
    codes = backup_codes_issue(user=member)
    digests = list(BackupCode.objects.filter(device__user=member).values_list("digest", flat=True))
    assert len(digests) == 10
    assert all(digest.startswith("argon2$argon2id$") for digest in digests)
    assert signs_in(member, codes[-1].upper())


def test_a_typed_code_costs_one_hash_whichever_code_it_is(member):
    """One hash, then a lookup: the time taken does not tell which code matched."""
    codes = backup_codes_issue(user=member)
    for typed in (codes[0], codes[-1], "0000-0000-0000-0000"):
        with mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as encode:
            signs_in(member, typed)
        hashed = [call.args[1] for call in encode.call_args_list if call.args[1] != PASSWORD]
        assert len(hashed) == 1


def test_a_code_duplicated_within_a_device_is_refused_by_the_database(member):
    backup_codes_issue(user=member)
    row = BackupCode.objects.filter(device__user=member).first()
    with pytest.raises(IntegrityError):
        BackupCode.objects.create(device=row.device, digest=row.digest)


def test_wrong_codes_are_throttled_as_before(member):
    code = backup_codes_issue(user=member)[0]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            assert not signs_in(member, "0000-0000-0000-0000")
        assert not signs_in(member, code)  # right, but too soon after a burst
        clock.shift(2)
        assert signs_in(member, code)


MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"  # the members' passwords


class OlderPBKDF2(PBKDF2PasswordHasher):
    iterations = 1_000


class NewerPBKDF2(PBKDF2PasswordHasher):
    iterations = 2_000


def test_codes_keep_working_after_the_hash_parameters_change(member, settings):
    """A Django upgrade raises the work factor; codes issued before must still open."""
    settings.PASSWORD_HASHERS = [f"{__name__}.OlderPBKDF2", MD5]
    codes = backup_codes_issue(user=member)
    settings.PASSWORD_HASHERS = [f"{__name__}.NewerPBKDF2", f"{__name__}.OlderPBKDF2", MD5]
    assert not signs_in(member, "0000-0000-0000-0000")
    assert signs_in(member, codes[7].replace("-", ""))
    assert not signs_in(member, codes[7])
    assert BackupCode.objects.filter(used_at__isnull=False).count() == 1


def test_a_burst_of_wrong_backup_codes_says_to_wait_not_that_the_code_is_wrong(member):
    code = backup_codes_issue(user=member)[0]
    client = Client()
    client.post(LOGIN, {"username": member.username, "password": PASSWORD})
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(3):
            client.post(BACKUP, {"code": "0000-0000-0000-0000"})
        response = client.post(BACKUP, {"code": code})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 302
