"""A coordinator puts a case on legal hold, finds erasure refused while it holds, lifts it
and erases the person's data at their request: clicked through on a desktop and a phone."""

import pytest
from faker import Faker

from casework.models import Case, Stage
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "screen",
    [({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def test_hold_then_erase_on_request(browser, live_server, coordinator, team, screen):
    fake = Faker("ru_RU")
    name = fake.name()
    case = CaseFactory(
        team=team,
        stage=Stage.PLANNING,
        person=PersonFactory(legal_name=name, phone="+7 912 345-67-89"),
    )
    page = signed_in(browser, live_server, coordinator, *screen)
    case_url = f"{live_server.url}/cases/{case.reference}/"
    page.goto(case_url)
    assert name in page.content()

    page.get_by_role("link", name="Put on legal hold").click()
    page.get_by_role("button", name="Set the hold").click()  # no reason: refused, stays
    page.get_by_text("Give a reason").first.wait_for()
    page.get_by_label("Reason").fill("Asylum hearing needs the record")
    shoot(page, "retention-hold-form")
    page.get_by_role("button", name="Set the hold").click()
    page.get_by_text("On legal hold since").wait_for()
    shoot(page, "retention-on-hold")

    page.get_by_role("link", name="Erase personal data at the person's request").click()
    page.get_by_text("is on legal hold").first.wait_for()
    assert page.get_by_role("button", name="Erase now").count() == 0
    shoot(page, "retention-erase-refused")

    page.goto(case_url)
    page.get_by_role("link", name="Lift the legal hold").click()
    page.get_by_label("Reason").fill("Hearing over")
    page.get_by_role("button", name="Lift the hold").click()
    page.get_by_text("Not on legal hold").wait_for()

    page.get_by_role("link", name="Erase personal data at the person's request").click()
    page.get_by_label("Reason").fill("Asked on the known Signal number")
    page.get_by_role("button", name="Erase now").click()  # not confirmed: refused, kept
    page.get_by_text("Confirm that the person asked").first.wait_for()
    assert page.get_by_label("Reason").input_value() == "Asked on the known Signal number"
    page.get_by_label("The request came from the person themselves").check()
    shoot(page, "retention-erase-form")
    page.get_by_role("button", name="Erase now").click()
    page.get_by_text("Anonymised on").wait_for()
    shoot(page, "retention-erased")
    assert name not in page.content()
    case = Case.objects.select_related("person").get(pk=case.pk)
    assert (case.stage, case.person.legal_name, case.person.phone) == (Stage.CLOSED, "", "")
