"""Every page a user reaches, for each role and signed out, on a desktop and a 360-px phone:
axe-core finds nothing against WCAG 2.1 A/AA, and nothing spills past the screen's width.

The signed-in pages are not listed by hand: every URL pattern of the project is made concrete
from the security tests' world (tests/security/urlconf.py), and a page is visited by every
role the access matrix (tests/security/test_access_matrix.py) lets GET it with a 200. So a
new view is checked from its first day. The world is then given what makes pages interesting:
route legs, reminders, a destination warning, a timeline longer than the case page shows,
notifications, an insider alert; and some states no GET shows (a form refused with its
errors, a filtered list, the case page's older entries opened) are added by hand.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import InsiderAlert
from casework.models import CaseEvent, EventKind, Notification, ReminderKind, RouteLeg
from destinations.models import DestinationRisk, Extradites
from tests.e2e.axe import describe, violations
from tests.e2e.conftest import shoot
from tests.e2e.test_first_login import code_for
from tests.factories import PASSWORD, UserFactory
from tests.security.conftest import World, build_world
from tests.security.test_access_matrix import EXPECTED
from tests.security.urlconf import all_patterns, variants

pytestmark = pytest.mark.django_db(transaction=True)

# role as the issue names it -> the world's persona
PERSONAS = {"volunteer": "volunteer_a", "coordinator": "coordinator_b", "admin": "admin"}
# Django's own admin pages are not our templates; a CSV export, a document and its
# preview image are downloads, not pages.
NOT_OURS = {"admin"}
NOT_PAGES = {
    "audit:export",
    "documents:document_download",
    "documents:document_preview",
    "intake:document_download",
    "intake:document_preview",
}
# A 1x1 transparent PNG.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a48100"
    "00000049454e44ae426082"
)


@pytest.fixture(params=[(1280, 800), (360, 740)], ids=["desktop", "phone"])
def page(request, browser):
    """conftest's page, except that a page we asked for answering 4xx (a refused form, 404,
    403, the lock-out's 429) is not an error: the browser logs that status, and any other
    console error still fails the test."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.screen_name = "desktop" if width > 600 else "phone"
    asked, errors = set(), []

    def on_response(response):
        if response.request.is_navigation_request() and 400 <= response.status < 500:
            asked.add(response.url)

    def on_console(message):
        if message.type == "error":
            errors.append((message.text, message.location.get("url")))

    page.on("response", on_response)
    page.on("console", on_console)
    if connection.vendor == "sqlite":
        # The test database is SQLite in memory with a shared cache, where two requests
        # writing at once (each preview is an audit event) fail at once instead of waiting
        # as a file database does (OPTIONS timeout). The previews are tested over HTTP and
        # in tests/e2e/test_documents_journey.py; here they are served a blank image.
        page.route("**/documents/*/preview/", lambda route: route.fulfill(body=BLANK_PNG))
    yield page
    context.close()
    status = "Failed to load resource: the server responded with a status of 4"
    assert [text for text, url in errors if not (url in asked and text.startswith(status))] == []


class Findings:
    """What the sweep found, page by page, reported all at once at the end."""

    def __init__(self):
        self.problems: list[str] = []
        self.pages = 0

    def check(self, page, name: str) -> None:
        self.pages += 1
        found = violations(page)
        if found:
            self.problems.append(describe(f"{name} ({page.screen_name}, {page.url})", found))
        try:
            shoot(page, f"60-a11y-{name}")
        except AssertionError as overflow:
            self.problems.append(f"{name} ({page.screen_name}): {overflow}")

    def assert_clean(self) -> None:
        assert self.pages, "no page was checked"
        assert not self.problems, "\n\n".join(self.problems)


def enriched_world() -> World:
    """The security tests' world, with what makes the pages show all they can."""
    world = build_world()
    now = timezone.now()
    # Case A is overdue (the dashboard lists it). Case B: a wanted person heading for a
    # country that extradites (the warning), and a second leg with every detail filled in.
    DestinationRisk.objects.create(
        country="KZ", extradites=Extradites.YES, notes="Detentions on Russian requests."
    )
    world.case_a.next_action_due = timezone.localdate() - timedelta(days=2)
    world.case_a.save()
    case = world.case_b
    case.flag_wanted = True
    case.destination_country = "KZ"
    case.route_summary = "Bus to the border, then on foot."
    case.next_action_due = timezone.localdate() - timedelta(days=1)
    case.save()
    RouteLeg.objects.create(
        case=case,
        position=2,
        origin="Leg B2 from",
        destination="Leg B2 to",
        means="Train",
        planned_on=timezone.localdate() + timedelta(days=3),
        contact="A driver, via Signal",
        safe_house="A flat near the station",
        notes="Wait for the call before leaving.",
        volunteer=world.users["coordinator_b"],
    )
    # More entries than the case page shows: the fold, and a page of older entries.
    for number in range(12):
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.NOTE,
            actor=world.users["coordinator_b"],
            text=f"Timeline entry {number}",
            created_at=now - timedelta(hours=12 - number),
        )
    for role in PERSONAS.values():
        user = world.users[role]
        subject = world.case_b.reference if role != "volunteer_a" else world.case_a.reference
        Notification.objects.create(
            user=user, kind=ReminderKind.CROSSING_CHECK_IN, subject=subject, urgent=True
        )
        Notification.objects.create(
            user=user,
            kind=ReminderKind.FOLLOW_UP,
            subject=subject,
            created_at=now - timedelta(hours=3),
            read_at=now - timedelta(hours=2),
        )
    InsiderAlert.objects.create(
        kind=InsiderAlert.Kind.BREAK_GLASS, actor=world.users["coordinator_b"], event_seq=1
    )
    return world


def pages_for(world: World, persona: str) -> list[tuple[str, str]]:
    """(name, path) of every page of ours the persona may GET, one per URL pattern variant."""
    found = []
    for pattern in all_patterns():
        if pattern.namespace in NOT_OURS or pattern.key in NOT_PAGES:
            continue
        for variant, path in variants(world, pattern):
            row = EXPECTED[pattern.key]
            outcomes = row[variant]["GET"] if variant else row["GET"]
            if outcomes[persona] == "200":
                name = pattern.key.replace(":", "-") + (f"-{variant}" if variant else "")
                found.append((name, path))
    return found


def hand_session(page, live_server, client: Client) -> None:
    """A test client's signed-in session (second factor verified), handed to the browser:
    signing in through the pages is tested once, in the signed-out sweep."""
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


# States no GET shows, per role: (name, path, what to do on the page).
def _intake_refused(page):
    page.get_by_label("Contact").fill("not a contact")
    page.get_by_label("Received").fill("2099-01-01T10:00")
    page.get_by_role("button", name="Log it").click()
    page.locator(".field-error").first.wait_for()


def _case_edit_refused(page):
    page.get_by_label("Phone").fill("not a phone")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_label("Destination country").select_option("GE")
    page.get_by_role("button", name="Save").click()
    page.locator(".field-error").first.wait_for()


def _password_change_refused(page):
    page.get_by_label("Old password").fill("not the password")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("different")
    page.get_by_role("button", name="Change password").click()
    page.locator(".field-error").first.wait_for()


def _notifications_saved(page):
    page.get_by_label("Send notifications by e-mail").check()
    page.get_by_label("E-mail for notifications").fill("volunteer@example.org")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Settings saved.").wait_for()


def _older_entries_opened(page):
    page.locator("details.older summary").click()
    page.locator("details.older li.event").first.wait_for()


def _submit_empty(button: str):
    def submit(page):
        page.get_by_role("button", name=button).click()
        page.locator(".field-error").first.wait_for()

    return submit


def _searched(query: str):
    def search(page):
        header = page.locator("header")
        header.get_by_role("searchbox").fill(query)
        header.get_by_role("button", name="Search").click()
        page.locator("#results, .field-error").first.wait_for()

    return search


def states(world: World, persona: str) -> list[tuple[str, str, object]]:
    case_b = world.case_b.reference
    filters = urlencode(
        {"stage": "new", "assignee": "none", "risk": "flag_wanted", "overdue": "on"}
    )
    table = {
        "volunteer_a": [
            ("intake-new-refused", reverse("intake:new"), _intake_refused),
            ("search-refused", reverse("dashboard:home"), _searched("")),
            ("profile-saved", reverse("accounts:profile"), _notifications_saved),
            ("403", reverse("audit:events"), None),
            ("404", "/cases/C-2026-99999/", None),
        ],
        "coordinator_b": [
            ("case_list-filtered", f"{reverse('casework:case_list')}?{filters}", None),
            ("search-found", reverse("dashboard:home"), _searched(case_b)),
            (
                "case_detail-older-opened",
                reverse("casework:case_detail", args=[case_b]),
                _older_entries_opened,
            ),
            ("case_edit-refused", reverse("casework:case_edit", args=[case_b]), _case_edit_refused),
            (
                "approval-decline-refused",
                reverse("casework:case_detail", args=[case_b]),
                _submit_empty("Decline"),
            ),
            (
                "legal_hold-refused",
                reverse("casework:case_legal_hold", args=[case_b]),
                _submit_empty("Set the hold"),
            ),
            (
                "erase-refused",
                reverse("casework:case_erase", args=[case_b]),
                _submit_empty("Erase now"),
            ),
            (
                "merge-refused",
                reverse("casework:case_merge", args=[case_b]),
                _submit_empty("Show both cases"),
            ),
            (
                "break_glass-refused",
                reverse("casework:break_glass"),
                _submit_empty("Open for one hour"),
            ),
            (
                "leg_new-refused",
                reverse("casework:leg_new", args=[case_b]),
                _submit_empty("Save the leg"),
            ),
        ],
        "admin": [
            (
                "audit-filtered",
                f"{reverse('audit:events')}?since=2026-03-01&until=2026-02-01",
                None,
            ),
            (
                "contain-refused",
                reverse("casework:account_contain", args=[world.users["volunteer_a"].pk]),
                _submit_empty("Contain the account"),
            ),
            (
                "password_change-refused",
                reverse("accounts:password_change"),
                _password_change_refused,
            ),
        ],
    }
    return table[persona]


@pytest.mark.parametrize("role", sorted(PERSONAS))
def test_every_page_of_the_role_is_accessible_and_fits_a_phone(page, live_server, role):
    persona = PERSONAS[role]
    world = enriched_world()
    hand_session(page, live_server, world.clients[persona])
    findings = Findings()
    for name, path in pages_for(world, persona):
        page.goto(f"{live_server.url}{path}")
        findings.check(page, f"{role}-{name}")
    for name, path, act in states(world, persona):
        page.goto(f"{live_server.url}{path}")
        if act is not None:
            act(page)
        findings.check(page, f"{role}-{name}")
    findings.assert_clean()


def _sign_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_the_signed_out_pages_are_accessible_and_fit_a_phone(page, live_server, team):
    """Signing in from the start: the password, the authenticator's enrolment and the
    backup codes, the second step, the lock-out, and a page that is not there."""
    findings = Findings()
    UserFactory(username="newcomer", teams=[team])
    page.goto(f"{live_server.url}/no-such-page/")
    findings.check(page, "signed_out-404")
    _sign_in(page, live_server, "newcomer", "wrong password")
    page.locator(".form-errors").wait_for()
    findings.check(page, "signed_out-login-refused")
    page.goto(f"{live_server.url}/")
    findings.check(page, "signed_out-login")

    _sign_in(page, live_server, "newcomer")
    page.wait_for_url("**/account/enrol/**")
    findings.check(page, "signed_out-enrol")
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("12")
    page.get_by_role("button", name="Confirm").click()
    page.locator(".field-error").wait_for()
    findings.check(page, "signed_out-enrol-refused")
    page.get_by_label("Code from the app").fill(code_for(secret))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Your backup codes").wait_for()
    findings.check(page, "signed_out-backup_codes")

    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, live_server, "newcomer")
    page.wait_for_url("**/account/verify/**")
    findings.check(page, "signed_out-verify")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    page.locator(".field-error").wait_for()
    findings.check(page, "signed_out-verify-refused")

    page.context.clear_cookies()
    for _attempt in range(django_settings.AXES_FAILURE_LIMIT):
        _sign_in(page, live_server, "somebody", "guessed password")
    page.get_by_role("heading", name="Too many attempts").wait_for()
    findings.check(page, "signed_out-locked_out")
    findings.assert_clean()


@pytest.mark.parametrize("page", [(1280, 800)], ids=["desktop"], indirect=True)
def test_the_checker_names_what_it_finds(page):
    """The sweep above passes only because the pages are clean, not because axe is silent."""
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><main>'
        '<input id="bare"><p class="faint">faint</p><img src="data:," id="pic"></main>'
    )
    page.add_style_tag(content=".faint { color: #ccc; }")
    found = violations(page)
    report = describe("sample", found)
    assert {"label", "color-contrast", "image-alt"} <= {rule["id"] for rule in found}, report
    assert "#bare" in report and "<input" in report
