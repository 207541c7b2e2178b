"""Search from the header in a browser, in English and in Russian, on a desktop and on a
360-px phone: one phone number written three ways finds the same case, the query never
reaches the address bar, and an empty search says what to type."""

import pytest
from django.urls import reverse

from casework.services.cases import person_indexes_refresh
from tests.conftest import verified_client
from tests.e2e.conftest import shoot
from tests.e2e.test_accessibility import hand_session
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

EMPTY = "Type what to search for."
SPELLINGS = ["+7 912 345-67-89", "8 (912) 3456789", "79123456789"]


def header_search(page, w, text: str) -> None:
    box = page.locator("header").get_by_role("searchbox", name=w("Search for"))
    box.fill(text)
    page.locator("header").get_by_role("button", name=w("Search")).click()
    page.wait_for_url("**/search/")


def test_search_by_a_phone_written_three_ways(page, live_server, w, volunteer, team):
    person = PersonFactory(phone="+79123456789", legal_name="Fakename Testovich")
    person_indexes_refresh(person)
    case = CaseFactory(team=team, person=person, assignee=volunteer)
    hand_session(page, live_server, verified_client(volunteer))
    page.goto(f"{live_server.url}{reverse('dashboard:home')}")

    search_page = f"{live_server.url}{reverse('dashboard:search')}"
    for number, spelling in enumerate(SPELLINGS, start=1):
        header_search(page, w, spelling)
        found = page.locator("#found-cases")
        found.get_by_role("link", name=case.reference).wait_for()
        assert page.url == search_page  # nothing typed is in the address
        heading = page.get_by_role("heading", level=2)
        assert heading.inner_text() == w("%(counter)s result") % {"counter": 1}
        # The page's own box keeps what was searched for, to correct and send again.
        assert page.get_by_label(w("Search for"), exact=True).last.input_value() == spelling
        shoot(page, f"70-search-phone-{number}")
    assert "912" not in " ".join(page.evaluate("[location.href, document.referrer]"))

    found.get_by_role("link", name=case.reference).click()
    page.get_by_role("heading", name=case.reference).wait_for()


def test_an_empty_search_says_what_to_type(browser, page, live_server, w, volunteer):
    """Refused with a 400, which the browser logs: asked in a tab of its own, as the
    shared tab fails a test on any console error."""
    context = browser.new_context(viewport=page.viewport_size, locale=w.locale)
    refused = context.new_page()
    refused.screen_name = page.screen_name
    hand_session(refused, live_server, verified_client(volunteer))
    refused.goto(f"{live_server.url}{reverse('dashboard:home')}")
    header_search(refused, w, "")
    refused.get_by_text(w(EMPTY)).first.wait_for()
    box = refused.get_by_label(w("Search for"), exact=True).last
    assert box.get_attribute("aria-invalid") == "true"
    shoot(refused, "71-search-empty")
    context.close()
