"""The board and the case list in a browser, at 1280 px and on a 360-px phone, in English
and Russian: every column reachable, badges whole, filters that narrow, a case's
reference and codename on one line."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from casework.models import Stage
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.e2e.words import Words
from tests.factories import CaseFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(params=["en", "ru"])
def w(request):
    return Words(request.param)


@pytest.fixture
def teammate(team):
    return UserFactory(username="teammate1", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def full_board(team, coordinator, volunteer, teammate):
    """Cases at every stage, several flagged (long badges in Russian), some lost contact,
    held by the coordinator, a volunteer, a teammate or nobody."""
    holders = [coordinator, volunteer, teammate, None]
    number = 0
    for stage in Stage:
        for _ in range(3):
            CaseFactory(
                team=team,
                stage=stage,
                person=PersonFactory(codename=f"Берёза-{number:02d}"),
                stage_entered_at=timezone.now() - timedelta(days=number + 1),
                assignee=holders[number % 4],
                flag_wanted=number % 3 == 0,
                flag_internal_passport_only=number % 4 == 1,
                flag_dependants=number % 5 == 2,
                lost_contact_at=timezone.now() if number % 7 == 3 else None,
            )
            number += 1
    return team


def badges_whole(page) -> list[str]:
    """The badges broken over two lines (an inline box with more than one line box)."""
    return page.locator(".badge").evaluate_all(
        "badges => badges.filter(b => b.getClientRects().length > 1).map(b => b.textContent)"
    )


@pytest.mark.parametrize("screen", SCREENS)
def test_every_column_of_the_board_is_reachable(
    browser, live_server, coordinator, full_board, screen, w
):
    page = signed_in(
        browser, live_server, coordinator, SCREENS[screen], f"{screen}-{w.language}", w.locale
    )
    page.goto(f"{live_server.url}/cases/board/")
    board = page.locator(".board")
    columns = page.locator(".board .column")
    assert columns.count() == len(Stage)
    scrolls = board.evaluate("b => b.scrollWidth > b.clientWidth")
    if scrolls:
        # The sideways scrollbar sits at the board's bottom edge, in the window once the
        # board is in view: no need to scroll down past the longest column to find it.
        if screen == "desktop":
            bottom = board.evaluate(
                "b => { b.scrollIntoView({block: 'start'});"
                " return b.getBoundingClientRect().bottom }"
            )
            assert bottom <= page.viewport_size["height"], bottom
        # Told in words too, with a link to every column.
        expect(page.get_by_text(w("The board scrolls sideways. Go to:"))).to_be_visible()
    assert badges_whole(page) == []
    shoot(page, "60-board")
    # The last column, one tap on its link away.
    page.locator(".board-stages a[href='#col-closed']").click()
    last = columns.last
    box = last.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1
    expect(last.get_by_role("heading")).to_be_visible()
    shoot(page, "61-board-last-column")
    page.context.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_board_filters_narrow_every_column(
    browser, live_server, coordinator, teammate, full_board, screen, w
):
    page = signed_in(
        browser, live_server, coordinator, SCREENS[screen], f"{screen}-{w.language}", w.locale
    )
    page.goto(f"{live_server.url}/cases/board/")
    page.get_by_label(w("Assignee")).select_option(label="teammate1")
    page.get_by_role("button", name=w("Filter")).click()
    page.wait_for_url("**/cases/board/?*assignee=*")
    cards = page.locator(".board .card")
    assert cards.count() == 7  # every fourth of the 30 cases, from the third
    assert "teammate1" in cards.first.inner_text()
    shoot(page, "62-board-filtered")
    page.get_by_role("link", name=w("Only mine")).click()
    page.wait_for_url("**/cases/board/?assignee=me")
    assert page.locator(".board .card").count() == 8
    assert page.locator(".board .card", has_text="teammate1").count() == 0
    page.context.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_case_list_filters_and_one_line_rows(
    browser, live_server, coordinator, full_board, screen, w
):
    page = signed_in(
        browser, live_server, coordinator, SCREENS[screen], f"{screen}-{w.language}", w.locale
    )
    page.goto(f"{live_server.url}/cases/?risk=flag_wanted")
    rows = page.locator("table.case-table tbody tr")
    assert rows.count() == 10
    # Reference and codename side by side: their tops level, not one under the other.
    for row in rows.all()[:3]:
        cell = row.locator("td").first
        link, codename = cell.locator("a").bounding_box(), cell.locator("span.muted").bounding_box()
        assert link and codename and abs(link["y"] - codename["y"]) < 6
    assert badges_whole(page) == []
    # A case's badges side by side in its risk cell, right of the cell's name on a phone.
    risk_cells = rows.locator("td:last-child .badges")
    assert risk_cells.count() == 10
    label_edge = rows.first.locator("td").last.evaluate("td => td.getBoundingClientRect().left")
    for badge in rows.locator("td:last-child .badge").all()[:6]:
        box = badge.bounding_box()
        assert box and (screen == "desktop" or box["x"] > label_edge + 50)
    shoot(page, "63-case-list-filtered")
    # A forged filter value: explained beside the field, the list still there.
    page.goto(f"{live_server.url}/cases/?assignee=99999")
    expect(page.locator(".field-error .error")).to_be_visible()
    assert rows.count() == 25
    shoot(page, "64-case-list-bad-filter")
    page.context.close()
