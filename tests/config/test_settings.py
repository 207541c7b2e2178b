"""Start-up fails closed: production needs every key; the embedded default makes its own."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config.environment import (
    ConfigurationError,
    env_bool,
    generate_keys,
    load_embedded_secrets,
    parse_audit_keys,
    parse_blind_index_key,
    parse_fernet_keys,
)

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "SAFE_PASSAGE_MODE": "production",
        "DATABASE_URL": "sqlite:////tmp/safe-passage-settings-test.sqlite3",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "casework.example.org",
        "SITE_URL": "https://casework.example.org",
        **generate_keys(),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "BLIND_INDEX_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "ALLOWED_HOSTS",
    ],
)
def test_production_refuses_to_start_without_a_setting(missing):
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode == 2
    assert missing in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key"),
        ("BLIND_INDEX_KEY", "abc123"),
        ("SECRET_KEY", "short"),
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "nosuchdb://x"),
    ],
)
def test_production_refuses_a_malformed_setting(name, value):
    result = manage("check", env=production_env(**{name: value}))
    assert result.returncode == 2
    assert name in result.stderr


APP_URL = "postgres://safe_passage_app:secret@db.internal:5432/safe_passage"


@pytest.mark.parametrize(
    ("database_url", "owner_url", "says"),
    [
        ("sqlite:////tmp/x.sqlite3", "postgres://owner@db.internal/safe_passage", "PostgreSQL"),
        (APP_URL, "postgres://owner@db.internal:5432/elsewhere", "'elsewhere'"),
        (APP_URL, "postgres://safe_passage_app@db.internal:5432/safe_passage", "two different"),
        (APP_URL, "nosuchdb://x", "malformed"),
    ],
    ids=["not-postgresql", "another-database", "same-role", "malformed"],
)
def test_production_refuses_an_owner_url_that_restricts_nothing(database_url, owner_url, says):
    env = production_env(DATABASE_URL=database_url, DATABASE_OWNER_URL=owner_url)
    result = manage("check", env=env)
    assert result.returncode == 2
    assert "DATABASE_OWNER_URL" in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_with_production_settings_prints_no_warnings():
    result = manage("check", "--deploy", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_generate_keys_works_without_any_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "generate_keys"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
    assert set(values) == {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "AUDIT_KEY"}
    parse_fernet_keys(values["FIELD_ENCRYPTION_KEY"])
    parse_blind_index_key(values["BLIND_INDEX_KEY"])
    parse_audit_keys(values["AUDIT_KEY"])


def test_audit_key_is_required_well_formed_and_its_own():
    keys = generate_keys()
    for bad in ("", "abc", "00" * 32, keys["BLIND_INDEX_KEY"] + ",zz"):
        result = manage("check", env={**production_env(), "AUDIT_KEY": bad})
        assert result.returncode != 0
        assert "AUDIT_KEY" in result.stderr
    reused = production_env()
    reused["AUDIT_KEY"] = reused["BLIND_INDEX_KEY"]
    result = manage("check", env=reused)
    assert result.returncode != 0
    assert "AUDIT_KEY holds the same bytes" in result.stderr


def test_audit_keys_rotate_newest_first():
    new, old = generate_keys()["AUDIT_KEY"], generate_keys()["AUDIT_KEY"]
    assert parse_audit_keys(f"{new}, {old}") == [bytes.fromhex(new), bytes.fromhex(old)]


def test_an_embedded_keys_file_from_before_the_audit_key_gains_one(tmp_path):
    """`make run` on an existing var/ must not lose the field key the data is under."""
    path = tmp_path / "var" / "secrets.json"
    older = {name: value for name, value in generate_keys().items() if name != "AUDIT_KEY"}
    path.parent.mkdir()
    path.write_text(json.dumps(older))
    path.chmod(0o600)
    loaded = load_embedded_secrets(path)
    assert {name: loaded[name] for name in older} == older
    parse_audit_keys(loaded["AUDIT_KEY"])
    assert load_embedded_secrets(path) == loaded
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_debug_is_off_unless_asked_for(settings, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    assert env_bool("DEBUG", False) is False
    assert settings.DEBUG is False


def test_several_encryption_keys_are_accepted_for_rotation():
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    assert len(parse_fernet_keys(keys)) == 2


def test_a_bad_second_key_is_named_by_position():
    with pytest.raises(ConfigurationError, match="#2"):
        parse_fernet_keys(f"{Fernet.generate_key().decode()},oops")


def test_embedded_keys_are_made_once_and_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "var" / "secrets.json"
    first = load_embedded_secrets(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_embedded_secrets(path) == first
    parse_fernet_keys(first["FIELD_ENCRYPTION_KEY"])


def test_the_keys_file_is_never_committed():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/var/" in ignored
