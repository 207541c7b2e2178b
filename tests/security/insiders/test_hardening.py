"""Finding 8 of the insiders issue, replayed the way an insider (or whoever holds one
account, one form or one config file) would try it.

- a production started on keys that are guessable, reused or all zeros, on ALLOWED_HOSTS=*,
  or without an https SITE_URL refuses to start and names the variable;
"""

import base64
import binascii

import pytest
from cryptography.fernet import Fernet

from config.environment import generate_keys
from tests.config.test_settings import manage, production_env

# Production start-up -----------------------------------------------------------------------
_KEYS = generate_keys()
_FERNET = Fernet.generate_key().decode()


def _refused(name: str, **overrides: str) -> str:
    result = manage("check", env=production_env(**overrides))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert name in result.stderr, result.stderr
    return result.stderr


def test_production_refuses_a_secret_key_of_few_different_characters():
    _refused("SECRET_KEY", SECRET_KEY="ab" * 40)


def test_production_refuses_djangos_development_secret_key():
    _refused("SECRET_KEY", SECRET_KEY="django-insecure-" + _KEYS["SECRET_KEY"])


def test_production_refuses_an_encryption_key_as_secret_key():
    # 44 characters: the length rule catches it, and says which variable.
    _refused("SECRET_KEY", SECRET_KEY=_FERNET, FIELD_ENCRYPTION_KEY=_FERNET)


def test_production_refuses_a_secret_key_equal_to_the_blind_index_key():
    key = _KEYS["BLIND_INDEX_KEY"]
    stderr = _refused("SECRET_KEY", SECRET_KEY=key, BLIND_INDEX_KEY=key)
    assert "BLIND_INDEX_KEY" in stderr


def test_production_refuses_a_blind_index_key_holding_the_encryption_keys_bytes():
    same_bytes = binascii.hexlify(base64.urlsafe_b64decode(_FERNET)).decode()
    stderr = _refused("BLIND_INDEX_KEY", FIELD_ENCRYPTION_KEY=_FERNET, BLIND_INDEX_KEY=same_bytes)
    assert "FIELD_ENCRYPTION_KEY" in stderr


def test_production_refuses_an_all_zero_blind_index_key():
    _refused("BLIND_INDEX_KEY", BLIND_INDEX_KEY="0" * 64)


def test_production_refuses_allowed_hosts_star():
    _refused("ALLOWED_HOSTS", ALLOWED_HOSTS="casework.example.org,*")


def test_production_refuses_to_start_without_site_url():
    _refused("SITE_URL", SITE_URL=None)


@pytest.mark.parametrize(
    "value", ["http://casework.example.org", "casework.example.org", "https://", "https:///x"]
)
def test_production_refuses_a_site_url_that_is_not_https(value):
    _refused("SITE_URL", SITE_URL=value)
