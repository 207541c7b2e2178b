"""Benchmark: verify_audit over a million events, and what auditing adds to a case page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage make bench-audit

Builds a throw-away database (test_<name>), writes BENCH_EVENTS events with bulk inserts and
seals them into the chain, times `audit.log.verify()`, then times the case-detail page
in-process with auditing on and with the audit write replaced by a no-op, and drops the
database.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", 1_000_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 300))


def fill_chain(count: int) -> float:
    """Writes `count` events as record() would, then seals them; returns the sealing time."""
    from audit.log import seal
    from audit.models import AccessEvent

    start = timezone.now() - timedelta(days=365)
    batch = []
    for number in range(1, count + 1):
        batch.append(
            AccessEvent(
                created_at=start + timedelta(seconds=number * 30),
                action="case_viewed",
                target_type="case",
                target_ref=f"C-2026-{number % 90000:05d}",
                team_id=1,
                source_network="203.0.113.0/24",
                request_id=f"{number:032x}",
            )
        )
        if len(batch) == 10_000:
            AccessEvent.objects.bulk_create(batch)
            batch = []
    AccessEvent.objects.bulk_create(batch)
    started = time.perf_counter()
    seal()
    return time.perf_counter() - started


def case_page_timings(audited: bool) -> list[float]:
    import casework.services.cases
    from accounts.roles import Role
    from casework.models import Case, Person
    from tests.conftest import verified_client
    from tests.factories import TeamFactory, UserFactory

    team = TeamFactory(name=f"Bench {audited}")
    coordinator = UserFactory(role=Role.COORDINATOR, teams=[team])
    person = Person.objects.create(codename=f"Bench-{audited}", legal_name="Benchmark Person")
    case = Case.objects.create(reference=f"C-2026-9{int(audited)}999", person=person, team=team)
    client = verified_client(coordinator)
    url = f"/cases/{case.reference}/"
    original = casework.services.cases.record
    if not audited:
        casework.services.cases.record = lambda *args, **kwargs: None
    try:
        client.get(url)  # warm up
        timings = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
    finally:
        casework.services.cases.record = original
    return timings


def main() -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server for this benchmark.")
        return 2
    from audit.log import verify

    setup_test_environment()
    # Checkpoints of this throw-away chain go with it, not into var/.
    settings.AUDIT_CHECKPOINT_DIR = Path(tempfile.mkdtemp(prefix="bench-checkpoints-"))
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        sealing = fill_chain(EVENTS)
        print(
            f"wrote {EVENTS:,} events in {time.perf_counter() - started:.1f} s, "
            f"of which sealing them into the chain {sealing:.1f} s"
        )
        started = time.perf_counter()
        result = verify()
        took = time.perf_counter() - started
        assert result.broken_seq is None, result
        print(
            f"verify_audit: {result.checked:,} events in {took:.1f} s "
            f"({result.checked / took:,.0f} events/s)"
        )
        with_audit = case_page_timings(audited=True)
        without = case_page_timings(audited=False)
        for label, values in (("with audit", with_audit), ("without audit", without)):
            values = sorted(values)
            print(
                f"case page {label}: p50 {statistics.median(values) * 1000:.2f} ms, "
                f"p95 {values[int(len(values) * 0.95)] * 1000:.2f} ms over {len(values)}"
            )
        overhead = statistics.median(with_audit) - statistics.median(without)
        print(f"audit overhead per case page (p50): {overhead * 1000:.2f} ms")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
