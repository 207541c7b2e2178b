"""From a first message to a closed case, clicked through as the volunteer and the
coordinator would, on a desktop and on a 360-px phone."""

import pytest
from django_otp.oath import totp

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


def move(page, stage_label, reason="", outcome=""):
    page.get_by_label("Move to").select_option(label=stage_label)
    if reason:
        page.get_by_label("Reason").fill(reason)
    if outcome:
        page.get_by_label("Outcome").select_option(label=outcome)
    page.get_by_role("button", name="Move", exact=True).click()


def edit(page, **fields):
    page.get_by_role("link", name="Edit details").click()
    for label, value in fields.items():
        field = page.get_by_label(label, exact=True)
        if field.get_attribute("type") == "checkbox":
            field.check()
        else:
            field.fill(value)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


def test_first_contact_to_closed_case(browser, live_server, volunteer, coordinator, screen):
    viewport, name = screen
    vol = signed_in(browser, live_server, volunteer, viewport, name)

    # The volunteer logs a request from a phone call.
    vol.get_by_role("link", name="Log a request").click()
    vol.get_by_label("Channel").select_option(label="Phone")
    vol.get_by_label("Contact").fill("+7 900 123-45-67")
    vol.get_by_label("Message").fill("Received a summons, wants to leave before Monday.")
    vol.get_by_label("Category (a guess)").select_option(label="Mobilised reservist")
    shoot(vol, "20-intake-form")
    vol.get_by_role("button", name="Log it").click()
    vol.get_by_text("Logged as R-").wait_for()
    shoot(vol, "21-triage-queue")

    # Triage: open a case.
    first = IntakeRequest.objects.get()
    vol.get_by_role("link", name=first.reference).click()
    vol.get_by_role("button", name="Open a new case").click()
    vol.get_by_text("opened.").wait_for()
    case = Case.objects.get()
    shoot(vol, "22-new-case")

    # The same person writes again, the number spelled differently: triage finds the case.
    vol.goto(f"{live_server.url}/intake/new/")
    vol.get_by_label("Channel").select_option(label="Telegram")
    vol.get_by_label("Contact").fill("8 (900) 123 45 67")
    vol.get_by_role("button", name="Log it").click()
    repeat = IntakeRequest.objects.get(state=TriageState.NEW)
    vol.get_by_role("link", name=repeat.reference).click()
    assert vol.get_by_role("link", name=case.reference).is_visible()
    shoot(vol, "23-duplicate-found")
    vol.get_by_role("button", name="Mark as a duplicate").click()
    vol.get_by_text(f"Marked as a duplicate of {case.reference}").wait_for()

    # The coordinator assigns the case to the volunteer.
    coord = signed_in(browser, live_server, coordinator, viewport, name)
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    coord.get_by_label("Assign to").select_option(label=volunteer.username)
    coord.get_by_role("button", name="Assign", exact=True).click()
    coord.get_by_text("Assigned.").wait_for()

    # The volunteer works the case through screening, planning and preparation.
    vol.goto(f"{live_server.url}/cases/{case.reference}/")
    move(vol, "Screening")
    vol.get_by_text("Moved to Screening.").wait_for()
    edit(vol, **{"On a wanted list": True, "Legal name": "Fakename Testovich"})
    move(vol, "Planning")
    vol.get_by_text("Moved to Planning.").wait_for()
    move(vol, "Preparation")
    assert vol.get_by_text("Needs a destination country first.").first.is_visible()
    shoot(vol, "24-move-refused")
    edit(vol, **{"Destination country": "GE", "Route summary": "Bus to the border, then on foot."})
    move(vol, "Preparation")
    edit(vol, **{"Documents, tickets, money and housing ready": True})
    move(vol, "In transit")
    assert vol.get_by_text("Only the team's coordinator can approve this move.").first.is_visible()

    # The coordinator approves the risky stages.
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    move(coord, "In transit")
    coord.get_by_text("Moved to In transit.").wait_for()
    edit(
        coord,
        **{
            "Crossing window opens": "2030-06-01T20:00",
            "Crossing window closes": "2030-06-02T06:00",
        },
    )
    move(coord, "Crossing")
    coord.get_by_text("Moved to Crossing.").wait_for()
    shoot(coord, "25-crossing")

    # "We are safe": arrival, a check-in, follow-up, closed.
    vol.goto(f"{live_server.url}/cases/{case.reference}/")
    move(vol, "Arrived")
    vol.get_by_text("Moved to Arrived.").wait_for()
    vol.get_by_label("What").select_option(label="Check-in")
    vol.get_by_label("Text").fill("We are safe.")
    vol.get_by_role("button", name="Add to timeline").click()
    move(vol, "Follow-up")
    vol.get_by_text("Moved to Follow-up.").wait_for()
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    move(coord, "Closed", outcome="Safe")
    coord.get_by_text("Moved to Closed.").wait_for()
    shoot(coord, "26-closed")

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


def test_the_case_pages_speak_russian(browser, live_server, volunteer, team):
    from tests.factories import CaseFactory

    case = CaseFactory(team=team, assignee=volunteer)
    page = signed_in(
        browser, live_server, volunteer, {"width": 360, "height": 740}, "phone-ru", "ru-RU"
    )
    assert page.get_by_role("heading", name="Обзор").is_visible()
    shoot(page, "27-dashboard")
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    shoot(page, "28-case")
    page.context.close()
