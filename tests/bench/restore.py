"""Benchmark: the restore drill at 10,000 cases on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage make bench-restore

Builds a throw-away database (test_<name>), fills it with `seed_demo --cases BENCH_CASES`
(bulk inserts: people with every encrypted field, cases, timelines, requests, reminders and
their audit events, sealed), then times `backup` into a temporary directory, `restore` into
a new database (<that name>_restored: loading, then its own checks: the manifest's state,
the keys, every encrypted value read, the audit chain verified), and, in the restored
database again, reading every encrypted value and verifying the audit chain on their own.
Drops both databases.
"""

import os
import shutil
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 10_000))


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    took = time.perf_counter() - started
    print(f"{label}: {took:.1f} s")
    return result, took


def create_database(name: str) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server for this benchmark.")
        return 2
    if settings.DATABASE_OWNER is not None:
        print("Run it as one role: DATABASE_URL alone, a role that may create databases.")
        return 2
    from audit.log import verify
    from operations.backup import backup_restore, backup_write, encrypted_values_read

    setup_test_environment()
    scratch = Path(tempfile.mkdtemp(prefix="bench-restore-"))
    # The throw-away chain's checkpoints and the demo password go with it, not into var/.
    settings.AUDIT_CHECKPOINT_DIR = scratch / "checkpoints"
    settings.VAR_DIR = scratch / "var"
    settings.VAR_DIR.mkdir()
    source = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    restored = f"{source}_restored"
    try:
        timed(
            f"seed_demo --cases {CASES:,}",
            lambda: call_command("seed_demo", cases=CASES, stdout=StringIO(), stderr=StringIO()),
        )
        manifest, _ = timed("backup", lambda: backup_write(directory=scratch / "backup"))
        rows = manifest.state.rows
        print(
            f"  {manifest.size / 1e6:,.1f} MB dump, {sum(rows.values()):,} rows, "
            f"{rows['casework_case']:,} cases, {rows['audit_accessevent']:,} audit events"
        )
        create_database(restored)
        connection.close()
        connection.settings_dict["NAME"] = restored
        try:
            result, _ = timed("restore", lambda: backup_restore(directory=scratch / "backup"))
            print(
                f"  loading {result.load_seconds:.1f} s, its checks {result.proof_seconds:.1f} s; "
                f"audit chain intact: {result.verification.intact}"
            )
            values, reading = timed("read every encrypted value", encrypted_values_read)
            print(f"  {values.values:,} values in {values.rows:,} rows, {values.fields} fields")
            verification, verifying = timed("verify the audit chain", verify)
            assert verification.intact, verification
            print(f"  {verification.checked:,} events")
            print(f"read + verify: {reading + verifying:.1f} s")
        finally:
            connection.close()
            connection.settings_dict["NAME"] = source
            drop_database(restored)
    finally:
        connection.creation.destroy_test_db(source, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
