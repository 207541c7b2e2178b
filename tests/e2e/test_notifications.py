"""A notification of what someone else did, seen by the person it concerns: a coordinator
assigns a case, and the assignee finds it in the inbox under the case's reference; on a
desktop and a 360-px phone, in English and in Russian (chosen on the settings page)."""

import pytest
from playwright.sync_api import expect

from casework.models import Case, Notification, NotificationKind, ReminderKind
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


def test_assignment_notification_seen_by_the_assignee(
    browser, live_server, team, volunteer, coordinator, screen, w
):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    case: Case = CaseFactory(team=team)

    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    coord.get_by_label(w("Assign to")).select_option(label=volunteer.username)
    coord.get_by_role("button", name=w("Assign"), exact=True).click()
    coord.get_by_text(w("Assigned.")).wait_for()
    coord.context.close()
    # Waiting for them besides: an urgent alarm on another case, and a decided role change.
    alarm = CaseFactory(team=team, assignee=volunteer)
    Notification.objects.create(
        user=volunteer, kind=ReminderKind.CROSSING_CHECK_IN, subject=alarm.reference, urgent=True
    )
    Notification.objects.create(
        user=volunteer, kind=ReminderKind.GRANT_DECIDED, subject="G-2026-00001"
    )

    # The assignee signs in and chooses the interface's language on the settings page.
    vol = signed_in(browser, live_server, volunteer, viewport, name, "en-GB")
    vol.goto(f"{live_server.url}/account/")
    vol.get_by_label("Language").select_option(label=LANGUAGE_NAMES[w.language])
    vol.get_by_role("button", name="Save", exact=True).click()
    vol.get_by_text(w("Settings saved.")).wait_for()  # in the language just chosen
    shoot(vol, "40-notify-settings")

    # The header counts one unread; the inbox shows it under the case's reference.
    vol.locator(".inbox-link").click()
    vol.get_by_role("heading", name=w("Inbox"), exact=True).wait_for()
    groups = vol.locator("section.inbox-group")
    assert groups.count() == 3
    # The urgent group first, and said in words.
    expect(groups.first.get_by_role("link", name=alarm.reference)).to_be_visible()
    expect(groups.first.get_by_text(w("urgent"), exact=True).first).to_be_visible()
    group = vol.get_by_role("region", name=case.reference)
    expect(group.get_by_role("link", name=case.reference)).to_be_visible()
    expect(group.get_by_text(w(NotificationKind.ASSIGNED.label))).to_be_visible()
    shoot(vol, "41-notify-inbox")

    group.get_by_role("button", name=w("Mark read")).click()
    vol.get_by_role("heading", name=w("Inbox"), exact=True).wait_for()
    assert vol.locator(".inbox-link .count").inner_text() == "2"
    vol.get_by_role("region", name=case.reference).get_by_role("link").click()
    vol.wait_for_url(f"**/cases/{case.reference}/")
    vol.context.close()
