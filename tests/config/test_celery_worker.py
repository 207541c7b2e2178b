"""A real Celery worker process takes a task: through Redis, and through the filesystem
broker that `make run` uses. Not eager mode: a separate process, a real broker."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CELERY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2):
            return True
    except OSError:
        return False


# Celery lets these variables override any broker given in code; the worker and the
# sending app get exactly the broker each test names.
INHERITED_OUT = {
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
}


def client_app(broker: str, backend: str, **options) -> Celery:
    return Celery(
        broker=broker,
        backend=backend,
        broker_read_url=broker,
        broker_write_url=broker,
        **options,
    )


def start_worker(env: dict[str, str], queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={
            **{name: value for name, value in os.environ.items() if name not in INHERITED_OUT},
            "SAFE_PASSAGE_MODE": "embedded",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(worker: subprocess.Popen) -> str:
    worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    return output


def ping_through(app: Celery, queue: str, worker: subprocess.Popen) -> tuple[str, str]:
    """Sends the ping and returns (answer, worker output); the output explains a silence."""
    try:
        answer = app.send_task("config.ping", queue=queue).get(timeout=60)
    except Exception:
        pytest.fail(f"no answer from the worker; it said:\n{stop(worker)}")
    return answer, stop(worker)


@pytest.mark.redis
def test_a_worker_takes_a_task_through_redis(tmp_path):
    if not redis_reachable(REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must start it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    worker = start_worker(
        {
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_RESULT_BACKEND": REDIS_URL,
            "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
        },
        queue,
    )
    app = client_app(REDIS_URL, REDIS_URL)
    answer, output = ping_through(app, queue, worker)
    assert answer == "pong"
    assert "config.ping" in output
    assert "succeeded" in output


def test_a_worker_takes_a_task_through_the_filesystem_broker(tmp_path):
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    results = tmp_path / "results"
    results.mkdir()
    worker = start_worker(
        {"SAFE_PASSAGE_VAR_DIR": str(tmp_path), "CELERY_RESULT_BACKEND": f"file://{results}"},
        queue,
    )
    folder = tmp_path / "celery" / "queue"
    processed = tmp_path / "celery" / "processed"
    for path in (folder, processed):
        path.mkdir(parents=True, exist_ok=True)
    app = client_app(
        "filesystem://",
        f"file://{results}",
        broker_transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "processed_folder": str(processed),
            "control_folder": str(folder.parent / "control"),
        },
    )
    answer, output = ping_through(app, queue, worker)
    assert answer == "pong"
    assert "succeeded" in output
    # Exchange tables stay under var/, never in the working directory beside the code.
    assert list((tmp_path / "celery" / "control").glob("*.exchange"))
