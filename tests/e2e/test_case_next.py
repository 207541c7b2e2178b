"""The case page as a stressed volunteer reads it on a phone and a desktop, in English and
Russian: a refused move keeps them at the form with a link to what is missing, a check-in
reads as due until it is missed, and after follow-up the next step is closing."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from casework import scheduling
from casework.models import Reminder, ReminderKind, Stage
from tests.e2e.conftest import SCREENSHOTS, shoot
from tests.e2e.test_case_journey import one_tap_move, refused_move, signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


def seen(page, name: str) -> None:
    """What the screen shows, not the whole page: where the reader was left."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.screen_name}-screen.png"))


def next_panel(page):
    return page.locator("#next")


def test_refused_move_due_and_missed_check_in_then_closing(
    browser, live_server, volunteer, coordinator, team, screen, w
):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PREPARATION,
        risk_reviewed_at=timezone.now(),
        destination_country="GE",
        route_summary="Bus to the border, then on foot.",
        readiness_confirmed=False,
    )
    case_url = f"{live_server.url}/cases/{case.reference}/"
    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    coord.goto(case_url)

    # 2. "What is next" links the missing requirement to its checkbox; a refused move
    # keeps the reader at the form, its summary focused and linking there too.
    needs = w("Needs %(what)s first.", what=w("the readiness checklist"))
    expect(next_panel(coord).get_by_role("link", name=needs)).to_be_visible()
    refused_move(coord, w, "In transit")
    summary = coord.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link", name=needs)).to_be_visible()
    seen(coord, "40-move-refused-summary")
    shoot(coord, "40-move-refused-summary")
    coord.set_viewport_size(viewport)  # the full-page shot leaves the scroll where it was
    summary.get_by_role("link", name=needs).click()
    checkbox = coord.locator("#id_case-readiness_confirmed")
    expect(checkbox).to_be_in_viewport()
    seen(coord, "41-readiness-checkbox")
    shoot(coord, "41-readiness-checkbox")
    checkbox.check()
    coord.get_by_role("button", name=w("Save")).click()
    coord.get_by_text(w("Saved.")).wait_for()

    # 1. Just in transit: the check-in is due, not missed.
    one_tap_move(coord, w, "In transit")
    due = f"{w('Transit check-in')} · {w('due %(when)s', when='')}"
    expect(next_panel(coord)).to_contain_text(due)
    expect(coord.locator("#reminders")).to_contain_text(f"{w('Stage time limit')} · ")
    assert w("Transit check-in missed") not in coord.locator("main").inner_text()
    shoot(coord, "42-check-in-due")

    # Its time passes and the dispatcher alarms: now it is missed, and waits to be seen.
    Reminder.objects.filter(case=case, kind=ReminderKind.TRANSIT_CHECK_IN).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    scheduling.dispatch_due()
    coord.goto(case_url)
    missed = next_panel(coord).locator(".alarm-text")
    expect(missed).to_contain_text(w("Transit check-in"))
    expect(missed).to_contain_text(w("not yet acknowledged"))
    shoot(coord, "43-check-in-missed")

    # 4. In follow-up, closing is the next step: asked for by the volunteer, done by the
    # coordinator; a closed case has nothing next and the stage bar ends at Closed.
    case.refresh_from_db()
    Reminder.objects.filter(case=case).update(state="done")
    case.stage = Stage.FOLLOW_UP
    case.save(update_fields=["stage"])
    with transaction.atomic():  # as case_transition holds it
        scheduling.on_stage_entered(case, coordinator)
    vol = signed_in(browser, live_server, volunteer, viewport, name, w.locale)
    vol.goto(case_url)
    expect(next_panel(vol)).to_contain_text(w("Next step: close the case, with its outcome."))
    expect(next_panel(vol).get_by_role("link", name=w("Ask to close the case"))).to_be_visible()
    expect(vol.locator("#ask-approval")).to_be_visible()
    assert w("No forward move from here.") not in vol.locator("main").inner_text()
    shoot(vol, "44-follow-up-volunteer")

    coord.goto(case_url)
    expect(next_panel(coord)).to_contain_text(w("Next step: close the case, with its outcome."))
    next_panel(coord).get_by_role("link", name=w("Close the case")).click()
    coord.locator("#move").get_by_label(w("Outcome")).select_option(label=w("Safe"))
    shoot(coord, "45-follow-up-close")
    coord.get_by_role("button", name=w("Move"), exact=True).click()
    coord.get_by_text(w("Moved to %(stage)s.", stage=w("Closed"))).wait_for()
    expect(coord.locator(".progress [aria-current=step]")).to_have_text(w("Closed"))
    expect(next_panel(coord).get_by_role("button")).to_have_count(0)
    assert not Reminder.objects.filter(case=case, state="pending").exists()
    shoot(coord, "46-closed")
    vol.context.close()
    coord.context.close()
