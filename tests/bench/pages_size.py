"""One size of `make bench`: seed if needed, count queries, serve with gunicorn, load with wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench_small \\
    SAFE_PASSAGE_MODE=embedded BENCH_CASES=1000 python -m tests.bench.pages_size out.json

Run by tests/bench/pages.py, which picks the database and var folder and prints the table.
The database is kept between runs: seeding 100,000 cases takes minutes, so it happens once
(drop the database to reseed). Pages are measured as the demo users of the demo team,
signed in over HTTP with their password and a TOTP code, as a browser would.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import django

# The app with the floor pages beside it (tests/bench/urls.py), in process and in gunicorn.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.oath import totp  # noqa: E402

from accounts.middleware import mark_session_start  # noqa: E402
from accounts.models import AuthenticatorDevice, Team, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from casework.models import Case, Stage  # noqa: E402
from casework.workflow import OPEN_STAGES  # noqa: E402
from intake.models import IntakeRequest, TriageState  # noqa: E402
from operations.management.commands.seed_demo import DEMO_TEAM, team_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("BENCH_CASES", 1_000))
SECONDS = int(os.environ.get("BENCH_SECONDS", 10))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", 2))
# The floor measured again after each page, to read that page's ratios by (0: not at all).
FLOOR_SECONDS = int(os.environ.get("BENCH_FLOOR_SECONDS", 4))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 2))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
MOVE_CASES = 200
RISK_FILTER = "flag_dependants"
PAGE_SIZE = 25
# A coordinator of the demo team and the next: their lists merge two teams' rows, which a
# one-team coordinator's never do (PostgreSQL walks one team's index in order, not two).
TWO_TEAMS = "bench-two-teams"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def log(message: str) -> None:
    print(f"  [{CASES:,}] {message}", file=sys.stderr, flush=True)


# Data ----------------------------------------------------------------------------------


def ensure_seeded() -> float | None:
    """Migrates and seeds the database once; returns the seed time, None if it was there."""
    call_command("migrate", verbosity=0)
    if Case.objects.filter(team__name=DEMO_TEAM).exists():
        return None
    log(f"seeding {CASES:,} cases (once per database)")
    started = time.perf_counter()
    call_command("seed_demo", cases=CASES, seed=1)
    return time.perf_counter() - started


def demo_user(username: str) -> User:
    """A demo user with a confirmed authenticator, made here as enrolment would."""
    user = User.objects.get(username=username)
    if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        AuthenticatorDevice.objects.create(user=user, name="bench", confirmed=True)
    return user


def two_team_coordinator(password: str) -> User:
    """The TWO_TEAMS coordinator, made here once, with the demo users' password."""
    user = User.objects.filter(username=TWO_TEAMS).first()
    if user is None:
        user = User.objects.create_user(TWO_TEAMS, password)
        user.groups.add(Group.objects.get(name=Role.COORDINATOR))
        user.teams.add(*Team.objects.filter(name__in=[DEMO_TEAM, team_name(1)]))
    elif not user.check_password(password):
        user.set_password(password)
        user.save()
    return demo_user(TWO_TEAMS)


def last_page(cases) -> int:
    return max(1, -(-cases.filter(**{RISK_FILTER: True}).count() // PAGE_SIZE))


def targets(coordinator: User) -> dict:
    team_cases = Case.objects.filter(team__name=DEMO_TEAM)
    detail = team_cases.order_by("pk").first()
    repeat = (
        IntakeRequest.objects.filter(team__name=DEMO_TEAM, state=TriageState.NEW)
        .order_by("pk")
        .first()
    )
    return {
        "detail": detail.reference,
        "detail_events": detail.events.count(),
        "list_query": f"risk={RISK_FILTER}",
        "last_page": last_page(team_cases),
        "last_page_two_teams": last_page(
            Case.objects.filter(team__name__in=[DEMO_TEAM, team_name(1)])
        ),
        "request": repeat.reference,
    }


def move_cases(exclude: str) -> list[tuple[str, int, str, str]]:
    """Open or held cases of the demo team, for the stage-move load; read fresh each run."""
    rows = (
        Case.objects.filter(team__name=DEMO_TEAM, stage__in=[*OPEN_STAGES, Stage.ON_HOLD])
        .exclude(reference=exclude)
        .exclude(stage=Stage.ON_HOLD, held_from="")
        .order_by("pk")
        .values_list("reference", "version", "stage", "held_from")[:MOVE_CASES]
    )
    return [(ref, version, stage, held or "-") for ref, version, stage, held in rows]


def pages(target: dict) -> list[dict]:
    """What is measured, in table order; `user` is who asks, `kind` how (see pages.lua)."""
    case_list = f"/cases/?{target['list_query']}"
    return [
        {"name": "floor", "user": "demo-coordinator", "path": "/bench/floor/"},
        # Not a target: the app's layout with nothing in it, what every page starts from.
        {"name": "layout (empty page)", "user": "demo-coordinator", "path": "/bench/layout/"},
        {"name": "dashboard", "user": "demo-coordinator", "path": "/"},
        {"name": "case list p1", "user": "demo-coordinator", "path": case_list},
        {
            "name": "case list deep",
            "user": "demo-coordinator",
            "path": f"{case_list}&page={target['last_page']}",
        },
        {
            "name": f"case detail ({target['detail_events']} ev)",
            "user": "demo-coordinator",
            "path": f"/cases/{target['detail']}/",
        },
        {
            "name": "duplicate search",
            "user": "demo-coordinator",
            "path": f"/intake/{target['request']}/",
        },
        {
            "name": "intake submit",
            "user": "demo-coordinator",
            "path": "/intake/new/",
            "kind": "intake",
        },
        {"name": "stage move", "user": "demo-coordinator", "path": "", "kind": "move"},
        {"name": "dashboard (2 teams)", "user": TWO_TEAMS, "path": "/"},
        {"name": "case list p1 (2 teams)", "user": TWO_TEAMS, "path": case_list},
        {
            "name": "case list deep (2 teams)",
            "user": TWO_TEAMS,
            "path": f"{case_list}&page={target['last_page_two_teams']}",
        },
        {
            "name": "audit search",
            "user": "demo-admin",
            "path": "/audit/?" + urlencode({"actor": "demo-coordinator", "action": "case_moved"}),
        },
    ]


def received_at() -> str:
    return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


# Queries per page, in process ------------------------------------------------------------


def verified_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    mark_session_start(session)
    session.save()
    return client


def count_queries(page: dict, users: dict, target: dict) -> int:
    """SQL queries of one request, after a warm-up (the process's first caches filled).

    A stage move is counted both ways the load moves cases, onto hold and back off it,
    from every stage it moves (each case left as it was); the largest count is the page's.
    """
    client = verified_client(users[page["user"]])
    kind = page.get("kind", "get")
    if kind == "move":
        return max(count_moves(client, target))

    def send():
        if kind == "intake":
            data = {
                "channel": "phone",
                "received_at": received_at(),
                "contact": f"+7 912 {time.time_ns() % 1000:03d}-11-22",
                "message": "Benchmark request",
            }
            return client.post(page["path"], data)
        return client.get(page["path"])

    send()
    return counted(page["name"], send, 302 if kind != "get" else 200)


def counted(name: str, send, expected: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = send()
    if response.status_code != expected:
        raise SystemExit(f"{name}: in-process answer {response.status_code}")
    return len(queries)


def count_moves(client: Client, target: dict) -> list[int]:
    """One case of each stage the load moves, with and without a risk-register look-up, onto
    hold and back: what a move asks depends on the stage (leaving or entering one schedules
    or cancels its reminders) and on the case (the register is read for a wanted person
    with a destination)."""
    moved = [reference for reference, _version, _stage, _held in move_cases(target["detail"])]
    by_stage = {}
    for reference, stage, country, wanted in (
        Case.objects.filter(reference__in=moved)
        .exclude(stage=Stage.ON_HOLD)
        .order_by("reference")
        .values_list("reference", "stage", "destination_country", "flag_wanted")
    ):
        by_stage.setdefault((stage, bool(country) and wanted), reference)

    def move(reference: str, hold: bool):
        case = Case.objects.get(reference=reference)
        to_stage = Stage.ON_HOLD if hold else case.held_from
        data = {"version": case.version, "to_stage": to_stage, "reason": "Benchmark"}
        return lambda: client.post(f"/cases/{reference}/move/", data)

    first = next(iter(by_stage.values()))
    move(first, hold=True)()  # warm-up
    move(first, hold=False)()
    return [
        counted(f"stage move from {stage}", move(reference, hold), 302)
        for (stage, _looked_up), reference in sorted(by_stage.items())
        for hold in (True, False)
    ]


# Serving and signing in ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        f"--workers={WORKERS}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(100):
        try:
            status, _headers, _body = Browser(port).send("GET", "/account/login/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not answer within 20 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


class Browser:
    """Just enough of a browser: cookies, form posts with the CSRF token.

    The token lives in the session (CSRF_USE_SESSIONS), so it is read from the last page
    that had a form, as a browser does; signing in changes it.
    """

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""

    def send(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Sec-Fetch-Site": "same-origin"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.csrf_token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        result = (response.status, dict(response.getheaders()), response.read())
        connection.close()
        if token := CSRF_FIELD.search(result[2].decode("utf-8", errors="replace")):
            self.csrf_token = token[1]
        return result

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items() if value)


def fresh_code(user: User) -> str:
    """A code this device has not accepted yet (each is accepted once): waits a step if
    the last sign-in used the newest one."""
    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    while True:
        step = int(time.time()) // device.step
        drift = 0 if device.last_t < step else 1
        if device.last_t < step + drift:
            value = totp(device.bin_key, step=device.step, t0=0, digits=6, drift=drift)
            return f"{value:06d}"
        time.sleep(2)
        device.refresh_from_db()


def sign_in(port: int, user: User, password: str) -> Browser:
    """Password, then TOTP, over HTTP; stops at the first refusal so axes never locks."""
    browser = Browser(port)
    browser.send("GET", "/account/login/")
    status, headers, _ = browser.send(
        "POST", "/account/login/", {"username": user.username, "password": password}
    )
    if status != 302 or "/verify/" not in headers.get("Location", ""):
        raise SystemExit(f"{user.username}: password refused ({status}); check demo-password")
    browser.send("GET", headers["Location"])  # signing in gave the session a new token
    status, headers, _ = browser.send("POST", "/account/verify/", {"code": fresh_code(user)})
    if status != 302:
        raise SystemExit(f"{user.username}: TOTP code refused ({status})")
    status, _, _ = browser.send("GET", "/")
    if status != 200:
        raise SystemExit(f"{user.username}: dashboard answered {status} after sign-in")
    return browser


# Load ------------------------------------------------------------------------------------


def load(port: int, page: dict, browser: Browser, seconds: int, target: dict) -> dict:
    kind = page.get("kind", "get")
    env = {
        **os.environ,
        "BENCH_PATH": page["path"],
        "BENCH_KIND": kind,
        "BENCH_COOKIE": browser.cookie_header(),
        "BENCH_CSRF": browser.csrf_token,
        "BENCH_RECEIVED": received_at(),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as moves:
        if kind == "move":
            # A move wrk gave up on at the end of the last run may still be committing.
            time.sleep(1)
            for row in move_cases(target["detail"]):
                moves.write(" ".join(str(value) for value in row) + "\n")
        env["BENCH_MOVES"] = moves.name
    try:
        command = [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout=30s",
            "-s",
            str(ROOT / "tests" / "bench" / "pages.lua"),
            f"http://127.0.0.1:{port}",
        ]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(moves.name)
    line = next(row for row in output.splitlines() if row.startswith("{"))
    result = json.loads(line)
    seconds_run = result["duration_us"] / 1e6
    return {
        "requests": result["requests"],
        "rps": result["requests"] / seconds_run,
        "p50": result["p50"] / 1000,
        "p95": result["p95"] / 1000,
        "p99": result["p99"] / 1000,
        "errors": result["status_errors"] + result["socket_errors"],
    }


def main() -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database for this benchmark.")
        return 2
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk")
        return 2
    out = Path(sys.argv[1])
    seeded = ensure_seeded()
    # What autovacuum keeps true on a live database: current statistics, and a visibility
    # map that lets the planner answer counts from an index alone.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    setup_test_environment()  # the in-process client's host, and no real e-mail
    password = (settings.VAR_DIR / "demo-password").read_text().strip()
    users = {name: demo_user(name) for name in ("demo-coordinator", "demo-admin")}
    users[TWO_TEAMS] = two_team_coordinator(password)
    target = targets(users["demo-coordinator"])
    measured = pages(target)
    log("counting queries per page in process")
    for page in measured:
        page["queries"] = count_queries(page, users, target)
    port = free_port()
    log(f"gunicorn with {WORKERS} workers on 127.0.0.1:{port}")
    server = start_gunicorn(port)
    try:
        browsers = {name: sign_in(port, user, password) for name, user in users.items()}
        floor = measured[0]
        for page in measured:
            browser = browsers[page["user"]]
            if WARMUP_SECONDS:
                load(port, page, browser, WARMUP_SECONDS, target)
            log(f"{page['name']}: {SECONDS} s")
            page.update(load(port, page, browser, SECONDS, target))
            if page is not floor and FLOOR_SECONDS:
                # The floor again, right after the page: the ratio compares the two on the
                # machine as it was then. Measured once at the start, a shared machine that
                # slowed down or sped up later moved every ratio by up to a third.
                near = load(port, floor, browsers[floor["user"]], FLOOR_SECONDS, target)
                page["floor_p50"], page["floor_p95"] = near["p50"], near["p95"]
    finally:
        stop(server)
    result = {
        "cases": Case.objects.count(),
        "database": connection.settings_dict["NAME"],
        "seed_seconds": seeded,
        "seconds": SECONDS,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "target": target,
        "pages": measured,
    }
    out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
