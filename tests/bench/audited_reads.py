"""Benchmark: do audited reads scale with concurrent clients, or queue on the audit log?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench_reads \\
        SAFE_PASSAGE_MODE=embedded .venv/bin/python -m tests.bench.audited_reads

Every case view appends an audit event. This measures, with 1, 4 and 16 concurrent
clients (BENCH_CLIENTS):

- **audit writes alone**: threads in this process, each with its own database connection,
  appending "case viewed" events as fast as they can; what the audit log itself allows,
  whatever the pages cost;
- **case views over HTTP**: gunicorn with one worker per client (at least 2), wrk with that
  many connections on one case-detail page, and the floor page (a signed-in page that
  reads nothing) under the same load, for what the machine allows without any audit.

The database is seeded with BENCH_CASES (1,000) cases once and kept. The machine is
shared: compare each row with the floor row beside it, not milliseconds across runs.
"""

import os
import sys
import threading
import time

import django

# The app with the floor page beside it (tests/bench/urls.py).
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.bench import pages_size  # noqa: E402

CLIENTS = [int(item) for item in os.environ.get("BENCH_CLIENTS", "1,4,16").split(",")]
SECONDS = int(os.environ.get("BENCH_SECONDS", 10))


def audit_writes(clients: int, seconds: float, reference: str, team_id: int) -> float:
    """Events appended per second by `clients` threads, each on its own connection."""
    from django.contrib.auth import get_user_model

    from audit.log import record
    from audit.models import Action
    from casework.models import Case

    actor = get_user_model().objects.get(username="demo-coordinator")
    case = Case.objects.get(reference=reference)
    counts = [0] * clients
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(clients)

    def write(slot: int) -> None:
        start.wait()
        try:
            while time.monotonic() < stop_at:
                record(
                    Action.CASE_VIEWED,
                    actor=actor,
                    target_type="case",
                    target_ref=case.reference,
                    team_id=team_id,
                )
                counts[slot] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main() -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database for this benchmark.")
        return 2
    pages_size.ensure_seeded()
    setup_test_environment()
    password = (settings.VAR_DIR / "demo-password").read_text().strip()
    user = pages_size.demo_user("demo-coordinator")
    target = pages_size.targets(user)
    from casework.models import Case

    team_id = Case.objects.get(reference=target["detail"]).team_id
    detail = {"name": "case detail", "path": f"/cases/{target['detail']}/"}
    floor = {"name": "floor", "path": "/bench/floor/"}
    rows = []
    for clients in CLIENTS:
        writes = audit_writes(clients, SECONDS, target["detail"], team_id)
        pages_size.WORKERS = max(2, clients)
        pages_size.CONNECTIONS = clients
        port = pages_size.free_port()
        server = pages_size.start_gunicorn(port)
        try:
            browser = pages_size.sign_in(port, user, password)
            measured = {}
            for page in (floor, detail):
                pages_size.load(port, page, browser, 2, target)
                measured[page["name"]] = pages_size.load(port, page, browser, SECONDS, target)
        finally:
            pages_size.stop(server)
        rows.append((clients, writes, measured["case detail"], measured["floor"]))
        pages_size.log(f"{clients} clients done")
    print(
        f"{'clients':>7} | {'audit writes/s':>14} | {'case views/s':>12} | "
        f"{'p50 ms':>7} | {'p95 ms':>7} | {'floor/s':>8} | {'errors':>6}"
    )
    for clients, writes, viewed, floor_page in rows:
        print(
            f"{clients:>7} | {writes:>14.0f} | {viewed['rps']:>12.1f} | {viewed['p50']:>7.1f} | "
            f"{viewed['p95']:>7.1f} | {floor_page['rps']:>8.1f} | {viewed['errors']:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
