"""From a first message to a closed case, clicked through as the volunteer and the
coordinator would, on a desktop and on a 360-px phone."""

import pytest
from django.utils.text import capfirst
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.models import AuthenticatorDevice
from casework.models import Case, Stage
from intake.models import IntakeRequest, TriageState
from tests.e2e.conftest import shoot
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(browser, live_server, user, viewport, screen_name, locale="en-GB"):
    device = AuthenticatorDevice.objects.create(user=user, name="app", confirmed=True)
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.screen_name = screen_name
    page.goto(f"{live_server.url}/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit].primary").click()
    page.locator("input[name=code]").fill(f"{totp(device.bin_key):06d}")
    page.locator("button[type=submit].primary").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def move(page, w, stage, reason="", outcome=""):
    page.locator("#move").get_by_label(w("Move to")).select_option(label=w(stage))
    if reason:
        page.locator("#move").get_by_label(w("Reason")).fill(reason)
    if outcome:
        page.locator("#move").get_by_label(w("Outcome")).select_option(label=w(outcome))
    page.get_by_role("button", name=w("Move"), exact=True).click()
    page.get_by_text(w("Moved to %(stage)s.", stage=w(stage))).wait_for()


def one_tap_move(page, w, stage):
    page.get_by_role("button", name=w("Move to %(stage)s", stage=w(stage))).click()
    page.get_by_text(w("Moved to %(stage)s.", stage=w(stage))).wait_for()


def refused_move(page, w, stage):
    page.locator("#move").get_by_label(w("Move to")).select_option(label=w(stage))
    page.get_by_role("button", name=w("Move"), exact=True).click()
    page.locator(".form-errors").first.wait_for()


def edit(page, w, **fields):
    """Fills the edit form; fields are named by the model's verbose names."""
    page.get_by_role("link", name=w("Edit details")).click()
    for label, value in fields.items():
        field = page.get_by_label(capfirst(w(label)), exact=True)
        if field.get_attribute("type") == "checkbox":
            field.check()
        elif field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name=w("Save")).click()
    page.get_by_text(w("Saved.")).wait_for()


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


def message(page) -> str:
    return page.locator(".messages .message").first.inner_text()


def test_first_contact_to_closed_case(browser, live_server, volunteer, coordinator, screen, w):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    vol = signed_in(browser, live_server, volunteer, viewport, name, w.locale)

    # The volunteer logs a request from a phone call.
    vol.get_by_role("link", name=w("Log a request")).first.click()
    vol.get_by_label(w("Channel")).select_option(label=w("Phone"))
    vol.get_by_label(w("Contact"), exact=True).fill("+7 900 123-45-67")
    vol.get_by_label(w("Message")).fill("Received a summons, wants to leave before Monday.")
    vol.get_by_label(w("Category (a guess)")).select_option(label=w("Mobilised reservist"))
    shoot(vol, "20-intake-form")
    vol.get_by_role("button", name=w("Log it")).click()
    vol.locator(".messages").wait_for()
    first = IntakeRequest.objects.get()
    assert message(vol) == w("Logged as %(reference)s.", reference=first.reference)
    shoot(vol, "21-triage-queue")

    # Triage: open a case.
    vol.get_by_role("link", name=first.reference).click()
    vol.get_by_role("button", name=w("Open a new case")).click()
    vol.locator(".messages").wait_for()
    case = Case.objects.get()
    assert message(vol) == w("Case %(reference)s opened.", reference=case.reference)
    shoot(vol, "22-new-case")

    # The same person writes again, the number spelled differently: triage finds the case.
    vol.goto(f"{live_server.url}/intake/new/")
    vol.get_by_label(w("Channel")).select_option(label=w("Telegram"))
    vol.get_by_label(w("Contact"), exact=True).fill("8 (900) 123 45 67")
    vol.get_by_role("button", name=w("Log it")).click()
    vol.locator(".messages").wait_for()
    repeat = IntakeRequest.objects.get(state=TriageState.NEW)
    vol.get_by_role("link", name=repeat.reference).click()
    expect(vol.get_by_role("link", name=case.reference)).to_be_visible()
    shoot(vol, "23-duplicate-found")
    vol.get_by_role("button", name=w("Mark as a duplicate")).click()
    duplicate = w("Marked as a duplicate of %(reference)s.", reference=case.reference)
    vol.get_by_text(duplicate).wait_for()

    # The coordinator assigns the case to the volunteer.
    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    coord.get_by_label(w("Assign to")).select_option(label=volunteer.username)
    coord.get_by_role("button", name=w("Assign"), exact=True).click()
    coord.get_by_text(w("Assigned.")).wait_for()

    # The volunteer works the case through screening, planning and preparation, with the
    # one-tap buttons where nothing more needs asking.
    vol.goto(f"{live_server.url}/cases/{case.reference}/")
    shoot(vol, "24-case-new")
    one_tap_move(vol, w, "Screening")
    vol.get_by_role("button", name=w("Log contact")).click()
    vol.get_by_text(w("Contact logged.")).wait_for()
    edit(vol, w, **{"on a wanted list": True, "legal name": "Fakename Testovich"})
    one_tap_move(vol, w, "Planning")
    refused_move(vol, w, "Preparation")
    destination = w("Needs %(what)s first.", what=w("a destination country"))
    expect(vol.get_by_text(destination).first).to_be_visible()
    shoot(vol, "25-move-refused")
    edit(
        vol,
        w,
        **{"destination country": "GE", "route summary": "Bus to the border, then on foot."},
    )
    one_tap_move(vol, w, "Preparation")
    edit(vol, w, **{"documents, tickets, money and housing ready": True})
    refused_move(vol, w, "In transit")
    coordinator_only = w("Only the team's coordinator can approve this move.")
    expect(vol.get_by_text(coordinator_only).first).to_be_visible()

    # The coordinator approves the risky stages.
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    one_tap_move(coord, w, "In transit")
    edit(
        coord,
        w,
        **{
            "crossing window opens": "2030-06-01T20:00",
            "crossing window closes": "2030-06-02T06:00",
        },
    )
    one_tap_move(coord, w, "Crossing")
    shoot(coord, "26-crossing")

    # "We are safe": arrival, a check-in, follow-up, closed.
    vol.goto(f"{live_server.url}/cases/{case.reference}/")
    one_tap_move(vol, w, "Arrived")
    vol.get_by_label(w("What"), exact=True).select_option(label=w("Check-in"))
    vol.get_by_label(w("Text"), exact=True).fill("We are safe.")
    vol.get_by_role("button", name=w("Add to timeline")).click()
    vol.get_by_text(w("Check-in recorded.")).wait_for()
    shoot(vol, "27-arrived")
    one_tap_move(vol, w, "Follow-up")
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    move(coord, w, "Closed", outcome="Safe")
    shoot(coord, "28-closed")

    case.refresh_from_db()
    assert (case.stage, case.outcome) == (Stage.CLOSED, "safe")
    stages = list(
        case.events.filter(kind="stage").order_by("created_at").values_list("to_stage", flat=True)
    )
    assert stages == [
        "screening",
        "planning",
        "preparation",
        "in_transit",
        "crossing",
        "arrived",
        "follow_up",
        "closed",
    ]
    vol.context.close()
    coord.context.close()
