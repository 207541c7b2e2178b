"""A worker that exits is started again, and one that loses its broker waits for it.

The operator's report: on a Redis outage the worker exited ("Unrecoverable error" from
kombu) and reminders stopped until someone restarted it by hand. Real processes here: the
`make run` script, bin/keep-running, a Celery worker, and a Redis server of the test's own
that it stops and starts again.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from tests.config.test_celery_worker import INHERITED_OUT, ROOT, client_app

STARTED = re.compile(r"keep-running: (?P<name>[^\n]*) started \(pid (?P<pid>\d+)\)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    return {
        **{name: value for name, value in os.environ.items() if name not in INHERITED_OUT},
        "SAFE_PASSAGE_MODE": "embedded",
        **extra,
    }


def wait_for(condition, timeout: float = 60, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    return None


def pids_started(log: Path) -> list[int]:
    text = log.read_text() if log.exists() else ""
    return [int(match["pid"]) for match in STARTED.finditer(text)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen) -> None:
    """Stops a process started in its own session, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def filesystem_app(var: Path) -> Celery:
    """A client of the filesystem broker a worker with SAFE_PASSAGE_VAR_DIR=var uses."""
    folder, results = var / "celery" / "queue", var / "results"
    for path in (folder, var / "celery" / "processed", results):
        path.mkdir(parents=True, exist_ok=True)
    return client_app(
        "filesystem://",
        f"file://{results}",
        broker_transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "processed_folder": str(var / "celery" / "processed"),
            "control_folder": str(folder.parent / "control"),
        },
    )


def test_keep_running_starts_a_killed_worker_again_and_stops_with_it(tmp_path):
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "supervisor.log"
    app = filesystem_app(tmp_path)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
    command += ["--queues", queue, "--without-heartbeat", "--without-gossip", "--without-mingle"]
    with log.open("w") as output:
        supervisor = subprocess.Popen(
            [str(ROOT / "bin" / "keep-running"), "test worker", *command],
            cwd=ROOT,
            env=environment(
                SAFE_PASSAGE_VAR_DIR=str(tmp_path),
                CELERY_RESULT_BACKEND=f"file://{tmp_path / 'results'}",
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert app.send_task("config.ping", queue=queue).get(timeout=60) == "pong"
        (first,) = pids_started(log)
        os.kill(first, signal.SIGKILL)

        assert app.send_task("config.ping", queue=queue).get(timeout=90) == "pong"
        first_again, second = pids_started(log)
        assert first_again == first and second != first
        assert "test worker exited with status 137" in log.read_text()
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
        stop_group(supervisor)
    assert "keep-running: test worker stopped" in log.read_text()
    assert not alive(second)


def test_keep_running_gives_up_on_a_worker_that_refuses_its_keys(tmp_path):
    """Status 78 (config/key_checks.py): starting it again would only be refused again."""
    result = subprocess.run(
        [str(ROOT / "bin" / "keep-running"), "refuser", "sh", "-c", "exit 78"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 78
    assert result.stderr.count("refuser started") == 1
    assert "not starting it again" in result.stderr


def test_make_runs_worker_is_started_again_when_it_dies(tmp_path):
    """`make run` ends in bin/run-embedded: its worker, killed, comes back by itself."""
    log = tmp_path / "log" / "celery.log"
    run = subprocess.Popen(
        [str(ROOT / "bin" / "run-embedded")],
        cwd=ROOT,
        env=environment(SAFE_PASSAGE_VAR_DIR=str(tmp_path), PORT=str(free_port())),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: pids_started(log)), "the worker never started"
        (worker,) = pids_started(log)
        os.kill(worker, signal.SIGKILL)
        restarted = wait_for(lambda: len(pids_started(log)) == 2 and pids_started(log))
        assert restarted, log.read_text()
        assert restarted[1] != worker and alive(restarted[1])
        assert "Celery worker exited with status 137" in log.read_text()
    finally:
        stop_group(run)


@pytest.mark.redis
def test_a_busy_worker_waits_out_a_redis_outage_and_takes_tasks_after_it(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; CI must install it")
        pytest.skip("redis-server is not installed")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen:
        redis = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(lambda: _answers(port), timeout=20), "the test's Redis did not start"
        return redis

    redis = start_redis()
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    with (tmp_path / "worker.log").open("w") as output:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1"),
                *("--include", "tests.config.slow_tasks", "--queues", queue, "--loglevel", "INFO"),
            ],
            cwd=ROOT,
            env=environment(
                SAFE_PASSAGE_VAR_DIR=str(tmp_path),
                CELERY_BROKER_URL=url,
                CELERY_RESULT_BACKEND=url,
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        app = client_app(url, url)
        assert app.send_task("config.ping", queue=queue).get(timeout=60) == "pong"
        app.send_task("tests.sleep", args=[4], queue=queue)
        time.sleep(1)  # busy with it
        redis.terminate()
        redis.wait(timeout=10)
        time.sleep(8)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        redis = start_redis()

        again = client_app(url, url)
        assert again.send_task("config.ping", queue=queue).get(timeout=90) == "pong"
        assert worker.poll() is None
        assert "Unrecoverable error" not in (tmp_path / "worker.log").read_text()
    finally:
        stop_group(worker)
        redis.terminate()
        redis.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_the_broker_is_waited_for_however_long_it_is_away(settings):
    # Celery's default gives up after 100 tries (about 45 minutes) and the worker exits.
    from config.celery import app

    assert app.conf.broker_connection_max_retries is None
    assert app.conf.broker_connection_retry_on_startup is True
