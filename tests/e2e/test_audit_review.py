"""An admin finds who looked at a case."""

import pytest
from django.urls import reverse

from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_admin_finds_a_cases_access_history(
    browser, live_server, admin_user, coordinator, team, viewport, w
):
    case = CaseFactory(team=team)
    looker = signed_in(browser, live_server, coordinator, {"width": 1280, "height": 800}, "desktop")
    looker.goto(f"{live_server.url}{reverse('casework:case_detail', args=[case.reference])}")
    looker.context.close()

    name = ("desktop" if viewport["width"] > 600 else "phone") + f"-{w.language}"
    page = signed_in(browser, live_server, admin_user, viewport, name, w.locale)
    page.get_by_role("navigation").get_by_role("link", name=w("Audit")).click()
    page.get_by_label(w("Case or request reference")).fill(case.reference.lower())
    page.get_by_role("button", name=w("Filter")).click()
    row = page.locator("tbody tr").first
    assert w("Case viewed") in row.inner_text() and "coordinator1" in row.inner_text()
    shoot(page, "40-audit-case-history")
    page.context.close()
