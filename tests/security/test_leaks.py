"""After a journey through the app with known fake people, none of their details is found
where the adversary looks: a raw database dump, the logs, the broker's messages, e-mails,
sessions, cookies, the cache, page titles and links, or the admins' pages.

The journey goes through the real views (and the Celery dispatcher, as beat runs it), with
a unique marker word in every personal value so that a hit cannot be a coincidence. Values
are also looked for lower-cased and in their normalised forms (digits-only phone, E.164,
handle without "@", the name as the blind index folds it).
"""

import logging
import os
import re
import secrets
import shutil
import sqlite3
import string
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import kombu.pools
import pytest
import time_machine
from celery.signals import before_task_publish
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from faker import Faker

from casework.models import NOTIFICATION_KINDS, Case, Reminder, ReminderKind
from config.celery import app as celery_app
from intake.models import IntakeRequest
from privacy.normalise import normalise_name, normalise_name_birth, normalise_phone
from tests.config.test_celery_worker import redis_reachable
from tests.security.conftest import World, build_world

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("SECURITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
LOGGERS = ("", "django", "celery", "kombu", "casework", "intake", "accounts", "audit", "privacy")
LOGGERS += ("axes", "django_otp", "py.warnings")


def marker() -> str:
    return "Qz" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def russian_mobile() -> str:
    while True:
        digits = "9" + "".join(secrets.choice(string.digits) for _ in range(9))
        typed = f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
        if normalise_phone(typed):
            return typed


def seeded_values() -> dict[str, str]:
    fake = Faker("ru_RU")

    def sentence() -> str:
        return f"{marker()} {fake.sentence(nb_words=6)}"

    return {
        "legal_name": f"{fake.last_name()} {marker()} {fake.first_name()}",
        "birth_date": "1987-03-14",
        "phone": russian_mobile(),
        "handle": f"@{marker().lower()}_{secrets.randbelow(900) + 100}",
        "email": f"{marker().lower()}.{secrets.randbelow(900) + 100}@example.org",
        "current_location": f"{fake.city()}, {marker()} {fake.street_name()}",
        "military_unit": f"{marker()} {secrets.randbelow(90000) + 10000}",
        "notes": sentence(),
        "message": sentence(),
        "second_message": sentence(),
        "third_message": sentence(),
        "route_summary": sentence(),
        "note": sentence(),
        "check_in": sentence(),
        "follow_up_note": sentence(),
        "snooze_reason": sentence(),
        "move_reason": sentence(),
        "rejection_reason": sentence(),
        "break_glass_reason": sentence(),
        "legal_hold_reason": sentence(),
        "volunteer_email": f"{marker().lower()}@example.net",
    }


def needles(values: dict[str, str]) -> dict[str, str]:
    """Every form in which a value could leak -> the label of the value, all lower-cased."""
    found: dict[str, str] = {}

    def add(text: str, label: str) -> None:
        if text and len(text) >= 6:
            found[text.lower()] = label

    for label, value in values.items():
        add(value, label)
        for word in re.findall(r"Qz[a-z]{10}", value, flags=re.IGNORECASE):
            add(word, f"{label} (marker)")
    phone = normalise_phone(values["phone"])
    add(phone, "phone (E.164)")
    add(phone.lstrip("+"), "phone (digits)")
    add("8" + phone[2:], "phone (national)")
    add(phone[2:], "phone (ten digits)")
    add(values["handle"].lstrip("@"), "handle (bare)")
    add(values["email"].split("@")[0], "e-mail (local part)")
    add(normalise_name(values["legal_name"]), "legal name (normalised)")
    birth = date.fromisoformat(values["birth_date"])
    add(normalise_name_birth(values["legal_name"], birth), "name and birth (normalised)")
    add(birth.strftime("%d.%m.%Y"), "birth date (dotted)")
    return found


def leaks(text: str, wanted: dict[str, str]) -> list[str]:
    haystack = text.lower()
    return sorted({label for needle, label in wanted.items() if needle in haystack})


@dataclass
class Journey:
    world: World
    values: dict[str, str]
    needles: dict[str, str]
    case: Case
    responses: list[tuple[str, str, object]] = field(default_factory=list)  # role, url, resp
    published: list[dict] = field(default_factory=list)
    broker_raw: list[bytes] = field(default_factory=list)
    broker: str = ""

    def visit(self, role: str, method: str, url: str, data: dict | None = None, status=None):
        client = self.world.clients[role]
        response = client.get(url, data or {}) if method == "GET" else client.post(url, data or {})
        if getattr(response, "streaming", False):
            response.content_text = b"".join(response.streaming_content).decode()
        else:
            response.content_text = response.content.decode(errors="replace")
        if status is not None:
            assert response.status_code == status, f"{method} {url}: {response.status_code}"
        self.responses.append((role, url, response))
        return response


# Capturing the broker --------------------------------------------------------------------


@pytest.fixture
def broker(monkeypatch):
    """Publishing goes to Redis db 7 (under a key prefix of this test) or, without Redis,
    to memory: never to the filesystem queue under var/ that `make run` works from."""
    url = REDIS_URL if redis_reachable(REDIS_URL) else "memory://"
    prefix = f"sp-security-{uuid.uuid4().hex[:8]}:"
    saved = {
        name: celery_app.conf.get(name)
        for name in ("broker_url", "broker_write_url", "broker_transport_options")
    }
    monkeypatch.setenv("CELERY_BROKER_URL", url)

    def reset_pools():
        # kombu keeps its pools in global registries: closing one in place leaves a closed
        # pool there for the next test of the process; reset() closes and forgets them all.
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_pools()
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = url
    celery_app.conf.broker_transport_options = {"global_keyprefix": prefix}
    if url.startswith("redis://"):  # a test that changed the conf carelessly shows here
        assert celery_app.connection_for_write().transport_options == {"global_keyprefix": prefix}
    yield url, prefix
    reset_pools()
    for name, value in saved.items():
        celery_app.conf[name] = value
    if url.startswith("redis://"):
        import redis

        server = redis.Redis.from_url(url)
        keys = list(server.scan_iter(f"{prefix}*"))
        if keys:
            server.delete(*keys)


def read_redis(url: str, prefix: str) -> list[bytes]:
    import redis

    server = redis.Redis.from_url(url)
    raw = []
    for key in server.scan_iter(f"{prefix}*"):
        kind = server.type(key)
        if kind == b"list":
            raw += server.lrange(key, 0, -1)
        elif kind == b"set":
            raw += list(server.smembers(key))
        elif kind == b"string":
            raw.append(server.get(key))
        elif kind == b"hash":
            raw += [b"%s=%s" % pair for pair in server.hgetall(key).items()]
        elif kind == b"zset":
            raw += server.zrange(key, 0, -1)
    return raw


# The journey -----------------------------------------------------------------------------


def reference_from(response) -> str:
    return urlsplit(response["Location"]).path.strip("/").split("/")[-1]


def now_field(delta=timedelta()) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def walk_the_journey(journey: Journey) -> None:
    v = journey.values
    go = journey.visit
    # A volunteer logs a request by phone, opens its page and accepts it: a case for them.
    go("volunteer_a", "GET", "/intake/new/", status=200)
    go(
        "volunteer_a",
        "POST",
        "/intake/new/",
        {
            "channel": "phone",
            "received_at": now_field(),
            "contact": v["phone"],
            "message": v["message"],
        },
        status=302,
    )
    first = IntakeRequest.objects.filter(channel="phone").latest("pk")
    go("volunteer_a", "GET", "/intake/", status=200)
    go("volunteer_a", "GET", f"/intake/{first.reference}/", status=200)
    accepted = go("volunteer_a", "POST", f"/intake/{first.reference}/", {"action": "accept"}, 302)
    case = Case.objects.get(reference=reference_from(accepted))
    journey.case = case
    c = f"/cases/{case.reference}"
    go("volunteer_a", "GET", f"{c}/", status=200)
    go("volunteer_a", "GET", f"{c}/edit/", status=200)
    person = {
        name: v[name] for name in ("legal_name", "birth_date", "phone", "email", "current_location")
    }
    person |= {"military_unit": v["military_unit"], "notes": v["notes"]}
    person["messenger_handles"] = v["handle"]
    edit = {f"person-{name}": value for name, value in person.items()}
    edit |= {"person-preferred_language": "ru", "person-category": "mobilised"}
    edit |= {"case-route_summary": v["route_summary"], "case-destination_country": "GE"}
    # A typo first: the refused form goes back (400) and nothing is logged about it.
    go("volunteer_a", "POST", f"{c}/edit/", {**edit, "version": 2, "person-email": "x@"}, 400)
    case.refresh_from_db()
    go("volunteer_a", "POST", f"{c}/edit/", {**edit, "version": case.version}, 302)
    go("volunteer_a", "POST", f"{c}/timeline/", {"kind": "note", "text": v["note"]}, 302)
    go("volunteer_a", "POST", f"{c}/timeline/", {"kind": "check_in", "text": v["check_in"]}, 302)
    go(
        "volunteer_a",
        "POST",
        f"{c}/follow-up/",
        {"due_at": now_field(timedelta(days=1)), "note": v["follow_up_note"]},
        302,
    )
    reminder = Reminder.objects.filter(case=case, kind=ReminderKind.FOLLOW_UP).latest("pk")
    go(
        "volunteer_a",
        "POST",
        f"{c}/reminders/{reminder.pk}/",
        {"action": "snooze", "until": now_field(timedelta(days=2)), "reason": v["snooze_reason"]},
        302,
    )
    case.refresh_from_db()
    go(
        "volunteer_a",
        "POST",
        f"{c}/move/",
        {"version": case.version, "to_stage": "on_hold", "reason": v["move_reason"]},
        302,
    )
    go("volunteer_a", "GET", f"{c}/", status=200)
    # A second request, by handle, rejected with a reason.
    go(
        "volunteer_a",
        "POST",
        "/intake/new/",
        {
            "channel": "telegram",
            "received_at": now_field(),
            "contact": v["handle"],
            "message": v["second_message"],
        },
        302,
    )
    second = IntakeRequest.objects.filter(channel="telegram").latest("pk")
    go("volunteer_a", "GET", f"/intake/{second.reference}/", status=200)
    go(
        "volunteer_a",
        "POST",
        f"/intake/{second.reference}/",
        {"action": "reject", "reason": v["rejection_reason"]},
        302,
    )
    go("volunteer_a", "GET", "/intake/R-2026-99999/", status=404)
    go("volunteer_a", "GET", "/audit/", status=403)
    # E-mail copies of notifications, to the volunteer's own address.
    go(
        "volunteer_a",
        "POST",
        "/account/",
        {
            "email_notifications": "on",
            "notification_email": v["volunteer_email"],
            "email_kinds": [kind for kind, _label in NOTIFICATION_KINDS],
        },
        302,
    )
    go("volunteer_a", "GET", "/account/", status=200)
    # Coordinator B opens the case with break-glass, then logs and holds one of their own.
    go(
        "coordinator_b",
        "POST",
        "/cases/break-glass/",
        {"reference": case.reference, "reason": v["break_glass_reason"]},
        302,
    )
    go("coordinator_b", "GET", f"{c}/", status=200)
    go(
        "coordinator_b",
        "POST",
        "/intake/new/",
        {
            "channel": "email",
            "received_at": now_field(),
            "contact": v["email"],
            "message": v["third_message"],
        },
        302,
    )
    third = IntakeRequest.objects.filter(channel="email").latest("pk")
    # The e-mail matches team A's case (a match elsewhere): a new case needs the confirmation.
    held = go(
        "coordinator_b",
        "POST",
        f"/intake/{third.reference}/",
        {"action": "accept", "confirm_new": "on"},
        302,
    )
    d = f"/cases/{reference_from(held)}"
    go(
        "coordinator_b",
        "POST",
        f"{d}/legal-hold/",
        {"action": "set", "reason": v["legal_hold_reason"]},
        302,
    )
    go("coordinator_b", "GET", f"{d}/", status=200)
    # What beat sends, then the dispatcher a month on: notifications, and e-mail tasks.
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        celery_app.send_task(entry["task"])
    from casework.tasks import dispatch_reminders, send_due_emails

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        dispatch_reminders.apply()
        send_due_emails.apply()
    go("volunteer_a", "GET", "/inbox/", status=200)
    go("volunteer_a", "GET", "/", status=200)
    go("coordinator_b", "GET", "/inbox/", status=200)
    # The admins' pages: no personal data by default.
    for url in ("/", "/audit/", "/audit/alerts/", "/account/members/", "/health/", "/inbox/"):
        go("admin", "GET", url, status=200)
    go("admin", "GET", "/audit/export.csv", status=200)
    go("admin", "GET", "/access-changes/", status=200)


@pytest.fixture
def journey(caplog, capfd, broker) -> Journey:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    values = seeded_values()
    journey = Journey(build_world(), values, needles(values), case=None, broker=broker[0])

    def record(sender=None, body=None, headers=None, properties=None, **kwargs):
        args = body[0] if isinstance(body, list | tuple) and body else []
        journey.published.append(
            {
                "task": (headers or {}).get("task", sender),
                "args": list(args),
                "raw": repr((headers, body, properties, kwargs.get("routing_key"))),
            }
        )

    before_task_publish.connect(record, weak=False)
    # Every query and its parameters logged too, as DEBUG=True would: nothing is looked up
    # or written in clear, so the SQL log must be as blank as the rest.
    connection.force_debug_cursor = True
    try:
        walk_the_journey(journey)
    finally:
        connection.force_debug_cursor = False
        before_task_publish.disconnect(record)
    if broker[0].startswith("redis://"):
        journey.broker_raw = read_redis(*broker)
    return journey


# What a stolen database shows -------------------------------------------------------------

CI = bool(os.environ.get("CI"))


def database_dump() -> str:
    """The whole database as an adversary with a copy of it sees it."""
    params = connection.settings_dict
    if connection.vendor == "postgresql":
        if shutil.which("pg_dump") is None:
            if CI:
                pytest.fail("pg_dump is missing; CI must install postgresql-client")
            pytest.skip("pg_dump is not installed")
        command = ["pg_dump", "--no-owner", "--dbname", params["NAME"]]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if params.get(key):
                command += [flag, str(params[key])]
        environment = {**os.environ, "PGPASSWORD": params.get("PASSWORD") or ""}
        done = subprocess.run(command, capture_output=True, env=environment, check=False)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode("utf-8", errors="replace")
    if connection.vendor == "sqlite":
        name = str(params["NAME"])
        if Path(name).is_file():
            files = [Path(name), Path(f"{name}-wal"), Path(f"{name}-journal")]
            return "".join(
                path.read_bytes().decode("utf-8", errors="replace")
                for path in files
                if path.exists()
            )
        # An in-memory test database: sqlite's own dump of it, through the test connection.
        connection.ensure_connection()
        raw: sqlite3.Connection = connection.connection
        return "\n".join(raw.iterdump())
    pytest.skip(f"no dump for {connection.vendor}")


def test_the_journey_wrote_what_it_seeded(journey: Journey):
    """The app still reads it all: otherwise the scans below would prove nothing."""
    page = journey.visit("volunteer_a", "GET", f"/cases/{journey.case.reference}/").content_text
    for label in ("legal_name", "current_location", "military_unit", "route_summary", "note"):
        assert journey.values[label] in page.replace("&#x27;", "'"), label
    assert journey.case.person.legal_name == journey.values["legal_name"]
    assert any(message["task"] == "casework.tasks.send_due_emails" for message in journey.published)
    assert mail.outbox, "the dispatcher e-mailed nobody"


def test_a_raw_database_dump_holds_no_personal_value(journey: Journey):
    dump = database_dump()
    assert journey.case.reference in dump  # the dump is the real thing
    found = leaks(dump, journey.needles)
    assert not found, f"in the {connection.vendor} dump: {found}"


def test_the_logs_hold_no_personal_value(journey: Journey, caplog, capfd):
    records = caplog.get_records("setup") + caplog.get_records("call")  # the journey: setup
    assert {"django.request", "django.db.backends"} <= {record.name for record in records}
    lines = []
    for record in records:
        lines.append(record.getMessage())
        lines.append(str(record.args))
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            lines.append(record.exc_text)
    output = capfd.readouterr()
    found = leaks("\n".join(lines), journey.needles)
    assert not found, f"in log records: {found}"
    found = leaks(output.out + output.err, journey.needles)
    assert not found, f"in what the processes printed: {found}"


def test_task_messages_carry_ids_only(journey: Journey):
    assert journey.published, "nothing was published"
    for message in journey.published:
        assert all(isinstance(argument, int) for argument in message["args"]), message["task"]
        found = leaks(message["raw"], journey.needles)
        assert not found, f"{message['task']}: {found}"


@pytest.mark.redis
def test_the_broker_holds_no_personal_value(journey: Journey):
    if not journey.broker.startswith("redis://"):
        if CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must start it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    assert journey.broker_raw, "nothing reached Redis"
    text = "\n".join(raw.decode("utf-8", errors="replace") for raw in journey.broker_raw)
    assert "send_due_emails" in text
    found = leaks(text, journey.needles)
    assert not found, f"in Redis: {found}"
    # Message bodies are base64 inside the envelope: decode and look there too.
    import base64
    import json

    for raw in journey.broker_raw:
        try:
            envelope = json.loads(raw)
        except ValueError:
            continue
        body = base64.b64decode(envelope.get("body", "")).decode("utf-8", errors="replace")
        found = leaks(body, journey.needles)
        assert not found, f"in a message body in Redis: {found}"


def test_e_mails_hold_no_personal_value(journey: Journey):
    assert mail.outbox
    for message in mail.outbox:
        assert message.to == [journey.values["volunteer_email"]]
        found = leaks(f"{message.subject}\n{message.body}", journey.needles)
        assert not found, f"in the e-mail {message.subject!r}: {found}"


def test_sessions_cookies_and_cache_hold_no_personal_value(journey: Journey):
    sessions = [repr(session.get_decoded()) for session in Session.objects.all()]
    assert sessions
    found = leaks("\n".join(sessions), journey.needles)
    assert not found, f"in sessions: {found}"
    cookies = [
        f"{name}={morsel.value}"
        for client in journey.world.clients.values()
        for name, morsel in client.cookies.items()
    ]
    for _role, _url, response in journey.responses:
        cookies += [f"{name}={morsel.value}" for name, morsel in response.cookies.items()]
    found = leaks("\n".join(cookies), journey.needles)
    assert not found, f"in cookies: {found}"
    for alias in settings.CACHES:
        store = getattr(caches[alias], "_cache", {})
        text = "\n".join(repr(value) for value in store.values())
        found = leaks(text, journey.needles)
        assert not found, f"in the {alias} cache: {found}"


TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
LINK = re.compile(r"""\b(?:href|action|src|formaction)\s*=\s*["']([^"']*)["']""", re.I)


def quoted(wanted: dict[str, str]) -> dict[str, str]:
    forms = dict(wanted)
    for needle, label in wanted.items():
        forms[quote(needle).lower()] = label
        forms[quote_plus(needle).lower()] = label
    return forms


def test_titles_and_links_hold_no_personal_value(journey: Journey):
    wanted = quoted(journey.needles)
    found = []
    for role, url, response in journey.responses:
        where = f"{url} as {role}"
        locations = [response.get("Location", "")]
        if "html" not in response.get("Content-Type", ""):
            found += [f"{where} redirect: {leak}" for leak in leaks(locations[0], wanted)]
            continue
        titles = TITLE.findall(response.content_text)
        for title in titles:
            if "<" in title or len(title) > 120:
                found.append(f"{where}: the title holds markup or a whole page: {title[:80]!r}")
            found += [f"{where} title: {leak}" for leak in leaks(title, wanted)]
        links = LINK.findall(response.content_text) + locations
        found += [f"{where} link: {leak}" for leak in leaks("\n".join(links), wanted)]
    assert not found, "\n".join(found)


def test_the_admins_pages_show_no_personal_value(journey: Journey):
    pages = [(url, r) for role, url, r in journey.responses if role == "admin"]
    assert len(pages) >= 7
    for url, response in pages:
        found = leaks(response.content_text, journey.needles)
        assert not found, f"{url} shows the admin {found}"
