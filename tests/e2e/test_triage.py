"""Triage, one-tap undo and the fields people fill naturally, clicked through on a desktop
and a 360-px phone, in English and Russian."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from casework.models import Case, CaseEvent, EventKind, Person, Stage
from destinations.countries import country_name
from intake.models import IntakeRequest, TriageState
from intake.services import intake_accept, intake_log
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = [({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")]


@pytest.fixture(params=SCREENS, ids=["desktop", "phone"])
def screen(request):
    return request.param


def test_a_repeat_request_is_attached_not_doubled(
    browser, live_server, coordinator, team, screen, w
):
    known = intake_accept(
        request=intake_log(
            by=coordinator,
            team=team,
            channel="phone",
            received_at=timezone.now() - timedelta(days=4),
            contact="+7 900 123-45-67",
        ),
        by=coordinator,
    )
    repeat = intake_log(
        by=coordinator,
        team=team,
        channel="telegram",
        received_at=timezone.now() - timedelta(hours=3, minutes=5),
        contact="8 900 123 45 67",
        message="Пишу снова, с другого телефона.",  # noqa: RUF001 (Russian on purpose)
    )
    intake_log(
        by=coordinator,
        team=team,
        channel="signal",
        received_at=timezone.now() - timedelta(days=2),
        contact="@new_person",
    )
    viewport, name = screen
    page = signed_in(browser, live_server, coordinator, viewport, f"{name}-{w.language}", w.locale)

    # The queue: how long each waits, and which may be a duplicate.
    page.goto(f"{live_server.url}/intake/")
    row = page.locator("tr", has_text=repeat.reference)
    expect(row.get_by_text(w("possible duplicate"))).to_be_visible()
    assert page.locator("tr", has=page.get_by_text(w("possible duplicate"))).count() == 1
    shoot(page, "triage-queue")

    # The request: attaching is the prominent action; a new case needs the tick.
    row.get_by_role("link", name=repeat.reference).click()
    match = page.locator("#duplicates li", has_text=known.reference)
    expect(match.get_by_text(f"{w('Matched on')}: {w('Phone number')}")).to_be_visible()
    attach = match.get_by_role("button", name=w("Attach to this case"))
    assert "primary" in (attach.get_attribute("class") or "")
    shoot(page, "triage-duplicate")
    page.locator("#open-case").get_by_role("button", name=w("Open a new case")).click()
    page.locator("#open-case .field-error, #open-case .form-errors").first.wait_for()
    assert Case.objects.count() == 1
    shoot(page, "triage-confirm-asked")

    page.locator("#duplicates li", has_text=known.reference).get_by_role(
        "button", name=w("Attach to this case")
    ).click()
    page.get_by_text(w("Attached to %(reference)s.", reference=known.reference)).wait_for()
    repeat.refresh_from_db()
    assert (repeat.state, repeat.case_id) == (TriageState.ACCEPTED, known.pk)
    assert IntakeRequest.objects.filter(state=TriageState.NEW).count() == 1


def test_a_contact_logged_by_mistake_is_undone(
    browser, live_server, volunteer, coordinator, team, screen, w
):
    case = CaseFactory(team=team, assignee=volunteer, coordinator=coordinator, stage=Stage.PLANNING)
    viewport, name = screen
    page = signed_in(browser, live_server, volunteer, viewport, f"{name}-{w.language}", w.locale)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.get_by_role("button", name=w("Log contact")).click()
    page.get_by_text(w("Contact logged.")).wait_for()
    undo = page.locator("#undo")
    expect(undo).to_be_visible()
    assert undo.bounding_box()["y"] < viewport["height"]  # where the thumb just was: on top
    shoot(page, "undo-offered")
    undo.get_by_role("button", name=w("Undo")).click()
    page.get_by_text(w("Undone: %(what)s.", what=w("a logged contact"))).wait_for()
    assert page.locator("#undo").count() == 0
    shoot(page, "undo-done")
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).exists()


def test_destination_language_and_a_cyrillic_email_fill_naturally(
    browser, live_server, volunteer, team, screen, w
):
    case = CaseFactory(team=team, assignee=volunteer, stage=Stage.PLANNING)
    viewport, name = screen
    page = signed_in(browser, live_server, volunteer, viewport, f"{name}-{w.language}", w.locale)
    page.goto(f"{live_server.url}/cases/{case.reference}/edit/")
    with translation.override(w.language):
        georgia = country_name("GE")
        ukrainian = translation.gettext("Ukrainian")
    page.locator("select[name=case-destination_country]").select_option(label=georgia)
    page.locator("select[name=person-preferred_language]").select_option(label=ukrainian)
    page.locator("input[name=person-email]").fill("user@пример.рф")
    shoot(page, "natural-fields")
    page.get_by_role("button", name=w("Save")).click()
    page.get_by_text(w("Saved.")).wait_for()
    expect(page.get_by_text(georgia, exact=True)).to_be_visible()
    shoot(page, "natural-fields-saved")
    case.refresh_from_db()
    person = Person.objects.get(pk=case.person_id)
    assert (case.destination_country, person.preferred_language) == ("GE", "uk")
    assert person.email == "user@пример.рф"
