"""Benchmark: the reminder dispatcher with 10,000 due among 100,000 pending, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage make bench-dispatcher

Builds a throw-away database (test_<name>), fills it with bulk inserts, times one dispatcher
run that sends everything due, then one tick with nothing due, and drops the database.
"""

import os
import statistics
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

PENDING = int(os.environ.get("BENCH_PENDING", 100_000))
DUE = int(os.environ.get("BENCH_DUE", 10_000))
CASES = 2_000


def fill() -> None:
    from accounts.models import Team, User
    from casework.models import Case, Person, Reminder, ReminderKind

    team = Team.objects.create(name="Bench")
    coordinator_group = Group.objects.get(name="coordinator")
    users = [User.objects.create_user(f"bench{n}", None) for n in range(10)]
    for user in users:
        user.teams.add(team)
    users[0].groups.add(coordinator_group)
    people = Person.objects.bulk_create(Person(codename=f"B-{n}") for n in range(CASES))
    cases = Case.objects.bulk_create(
        Case(reference=f"C-2026-{n:05d}", person=person, team=team, assignee=users[n % 10])
        for n, person in enumerate(people)
    )
    now = timezone.now()
    kinds = [ReminderKind.STAGE_OVERDUE, ReminderKind.FOLLOW_UP, ReminderKind.CROSSING_CHECK_IN]
    batch = []
    for n in range(PENDING):
        case = cases[n % CASES]
        kind = kinds[n % 3]
        batch.append(
            Reminder(
                kind=kind,
                due_at=now - timedelta(minutes=1) if n < DUE else now + timedelta(days=1),
                case=case,
                team=team,
                subject=case.reference,
                recipient=case.assignee if kind == ReminderKind.FOLLOW_UP else None,
                urgent=kind == ReminderKind.CROSSING_CHECK_IN,
            )
        )
        if len(batch) == 5_000:
            Reminder.objects.bulk_create(batch)
            batch = []
    Reminder.objects.bulk_create(batch)


def main() -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server: this benchmark is about its locks.")
        return 2
    from casework.scheduling import dispatch_due

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        fill()
        print(
            f"filled {PENDING:,} pending reminders ({DUE:,} due) in "
            f"{time.perf_counter() - started:.1f} s on {name}"
        )
        started = time.perf_counter()
        made = dispatch_due()
        busy = time.perf_counter() - started
        idle = []
        for _ in range(20):
            started = time.perf_counter()
            dispatch_due()
            idle.append(time.perf_counter() - started)
        print(f"dispatch of {DUE:,} due reminders: {busy:.2f} s, {len(made):,} notifications")
        print(
            f"idle tick (nothing due): median {statistics.median(idle) * 1000:.1f} ms, "
            f"max {max(idle) * 1000:.1f} ms over {len(idle)} ticks"
        )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
