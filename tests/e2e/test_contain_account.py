"""An admin contains a phished volunteer account and sees what it touched."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import Action
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory, IntakeRequestFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(
    params=[({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def screen(request):
    return request.param


def touched(user, target, action, when):
    kind = "request" if target.reference.startswith("R-") else "case"
    with time_machine.travel(when, tick=False):
        record(
            action,
            actor=user,
            target_type=kind,
            target_ref=target.reference,
            team_id=target.team_id,
        )


def test_admin_contains_a_volunteer_and_sees_the_affected_list(
    browser, live_server, admin_user, volunteer, coordinator, team, screen
):
    viewport, name = screen
    now = timezone.now()
    old_case, seen_case, moved_case = CaseFactory.create_batch(3, team=team)
    request = IntakeRequestFactory(team=team, logged_by=volunteer)
    touched(volunteer, old_case, Action.CASE_VIEWED, now - timedelta(days=10))
    touched(volunteer, seen_case, Action.CASE_VIEWED, now - timedelta(days=2))
    touched(volunteer, moved_case, Action.CASE_MOVED, now - timedelta(hours=5))
    touched(volunteer, request, Action.REQUEST_VIEWED, now - timedelta(hours=3))
    # The phisher's browser, signed in as the volunteer.
    phisher = signed_in(browser, live_server, volunteer, viewport, name)

    page = signed_in(browser, live_server, admin_user, viewport, name)
    page.goto(f"{live_server.url}{reverse('accounts:members')}")
    row = page.get_by_role("row").filter(has_text="volunteer1")
    row.get_by_role("link", name="Contain account").click()
    since = timezone.localtime(now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("List what it touched since").fill(since)
    page.get_by_label("Why you believe it is compromised").fill("Reported a fake sign-in page")
    shoot(page, "70-contain-confirm")
    page.get_by_role("button", name="Contain the account").click()

    page.get_by_role("heading", name="volunteer1 is contained").wait_for()
    listed = page.locator("tbody").inner_text()
    for target in (seen_case, moved_case, request):
        assert target.reference in listed
    assert old_case.reference not in listed
    assert "Stage changed" in listed
    shoot(page, "71-contain-result")

    # Coming back later from the list of containments shows the same page.
    page.goto(f"{live_server.url}{reverse('casework:containment_list')}")
    page.get_by_role("link", name="volunteer1").click()
    assert moved_case.reference in page.locator("tbody").inner_text()

    phisher.reload()
    assert phisher.url.startswith(f"{live_server.url}{reverse('accounts:login')}")
    phisher.context.close()
    page.context.close()
