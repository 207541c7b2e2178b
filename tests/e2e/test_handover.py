"""Handing a case over within a team, and transferring it to another team, clicked through
in English and Russian on a desktop and on a 360-px phone."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework.models import Case, CaseTransfer, EventKind, Stage, TransferState
from tests.e2e.conftest import SCREENSHOTS, shoot
from tests.e2e.test_case_journey import message, signed_in
from tests.factories import CaseFactory, PersonFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


NOTE = "Calls back after 18:00, Signal only. Promised a lawyer's number by Friday."


def snap(page, name: str) -> None:
    """The journey's screenshot, copied where SHOTS_DIR says if it is set (for review)."""
    shoot(page, name)
    if target := os.environ.get("SHOTS_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        file = f"{name}-{page.screen_name}.png"
        shutil.copy(SCREENSHOTS / file, Path(target) / file)


def test_a_volunteer_hands_a_case_over(browser, live_server, volunteer, team, screen, w):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    colleague = UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        stage=Stage.PLANNING,
        person=PersonFactory(legal_name="Fakename Handoverovich"),
    )

    vol = signed_in(browser, live_server, volunteer, viewport, name, w.locale)
    vol.goto(f"{live_server.url}/cases/{case.reference}/")
    vol.get_by_role("link", name=w("Hand over to another volunteer")).click()
    vol.get_by_label(w("Hand over to")).fill(colleague.username)
    # Sent without a note first: refused, the name kept.
    vol.get_by_role("button", name=w("Hand over"), exact=True).click()
    vol.get_by_text(w("Write a handover note: what the next volunteer must know.")).wait_for()
    snap(vol, "40-handover-refused")
    vol.get_by_label(w("Handover note")).fill(NOTE)
    snap(vol, "41-handover-form")
    vol.get_by_role("button", name=w("Hand over"), exact=True).click()
    vol.locator(".messages").wait_for()
    assert message(vol) == w(
        "%(reference)s is handed over to %(username)s.",
        reference=case.reference,
        username=colleague.username,
    )
    snap(vol, "42-handed-over")

    # The colleague finds it in their inbox and reads the note on the case.
    col = signed_in(browser, live_server, colleague, viewport, name, w.locale)
    col.goto(f"{live_server.url}/inbox/")
    expect(col.get_by_text(w("A case was handed over to you"))).to_be_visible()
    col.get_by_role("link", name=case.reference).click()
    col.get_by_text(NOTE).wait_for()
    snap(col, "43-handover-received")
    # "Since your last shift" lists the handover among what others changed.
    col.goto(f"{live_server.url}/")
    col.get_by_role("link", name=w("What changed since your last shift")).click()
    col.get_by_role("link", name=case.reference).wait_for()
    snap(col, "44-since-last-shift")

    case.refresh_from_db()
    assert case.assignee == colleague
    assert case.events.filter(kind=EventKind.HANDOVER).get().text == NOTE
    vol.context.close()
    col.context.close()


def test_a_transfer_is_accepted(browser, live_server, volunteer, coordinator, team, screen, w):
    viewport, screen_name = screen
    name = f"{screen_name}-{w.language}"
    south = TeamFactory(name="South")
    TeamFactory(name="East")  # no coordinator: a transfer there is refused
    south_coordinator = UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[south])
    south_volunteer = UserFactory(username="volunteer4", role=Role.VOLUNTEER, teams=[south])
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.SCREENING,
        flag_wanted=True,
        person=PersonFactory(legal_name="Fakename Transferovich"),
    )
    note = "The person moved to Rostov; your team has people there."

    coord = signed_in(browser, live_server, coordinator, viewport, name, w.locale)
    coord.goto(f"{live_server.url}/cases/{case.reference}/")
    coord.get_by_role("link", name=w("Transfer to another team")).click()
    coord.get_by_label(w("Transfer to team")).select_option(label="East")
    coord.get_by_label(w("Note for the other team")).fill(note)
    coord.get_by_role("button", name=w("Ask for the transfer")).click()
    coord.locator(".form-errors").wait_for()
    assert coord.get_by_label(w("Note for the other team")).input_value() == note
    snap(coord, "50-transfer-no-coordinator")
    coord.get_by_label(w("Transfer to team")).select_option(label="South")
    coord.get_by_role("button", name=w("Ask for the transfer")).click()
    coord.locator(".messages").wait_for()
    snap(coord, "51-transfer-asked")

    # The other team's coordinator follows the urgent notification to the pending transfer.
    other = signed_in(browser, live_server, south_coordinator, viewport, name, w.locale)
    other.goto(f"{live_server.url}/inbox/")
    other.get_by_role("link", name=case.reference).click()
    other.locator(f"a[href$='/transfers/{CaseTransfer.objects.get().pk}/']").click()
    other.get_by_text(note).wait_for()
    assert other.get_by_text("Fakename").count() == 0
    snap(other, "52-transfer-pending")
    other.get_by_label(w("Accept the case")).check()
    other.get_by_label(w("Assign to")).select_option(label=south_volunteer.username)
    other.get_by_role("button", name=w("Send the decision")).click()
    other.locator(".messages").wait_for()
    assert message(other) == w("%(reference)s is your team's case now.", reference=case.reference)
    other.get_by_text("Fakename Transferovich").wait_for()
    snap(other, "53-transfer-accepted")

    # The old team has lost it.
    response = coord.goto(f"{live_server.url}/cases/{case.reference}/")
    assert response.status == 404
    coord.goto(f"{live_server.url}/transfers/")
    snap(coord, "54-transfers-asker")

    case.refresh_from_db()
    assert (case.team, case.assignee) == (south, south_volunteer)
    assert CaseTransfer.objects.get().state == TransferState.ACCEPTED
    assert Case.objects.filter(team=team).count() == 0
    coord.context.close()
    other.context.close()
