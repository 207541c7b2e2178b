"""The dashboard of each role in a browser, on a desktop and on a 360-px phone: the
charts drawn, their numbers one click away, a funnel bar opening the case list."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Containment
from accounts.roles import Role
from audit.log import record
from audit.models import Action
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory, IntakeRequestFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = [({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")]


@pytest.fixture(params=SCREENS, ids=[name for _, name in SCREENS])
def screen(request):
    return request.param


def ago(**span):
    return timezone.now() - timedelta(**span)


@pytest.fixture
def busy_team(team, volunteer, coordinator):
    """A team with some weeks behind it: cases at every stage, requests and crossings."""
    rng = random.Random(7)
    stages = [
        *[Stage.NEW] * 4,
        *[Stage.SCREENING] * 6,
        *[Stage.PLANNING] * 5,
        *[Stage.PREPARATION] * 3,
        *[Stage.IN_TRANSIT] * 2,
        Stage.CROSSING,
        *[Stage.ARRIVED] * 2,
        *[Stage.FOLLOW_UP] * 4,
        Stage.ON_HOLD,
    ]
    for number, stage in enumerate(stages):
        case = CaseFactory(
            team=team,
            stage=stage,
            stage_entered_at=ago(days=rng.randint(0, 40), hours=rng.randint(0, 23)),
            assignee=volunteer if number % 3 else None,
            next_action_due=timezone.localdate() + timedelta(days=rng.randint(-3, 10)),
            lost_contact_at=ago(hours=30) if number == 20 else None,
        )
        if number % 4 == 1:
            Reminder.objects.create(
                kind=ReminderKind.FOLLOW_UP,
                due_at=timezone.now() + timedelta(hours=rng.randint(2, 96)),
                case=case,
                team=team,
                subject=case.reference,
                recipient=volunteer,
            )
    for week in range(12):
        for _ in range(rng.randint(2, 14)):
            IntakeRequestFactory(
                team=team,
                received_at=ago(weeks=week, hours=rng.randint(0, 60)),
                logged_by=volunteer,
            )
        for _ in range(rng.randint(0, 4)):
            CaseEvent.objects.create(
                case=CaseFactory(team=team, stage=Stage.FOLLOW_UP),
                kind=EventKind.STAGE,
                from_stage=Stage.CROSSING,
                to_stage=Stage.ARRIVED,
                created_at=ago(weeks=week, hours=rng.randint(0, 60)),
            )
    return team


def test_volunteer_dashboard(browser, live_server, volunteer, busy_team, screen):
    viewport, name = screen
    page = signed_in(browser, live_server, volunteer, viewport, name)
    for heading in ("Needs attention now", "My cases", "Cases by stage", "Last 12 weeks"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    shoot(page, "50-dashboard-volunteer")
    # The charts are folded: a tap on the heading opens them, no script needed.
    page.get_by_role("heading", name="Last 12 weeks").click()
    expect(page.get_by_role("img", name="Requests and crossings per week")).to_be_visible()
    page.get_by_role("heading", name="Cases by stage").click()
    page.get_by_text("Show the numbers").first.click()
    expect(
        page.get_by_role("cell", name="Screening")
        .or_(page.get_by_role("rowheader", name="Screening"))
        .first
    ).to_be_visible()
    page.context.close()


def test_coordinator_dashboard_and_a_funnel_bar(
    browser, live_server, coordinator, busy_team, screen
):
    viewport, name = screen
    page = signed_in(browser, live_server, coordinator, viewport, name)
    for heading in ("Cases by stage", "Last 12 weeks", "Stuck longest", "Incoming requests"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    alarms = page.locator("section", has=page.get_by_role("heading", name="Needs attention now"))
    expect(alarms.get_by_text("lost contact since")).to_be_visible()
    shoot(page, "51-dashboard-coordinator")
    page.get_by_role("heading", name="Cases by stage").click()
    page.locator("svg.chart-funnel a[href$='stage=screening']").click()
    page.wait_for_url("**/cases/?stage=screening")
    assert page.get_by_role("combobox", name="Stage").input_value() == "screening"
    page.context.close()


def test_admin_dashboard(
    browser, live_server, admin_user, coordinator, volunteer, busy_team, screen
):
    viewport, name = screen
    record(Action.LOGIN_FAILED, actor=volunteer, target_type="user", target_ref=str(volunteer.pk))
    record(Action.LOCKED_OUT, actor=volunteer, target_type="user", target_ref=str(volunteer.pk))
    record(Action.BREAK_GLASS, actor=coordinator, target_type="case", target_ref="C-2026-00042")
    phished = UserFactory(username="volunteer7", role=Role.VOLUNTEER, is_active=False)
    Containment.objects.create(
        user=phished, by=admin_user, since=ago(days=2), reason="phished", audit_seq=1
    )
    record(
        Action.ACCOUNT_CONTAINED, actor=admin_user, target_type="user", target_ref=str(phished.pk)
    )
    page = signed_in(browser, live_server, admin_user, viewport, name)
    for heading in ("Accounts", "Recent security events", "Audit health", "Cases by stage"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert page.locator("svg.chart-funnel a").count() == 0
    shoot(page, "52-dashboard-admin")
    page.context.close()


def test_the_dashboard_in_russian(browser, live_server, coordinator, busy_team):
    page = signed_in(
        browser, live_server, coordinator, {"width": 360, "height": 740}, "phone-ru", "ru-RU"
    )
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    shoot(page, "53-dashboard-coordinator")
    page.context.close()


@pytest.mark.parametrize("persona", ["volunteer", "coordinator"])
@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_the_dashboard_fits_a_phone(request, browser, live_server, busy_team, persona, locale):
    """A team of 30 open cases, a few in alarm, on a 360-px phone: each case once, the
    alarms open at the top, the rest folded, the page a couple of screens long."""
    user = request.getfixturevalue(persona)
    lost = Case.objects.filter(team=busy_team, lost_contact_at__isnull=False).get()
    missed = (
        Case.objects.filter(team=busy_team, assignee=user if persona == "volunteer" else None)
        .exclude(pk=lost.pk)
        .exclude(stage=Stage.FOLLOW_UP)
        .first()
    )
    Reminder.objects.create(
        kind=ReminderKind.TRANSIT_CHECK_IN,
        due_at=ago(hours=2),
        sent_at=ago(hours=2),
        state=ReminderState.SENT,
        urgent=True,
        case=missed,
        team=busy_team,
        subject=missed.reference,
    )
    if persona == "volunteer":
        lost.assignee = user
        lost.save()
    language = locale[:2]
    page = signed_in(
        browser, live_server, user, {"width": 360, "height": 740}, f"phone-{language}", locale
    )
    alarms = page.locator("section[aria-labelledby=alarms] li.case-row")
    assert alarms.count() == 2
    expect(alarms.first.get_by_role("link", name=lost.reference)).to_be_visible()  # oldest alarm
    # Every case link on the page names a different case.
    links = page.locator("a[href^='/cases/C-']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    assert len(links) == len(set(links)), links
    assert page.locator("details.fold[open]").count() == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, f"54-dashboard-{persona}-folded")
    assert height < 2000, f"{persona}: {height}px on a phone"
    # Opening every fold still gives each case once.
    for summary in page.locator("details.fold > summary").all():
        summary.click()
    shoot(page, f"55-dashboard-{persona}-unfolded")
    page.context.close()
