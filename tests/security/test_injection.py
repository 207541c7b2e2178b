"""Stored XSS, SQL-looking and template-looking input: kept verbatim, shown escaped.

Every text a user can type is written through the real views (as the role that may), then
every page that shows it is fetched: the markup never comes back raw, and its escaped form
does. Fields that refuse such text (phone, e-mail, country code, …) must echo it back
escaped on the error page. A last test keeps `|safe` and friends out of the code.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Team
from accounts.roles import Role
from audit.models import InsiderAlert
from casework.models import Case, Person
from intake.models import IntakeRequest
from tests.conftest import verified_client
from tests.factories import UserFactory
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
XSS_ONE_WORD = "\"'><script>alert(1)</script><svg/onload=alert(1)>"  # a contact is one word
XSS_SHORT = "\"'><svg onload=alert(1)>"  # usernames are at most 40 characters
RAW = ("<script>alert(1)", "<img src=x onerror", "<svg onload", "<svg/onload", "\"'>")

SQL_DROP = "'; DROP TABLE casework_case; --"
SQL_OR = '" OR 1=1 --'
TEMPLATE_LIKE = "{{ 7|add:35 }} {% debug %} {% csrf_token %}"


def now_field(delta=timedelta()) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def posted(client: Client, url: str, data: dict, status: int = 302):
    response = client.post(url, data)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response


def person_fields(text: str) -> dict:
    fields = ("legal_name", "messenger_handles", "current_location", "military_unit", "notes")
    return {f"person-{name}": text for name in fields}


@pytest.fixture
def stored_xss(world: World) -> dict:
    """Writes the payload into every free-text field, through the views. Returns the
    accounts and objects the pages need."""
    volunteer = world.clients["volunteer_a"]
    coordinator = world.clients["coordinator_b"]
    admin = world.clients["admin"]
    a, b = world.case_a.reference, world.case_b.reference
    posted(
        volunteer,
        f"/cases/{a}/edit/",
        {
            "version": world.case_a.version,
            **person_fields(XSS),
            "person-preferred_language": "ru",
            "case-route_summary": XSS,
        },
    )
    posted(volunteer, f"/cases/{a}/timeline/", {"kind": "note", "text": XSS})
    posted(
        volunteer, f"/cases/{a}/follow-up/", {"due_at": now_field(timedelta(days=2)), "note": XSS}
    )
    posted(
        volunteer,
        f"/cases/{a}/reminders/{world.reminder_a.pk}/",
        {"action": "dismiss", "reason": XSS},
    )
    world.case_a.refresh_from_db()
    posted(
        volunteer,
        f"/cases/{a}/move/",
        {"version": world.case_a.version, "to_stage": "on_hold", "reason": XSS},
    )
    posted(
        volunteer,
        "/intake/new/",
        {"channel": "signal", "received_at": now_field(), "contact": XSS_ONE_WORD, "message": XSS},
    )
    intake = IntakeRequest.objects.get(channel="signal")
    posted(coordinator, "/cases/break-glass/", {"reference": a, "reason": XSS})
    posted(coordinator, f"/cases/{b}/legal-hold/", {"action": "set", "reason": XSS})
    # An account name the validator would refuse today, as an older row might hold it.
    odd = UserFactory(username=XSS_SHORT, role=Role.VOLUNTEER, teams=[world.team_b])
    world.case_b.refresh_from_db()
    posted(
        coordinator, f"/cases/{b}/assign/", {"version": world.case_b.version, "assignee": odd.pk}
    )
    verified_client(odd).get(f"/cases/{b}/")  # an audited read with the odd name as actor
    InsiderAlert.objects.create(kind=InsiderAlert.Kind.MANY_CASES, actor=odd)
    posted(admin, "/account/teams/new/", {"name": XSS_SHORT})
    # Teams are named once, when added: team A stands for an older row holding such a name.
    Team.objects.filter(pk=world.team_a.pk).update(name=XSS)
    return {"intake": intake.reference, "odd": odd}


def pages(world: World, stored: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """(role, page, payloads the page must show escaped)."""
    a, b = world.case_a.reference, world.case_b.reference
    return [
        ("volunteer_a", f"/cases/{a}/", (XSS,)),
        ("volunteer_a", f"/cases/{a}/edit/", (XSS,)),
        ("volunteer_a", f"/intake/{stored['intake']}/", (XSS, XSS_ONE_WORD)),
        ("volunteer_a", "/account/", (XSS,)),  # the team's name
        ("volunteer_a", "/", ()),
        ("volunteer_a", "/intake/", ()),
        ("volunteer_a", "/cases/", ()),
        ("volunteer_a", "/cases/board/", ()),
        ("volunteer_a", "/inbox/", ()),
        ("coordinator_b", f"/cases/{b}/", (XSS, XSS_SHORT)),
        ("coordinator_b", f"/cases/{b}/history/", (XSS_SHORT,)),
        ("coordinator_b", f"/cases/{b}/legal-hold/", ()),
        ("coordinator_b", f"/cases/{a}/", (XSS,)),  # through break-glass
        ("coordinator_b", "/account/members/", (XSS_SHORT,)),
        ("admin", "/account/members/", (XSS, XSS_SHORT)),
        ("admin", "/audit/", (XSS_SHORT,)),
        ("admin", "/audit/alerts/", (XSS_SHORT,)),
        ("admin", "/access-changes/", ()),
        ("admin", "/account/teams/new/", ()),
    ]


def assert_escaped(html: str, where: str, shown: tuple[str, ...]) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} came back unescaped"
    for payload in shown:
        assert escape(payload) in html, f"{where}: the escaped payload is missing"


def test_stored_payloads_render_escaped_on_every_page(world: World, stored_xss):
    for role, url, shown in pages(world, stored_xss):
        response = world.clients[role].get(url)
        assert response.status_code == 200, f"{url} as {role}: {response.status_code}"
        assert_escaped(response.content.decode(), f"{url} as {role}", shown)


def test_stored_payloads_are_kept_verbatim(world: World, stored_xss):
    person = Person.objects.get(cases=world.case_a)
    assert person.legal_name == person.notes == XSS
    assert Case.objects.get(pk=world.case_a.pk).route_summary == XSS
    assert IntakeRequest.objects.get(reference=stored_xss["intake"]).contact == XSS_ONE_WORD


REFUSED_INPUT = [
    # (role, url, data, status): refused, and the page shows what was typed, escaped.
    ("anonymous", "/account/login/", {"username": XSS, "password": "x"}, 200),
    ("volunteer_a", "/account/", {"email_notifications": "on", "notification_email": XSS}, 400),
    ("volunteer_a", "/intake/new/", {"channel": "x", "contact": XSS, "message": XSS}, 200),
    ("coordinator_b", "/cases/break-glass/", {"reference": XSS, "reason": XSS}, 200),
]


@pytest.mark.parametrize(
    ("role", "url", "data", "status"), REFUSED_INPUT, ids=lambda v: str(v)[:20]
)
def test_refused_input_is_echoed_escaped(world: World, role, url, data, status):
    response = world.clients[role].post(url, data)
    assert response.status_code == status
    assert_escaped(response.content.decode(), url, (XSS,))


def test_refused_person_and_case_fields_are_echoed_escaped(world: World):
    response = world.clients["volunteer_a"].post(
        f"/cases/{world.case_a.reference}/edit/",
        {
            "version": world.case_a.version,
            "person-phone": XSS,
            "person-email": XSS,
            "person-birth_date": XSS,
            "case-destination_country": XSS,
            "case-crossing_window_start": XSS,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert_escaped(html, "case edit", (XSS,))
    # Every typed field echoes it back; the destination is a list, which shows no value
    # that is not one of its countries.
    assert html.count(escape(XSS)) >= 4


def test_refused_reminder_reason_is_echoed_escaped(world: World):
    url = f"/cases/{world.case_a.reference}/reminders/{world.reminder_a.pk}/"
    response = world.clients["volunteer_a"].post(url, {"action": "snooze", "reason": XSS})
    assert response.status_code == 400
    assert_escaped(response.content.decode(), url, (XSS,))


def test_audit_filters_are_echoed_escaped(world: World):
    response = world.clients["admin"].get("/audit/", {"actor": XSS[:40], "target": XSS[:32]})
    assert response.status_code == 200
    assert_escaped(response.content.decode(), "audit filters", (XSS[:32],))


# SQL- and template-looking input ---------------------------------------------------------


def test_sql_looking_input_is_stored_and_shown_verbatim(world: World):
    volunteer = world.clients["volunteer_a"]
    a = world.case_a.reference
    tables = set(connection.introspection.table_names())
    posted(
        volunteer,
        f"/cases/{a}/edit/",
        {
            "version": world.case_a.version,
            "person-legal_name": SQL_OR,
            "person-notes": SQL_DROP,
            "person-preferred_language": "ru",
            "case-route_summary": TEMPLATE_LIKE,
        },
    )
    posted(volunteer, f"/cases/{a}/timeline/", {"kind": "note", "text": f"{SQL_DROP}\n{SQL_OR}"})
    posted(
        volunteer,
        "/intake/new/",
        {
            "channel": "phone",
            "received_at": now_field(),
            "contact": "@sql_test",
            "message": SQL_DROP,
        },
    )

    assert set(connection.introspection.table_names()) == tables
    assert Case.objects.count() == 2
    person = Person.objects.get(cases=world.case_a)
    assert (person.legal_name, person.notes) == (SQL_OR, SQL_DROP)
    html = volunteer.get(f"/cases/{a}/").content.decode()
    for text in (SQL_DROP, SQL_OR, TEMPLATE_LIKE):
        assert escape(text) in html, text
    request = IntakeRequest.objects.order_by("-pk").first()
    assert request.message == SQL_DROP
    assert escape(SQL_DROP) in volunteer.get(f"/intake/{request.reference}/").content.decode()


def test_sql_looking_searches_find_nothing(world: World):
    audit = world.clients["admin"].get("/audit/", {"actor": "' OR 1=1 --", "target": "' OR '1'='1"})
    assert "No events match." in audit.content.decode()
    glass = world.clients["coordinator_b"].post(
        "/cases/break-glass/",
        {"reference": "' OR '1'='1", "reason": "Checking something important."},
    )
    assert "No other team&#x27;s case has this reference." in glass.content.decode()
    triage = world.clients["volunteer_a"].post(
        f"/intake/{world.intake_a.reference}/",
        {"action": "duplicate", "case_reference": "' OR 1=1 --"},
    )
    assert triage.status_code == 400
    assert "Choose one of the possible duplicates listed." in triage.content.decode()
    world.intake_a.refresh_from_db()
    assert world.intake_a.state == "new"


# No way around autoescaping ----------------------------------------------------------------

TEMPLATE_UNSAFE = re.compile(
    r"\|\s*safe(seq)?\b|{%\s*autoescape\s+off|{%\s*filter\s[^%]*\bsafe\b", re.IGNORECASE
)
PYTHON_UNSAFE = re.compile(
    r"\bmark_safe\b|\bSafeString\b|\bSafeText\b|\bis_safe\s*=\s*True|\bneeds_autoescape\b"
    r"|\bautoescape\s*=\s*False"
)
# path (relative to the project) -> why it is safe. Empty on purpose: add with a reason.
ALLOWED_UNSAFE: dict[str, str] = {}


def project_files() -> list[Path]:
    base = Path(settings.BASE_DIR)
    roots = [Path(folder) for template in settings.TEMPLATES for folder in template["DIRS"]]
    roots += [
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(base) and ".venv" not in Path(config.path).parts
    ]
    roots.append(base / "config")
    files = {
        path
        for root in roots
        for path in root.rglob("*")
        if path.suffix in {".html", ".py", ".txt"}
    }
    return sorted(path for path in files if "migrations" not in path.parts)


def test_nothing_switches_autoescaping_off():
    base = Path(settings.BASE_DIR)
    found = []
    for path in project_files():
        pattern = PYTHON_UNSAFE if path.suffix == ".py" else TEMPLATE_UNSAFE
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line) and str(path.relative_to(base)) not in ALLOWED_UNSAFE:
                found.append(f"{path.relative_to(base)}:{number}: {line.strip()}")
    assert not found, (
        "These bypass autoescaping; user input must never reach them. If one is truly safe, "
        "add it to ALLOWED_UNSAFE with the reason:\n  " + "\n  ".join(found)
    )


def test_the_scan_sees_the_templates():
    names = {path.name for path in project_files()}
    assert {"base.html", "case_detail.html", "intake_detail.html", "views.py"} <= names
