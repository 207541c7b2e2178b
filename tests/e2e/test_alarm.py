"""A missed crossing check-in: the alarm on the dashboard, the inbox, the acknowledgement."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework import scheduling
from casework.models import Reminder, ReminderKind, ReminderState, Stage
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_missed_crossing_check_in_alarm(
    browser, live_server, coordinator, volunteer, team, viewport, w
):
    now = timezone.now()
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.CROSSING,
        crossing_window_start=now - timedelta(hours=10),
        crossing_window_end=now - timedelta(hours=7),
    )
    Reminder.objects.create(
        kind=ReminderKind.CROSSING_CHECK_IN,
        due_at=now - timedelta(hours=1),
        case=case,
        team=team,
        subject=case.reference,
        stage=Stage.CROSSING,
        urgent=True,
    )
    scheduling.dispatch_due()
    name = ("desktop" if viewport["width"] > 600 else "phone") + f"-{w.language}"
    page = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    alarms = page.locator("section[aria-labelledby=alarms]")
    expect(alarms.get_by_role("heading", name=w("Needs attention now"))).to_be_visible()
    expect(alarms.get_by_text(w("Crossing check-in missed"))).to_be_visible()
    assert page.locator(".inbox-link .count").inner_text() == "1"
    shoot(page, "30-alarm-dashboard")
    page.locator(".inbox-link").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    expect(page.locator(".inbox .urgent")).to_have_count(1)
    shoot(page, "31-inbox")
    page.get_by_role("link", name=case.reference).click()
    page.locator("#reminders input[name=reason]").first.fill("Reached them by phone: safe.")
    page.get_by_role("button", name=w("Acknowledge")).click()
    page.get_by_text(w("Reminder updated.")).wait_for()
    shoot(page, "32-acknowledged")
    page.goto(f"{live_server.url}/")
    assert page.get_by_text(w("Crossing check-in missed")).count() == 0
    assert Reminder.objects.get(kind=ReminderKind.CROSSING_CHECK_IN).state == ReminderState.DONE
    page.context.close()
