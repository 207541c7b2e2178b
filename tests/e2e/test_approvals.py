"""Asking the coordinator for a move, clicked through: the volunteer asks, the coordinator
finds it on the dashboard, the board and the case page, and approves or declines; in
English and Russian, on a desktop and on a 360-px phone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.models import ApprovalRequest, ApprovalState, Case, Stage
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Tickets for the night bus are bought."


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


@pytest.fixture
def ready_case(team, volunteer, coordinator):
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PREPARATION,
        stage_entered_at=timezone.now() - timedelta(hours=3),
        risk_reviewed_at=timezone.now(),
        destination_country="GE",
        route_summary="Bus to the border, then on foot.",
        readiness_confirmed=True,
    )


def message(page) -> str:
    return page.locator(".messages .message").first.inner_text()


def ask_for_approval(page, live_server, w, case, prefix):
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    # The next step says it waits for the coordinator, and offers to ask.
    page.locator("#next").get_by_role("link", name=w("Ask for approval")).click()
    form = page.locator("#ask-approval")
    form.get_by_label(w("Move to")).select_option(label=w("In transit"))
    form.get_by_label(w("Note for the coordinator")).fill(NOTE)
    shoot(page, f"{prefix}-10-ask")
    form.get_by_role("button", name=w("Ask for approval")).click()
    page.locator(".messages").wait_for()
    assert message(page) == w("Approval asked. The team's coordinators have been told.")
    expect(page.locator("#approval").get_by_text(NOTE)).to_be_visible()
    shoot(page, f"{prefix}-11-asked")


def open_from_dashboard(page, live_server, w, case, prefix):
    page.goto(f"{live_server.url}/")
    block = page.locator("section[aria-labelledby=alarms]")
    row = block.locator("li", has=page.get_by_role("link", name=case.reference))
    expect(row.locator(".badge-approval")).to_be_visible()
    shoot(page, f"{prefix}-20-dashboard")
    page.goto(f"{live_server.url}/cases/board/")
    card = page.locator(".card", has=page.get_by_role("link", name=case.reference))
    expect(card.get_by_text(w("waiting for approval"))).to_be_visible()
    card.scroll_into_view_if_needed()  # the board scrolls sideways on a phone
    shoot(page, f"{prefix}-21-board")
    page.goto(f"{live_server.url}/")
    block.get_by_role("link", name=case.reference).click()
    panel = page.locator("#approval")
    expect(panel.get_by_role("heading", name=w("Waiting for approval"))).to_be_visible()
    expect(panel.get_by_text(NOTE)).to_be_visible()
    shoot(page, f"{prefix}-22-case")
    return panel


def test_ask_then_approve(browser, live_server, volunteer, coordinator, ready_case, screen, w):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    vol = signed_in(browser, live_server, volunteer, viewport, name, w.locale)
    ask_for_approval(vol, live_server, w, ready_case, "approve")

    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    panel = open_from_dashboard(coord, live_server, w, ready_case, "approve")
    approve = w("Approve: move to %(stage)s", stage=w("In transit"))
    panel.get_by_role("button", name=approve).click()
    coord.locator(".messages").wait_for()
    assert message(coord) == w("Approved: moved to %(stage)s.", stage=w("In transit"))
    assert Case.objects.get(pk=ready_case.pk).stage == Stage.IN_TRANSIT
    assert coord.locator("#approval").count() == 0
    shoot(coord, "approve-30-approved")

    # The volunteer finds the case moved, and the approval on the timeline.
    vol.goto(f"{live_server.url}/cases/{ready_case.reference}/")
    expect(vol.locator(".event-approval").first.get_by_text(w("approved"))).to_be_visible()
    shoot(vol, "approve-31-volunteer-sees")


def test_ask_then_decline(browser, live_server, volunteer, coordinator, ready_case, screen, w):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    vol = signed_in(browser, live_server, volunteer, viewport, name, w.locale)
    ask_for_approval(vol, live_server, w, ready_case, "decline")

    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    panel = open_from_dashboard(coord, live_server, w, ready_case, "decline")
    # Without a reason: refused, nothing lost.
    panel.get_by_role("button", name=w("Decline"), exact=True).click()
    panel = coord.locator("#approval")
    panel.get_by_text(w("Say why the move is declined.")).first.wait_for()
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING
    shoot(coord, "decline-30-no-reason")
    panel.get_by_label(w("Reason for declining")).fill("The border post is closed tonight.")
    panel.get_by_role("button", name=w("Decline"), exact=True).click()
    coord.locator(".messages").wait_for()
    assert message(coord) == w("Declined. The one who asked has been told why.")
    assert ApprovalRequest.objects.get().state == ApprovalState.DECLINED
    assert Case.objects.get(pk=ready_case.pk).stage == Stage.PREPARATION
    shoot(coord, "decline-31-declined")

    # The volunteer reads why, and may ask again.
    vol.goto(f"{live_server.url}/cases/{ready_case.reference}/")
    expect(vol.get_by_text("The border post is closed tonight.").first).to_be_visible()
    expect(vol.locator("#ask-approval")).to_be_visible()
    shoot(vol, "decline-32-volunteer-sees")
