"""Where a benchmarked page spends its time, in process, with cProfile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench \\
    SAFE_PASSAGE_MODE=embedded SAFE_PASSAGE_VAR_DIR=var/bench/env \\
    python -m tests.bench.profile "case list p1" [requests] [sort]

Uses the database `make bench` seeded and the same pages (tests/bench/pages_size.py). It
sends each request through Django's test client, so the figures include the middleware
and the template but not gunicorn; what it prints is for finding the cost, `make bench`
is for measuring it.
"""

import cProfile
import pstats
import sys
import time

from tests.bench import pages_size


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "floor"
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    sort = sys.argv[3] if len(sys.argv) > 3 else "tottime"
    users = {
        username: pages_size.demo_user(username) for username in ("demo-coordinator", "demo-admin")
    }
    target = pages_size.targets(users["demo-coordinator"])
    listed = pages_size.pages(target)
    # The exact name, else the first page whose name starts with it ("case detail").
    page = next((page for page in listed if page["name"] == name), None) or next(
        (page for page in listed if page["name"].startswith(name)), None
    )
    if page is None:
        raise SystemExit(f"no page named {name!r}: {', '.join(p['name'] for p in listed)}")
    if page.get("kind", "get") != "get":
        raise SystemExit("profile GET pages only; the writes change the database")
    if page["user"] not in users:
        users[page["user"]] = pages_size.demo_user(page["user"])  # made by `make bench`
    client = pages_size.verified_client(users[page["user"]])

    def send():
        # Not setup_test_environment(): it times every template render. The host is one
        # the embedded mode allows.
        return client.get(page["path"], HTTP_HOST="127.0.0.1")

    if send().status_code != 200:
        raise SystemExit(f"{name}: the page did not answer 200")
    for _ in range(20):
        send()
    started = time.perf_counter()
    for _ in range(requests):
        send()
    each = (time.perf_counter() - started) / requests * 1000
    print(f"{name}: {each:.2f} ms a request, unprofiled, in process")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        send()
    profile.disable()
    pstats.Stats(profile).sort_stats(sort).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
