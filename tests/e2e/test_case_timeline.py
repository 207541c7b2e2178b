"""The case page's older timeline entries: opening the fold loads them in place (htmx);
without JavaScript its link opens them on a page of their own."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from casework.models import EventKind
from casework.services import cases as case_services
from tests.conftest import verified_client
from tests.e2e.test_accessibility import hand_session
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_case(team, volunteer):
    """Twelve notes, "entry 00" the oldest: the page shows eight and folds four away."""
    case = CaseFactory(team=team, assignee=volunteer)
    for number in range(12):
        case_services.case_note_add(
            case=case, by=volunteer, kind=EventKind.NOTE, text=f"entry {number:02d}"
        )
    return case


def test_opening_the_fold_loads_the_older_entries_in_place(page, live_server, volunteer, long_case):
    hand_session(page, live_server, verified_client(volunteer))
    address = f"{live_server.url}{reverse('casework:case_detail', args=[long_case.reference])}"
    page.goto(address)
    fold = page.locator("details.older")
    assert page.get_by_text("entry 03").count() == 0
    viewed = AccessEvent.objects.filter(action=Action.CASE_VIEWED, target_ref=long_case.reference)
    before = viewed.count()

    fold.get_by_text("4 older entries").click()
    fold.get_by_text("entry 00").wait_for()
    entries = fold.locator("li.event .pre").all_inner_texts()
    assert entries == ["entry 03", "entry 02", "entry 01", "entry 00"]
    assert fold.get_by_role("link", name="Show the older entries").count() == 0
    assert page.url == address  # in place: no page was loaded
    assert viewed.count() == before + 1

    # Closed and opened again: loaded once, asked once.
    fold.locator("summary").click()
    fold.locator("summary").click()
    fold.get_by_text("entry 00").wait_for()
    assert fold.locator("li.event").count() == 4
    assert viewed.count() == before + 1


def test_without_javascript_the_fold_links_to_a_page_of_older_entries(
    browser, live_server, volunteer, long_case
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    hand_session(page, live_server, verified_client(volunteer))
    page.goto(f"{live_server.url}{reverse('casework:case_detail', args=[long_case.reference])}")
    page.get_by_text("4 older entries").click()
    page.get_by_role("link", name="Show the older entries").click()
    page.get_by_role("heading", name=long_case.reference).wait_for()
    assert page.locator("li.event .pre").all_inner_texts() == [
        "entry 03",
        "entry 02",
        "entry 01",
        "entry 00",
    ]
    page.get_by_role("link", name="Back to the case").click()
    page.get_by_text("entry 11").wait_for()
    context.close()


def test_a_fold_opened_after_signing_out_loads_the_sign_in_page_whole(
    page, live_server, volunteer, long_case
):
    """The session is gone (expired, or ended elsewhere): opening the fold goes to the
    sign-in page as a page, and signing in would come back to the case, not the fold."""
    hand_session(page, live_server, verified_client(volunteer))
    case_page = reverse("casework:case_detail", args=[long_case.reference])
    page.goto(f"{live_server.url}{case_page}")
    page.context.clear_cookies()

    page.locator("details.older").get_by_text("4 older entries").click()
    page.wait_for_url(f"**{reverse('accounts:login')}?next=*")
    assert parse_qs(urlsplit(page.url).query)["next"] == [case_page]
    assert page.locator("details.older").count() == 0
    assert page.locator("input[name=password]").count() == 1
