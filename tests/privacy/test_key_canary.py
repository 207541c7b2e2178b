"""Start-up refuses a FIELD_ENCRYPTION_KEY that cannot read what is stored."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.celery import refuse_a_key_that_cannot_read
from privacy.canary import assert_keys_work
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
        refuse_a_key_that_cannot_read()


def test_a_new_key_in_front_of_the_old_one_starts(settings):
    assert_keys_work()
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *settings.FIELD_ENCRYPTION_KEY]
    assert_keys_work()
    call_command("check")
