"""Start-up refuses a FIELD_ENCRYPTION_KEY that cannot read what is stored."""

import io
import secrets

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.key_checks import refuse_wrong_keys
from privacy.canary import assert_keys_work, check_blind_index_key
from privacy.models import CANARY_TEXT, KeyCanary

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_the_first_start_lays_the_canary():
    KeyCanary.objects.all().delete()
    assert_keys_work()
    assert KeyCanary.objects.get().token == CANARY_TEXT


def test_the_system_check_names_the_setting_on_a_wrong_key(settings):
    assert_keys_work()
    settings.FIELD_ENCRYPTION_KEY = [new_key()]
    with pytest.raises(SystemCheckError, match="FIELD_ENCRYPTION_KEY does not decrypt"):
        call_command("check")


def test_web_and_worker_refuse_to_start_on_a_wrong_key(settings):
    assert_keys_work()
    settings.FIELD_ENCRYPTION_KEY = [new_key()]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        assert_keys_work()
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        refuse_wrong_keys()


def test_a_new_key_in_front_of_the_old_one_starts(settings):
    assert_keys_work()
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *settings.FIELD_ENCRYPTION_KEY]
    assert_keys_work()
    call_command("check")


def stale_index_warnings() -> list[str]:
    return [message.id for message in check_blind_index_key() if message.id == "privacy.W002"]


def test_a_changed_blind_index_key_warns_until_the_indexes_are_rotated(settings):
    assert stale_index_warnings() == []  # the first start records the key in use
    settings.BLIND_INDEX_KEY = secrets.token_bytes(32)
    assert stale_index_warnings() == ["privacy.W002"]
    call_command("rotate_keys", "--blind-index", stdout=io.StringIO(), stderr=io.StringIO())
    assert stale_index_warnings() == []
