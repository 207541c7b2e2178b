"""Where each benchmarked page's time goes, in process: template, SQL, and the rest.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench \\
    SAFE_PASSAGE_MODE=embedded SAFE_PASSAGE_VAR_DIR=var/bench/env \\
    python -m tests.bench.split [requests]

Uses the database `make bench` seeded and its GET pages (tests/bench/pages_size.py), sent
through Django's test client without a profiler:
- "template" is the wall time of the outermost template renders, without the queries
  they send (a list read lazily in a template);
- "sql" is the wall time of every query, from the cursor's call to its answer;
- "rest" is the remainder: middleware, the view, building queries and model instances.

"x floor if no template" is what the page would cost against the floor if its template
took no time at all (its queries still asked), a bound no template engine can beat.
"""

import sys
import time

from django.db import connection
from django.template.backends import django as django_backend

from tests.bench import pages_size


class Clock:
    """Wall time spent in template renders (outermost only) and in SQL."""

    def __init__(self):
        self.template = self.sql = self.sql_in_template = 0.0
        self._depth = 0

    def watch_templates(self):
        render = django_backend.Template.render
        clock = self

        def timed(template, *args, **kwargs):
            clock._depth += 1
            started = time.perf_counter()
            try:
                return render(template, *args, **kwargs)
            finally:
                clock._depth -= 1
                if not clock._depth:
                    clock.template += time.perf_counter() - started

        django_backend.Template.render = timed

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.sql += spent
            if self._depth:
                self.sql_in_template += spent


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    users = {
        username: pages_size.demo_user(username) for username in ("demo-coordinator", "demo-admin")
    }
    target = pages_size.targets(users["demo-coordinator"])
    clock = Clock()
    clock.watch_templates()
    rows = []
    for page in pages_size.pages(target):
        if page.get("kind", "get") != "get":
            continue
        if page["user"] not in users:
            users[page["user"]] = pages_size.demo_user(page["user"])  # made by `make bench`
        client = pages_size.verified_client(users[page["user"]])
        for _ in range(20):
            if client.get(page["path"], HTTP_HOST="127.0.0.1").status_code != 200:
                raise SystemExit(f"{page['name']}: the page did not answer 200")
        clock.template = clock.sql = clock.sql_in_template = 0.0
        with connection.execute_wrapper(clock):
            started = time.perf_counter()
            for _ in range(requests):
                client.get(page["path"], HTTP_HOST="127.0.0.1")
            total = time.perf_counter() - started
        each = 1000 / requests
        template = clock.template - clock.sql_in_template
        rows.append((page["name"], total * each, template * each, clock.sql * each))
    floor = rows[0][1]
    print(f"ms a request, in process, {requests} requests each")
    header = ("page", "total", "template", "sql", "rest", "x floor", "x floor if no template")
    print(f"{header[0]:26} " + " ".join(f"{h:>8}" for h in header[1:6]) + f" {header[6]:>23}")
    for name, total, template, sql in rows:
        print(
            f"{name:26} {total:8.2f} {template:8.2f} {sql:8.2f} {total - template - sql:8.2f}"
            f" {total / floor:8.2f} {(total - template) / floor:23.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
