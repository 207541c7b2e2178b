"""Every process checks the keys before it works: a real Celery worker and a real beat,
started on a wrong field, blind-index or audit key, leave non-zero before any task runs;
on the right keys the same worker starts. Against a real database on disk (the embedded
default, migrated here) and Celery's filesystem broker, as `make run` uses them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config.environment import generate_keys
from config.key_checks import EXIT_WRONG_KEY

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DATABASE_OWNER_URL", "CELERY_BROKER_URL"}
    }
    env.update(SAFE_PASSAGE_MODE="embedded", SAFE_PASSAGE_VAR_DIR=str(var_dir), **overrides)
    return env


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    """A migrated embedded database with data under every key: the key canary, a blind
    index key on record, and an audit event linked under AUDIT_KEY."""
    var_dir = tmp_path_factory.mktemp("var")
    env = embedded_env(var_dir)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input"], cwd=ROOT, env=env, check=True, timeout=300)
    subprocess.run(
        [*manage, "shell", "-c", "from audit.log import record, seal; record('login'); seal()"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    subprocess.run([*manage, "check"], cwd=ROOT, env=env, check=True, timeout=120)
    return var_dir


def celery(var_dir: Path, command: list[str], **overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *command, "--loglevel", "INFO"],
        cwd=ROOT,
        env=embedded_env(var_dir, **overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def worker(var_dir: Path, **overrides: str) -> subprocess.Popen:
    return celery(
        var_dir,
        ["worker", "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        **overrides,
    )


def beat(var_dir: Path, **overrides: str) -> subprocess.Popen:
    return celery(var_dir, ["beat", "--schedule", str(var_dir / "beat-schedule")], **overrides)


def wrong(name: str) -> str:
    return (
        Fernet.generate_key().decode()
        if name == "FIELD_ENCRYPTION_KEY"
        else (generate_keys()[name])
    )


def exited(process: subprocess.Popen, failure: str) -> str:
    """The output of a process that must stop by itself within 90 s."""
    try:
        return process.communicate(timeout=90)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{failure}:\n{process.communicate()[0][-3000:]}")


@pytest.mark.parametrize("key", ["FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "AUDIT_KEY"])
def test_a_worker_on_a_wrong_key_exits_before_any_task(var_dir, key):
    process = worker(var_dir, **{key: wrong(key)})
    output = exited(process, f"the worker kept running on a wrong {key}")
    assert process.returncode == EXIT_WRONG_KEY, output[-3000:]
    assert key in output
    assert "ready." not in output  # Celery's line once it takes tasks


def test_beat_on_a_wrong_audit_key_exits_before_it_schedules(var_dir):
    process = beat(var_dir, AUDIT_KEY=wrong("AUDIT_KEY"))
    output = exited(process, "beat kept running on a wrong AUDIT_KEY")
    assert process.returncode == EXIT_WRONG_KEY, output[-3000:]
    assert "AUDIT_KEY" in output


def test_the_same_worker_on_the_right_keys_starts(var_dir):
    """What makes the refusals above mean something: the keys in var/ are accepted, and a
    new audit key in front of the old one (a rotation) too."""
    keys = json.loads((var_dir / "secrets.json").read_text())
    rotated = f"{generate_keys()['AUDIT_KEY']},{keys['AUDIT_KEY']}"
    process = worker(var_dir, AUDIT_KEY=rotated)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "ready." in line:
                break
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert any("ready." in line for line in lines), output[-3000:]
    assert "refused to start" not in output
