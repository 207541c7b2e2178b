"""Without a mouse: the skip link comes first, focus always shows, Tab follows the page's
order, and a whole form can be filled in and sent from the keyboard."""

import re

import pytest
from django.urls import reverse

from intake.models import IntakeRequest
from tests.conftest import verified_client
from tests.e2e.test_accessibility import hand_session
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Keyboard users are at a desk far more often than on a phone; once is enough here.
desktop = pytest.mark.parametrize("page", [(1280, 800)], ids=["desktop"], indirect=True)

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  // What the ring is drawn against: the nearest ancestor with a background of its own.
  let behind = getComputedStyle(document.documentElement).backgroundColor;
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") { behind = colour; break; }
  }
  const box = el.getBoundingClientRect();
  return {
    key: el.dataset.order ?? null,
    tag: el.tagName.toLowerCase(),
    id: el.id,
    classes: el.className,
    text: (el.innerText || el.value || "").trim().slice(0, 40),
    href: el.getAttribute("href"),
    inMain: !!el.closest("main"),
    isMain: el.tagName === "MAIN",
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.left < innerWidth,
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
    behind,
  };
}"""

# Numbers main's tabbable elements in document order (one per radio group, as Tab goes).
NUMBER_MAIN = """() => {
  const candidates = document.querySelectorAll(
    "main a[href], main button, main input, main select, main textarea, main summary," +
    " main [tabindex]");
  const groups = new Set();
  let order = 0;
  for (const el of candidates) {
    if (el.disabled || el.tabIndex < 0 || el.type === "hidden") continue;
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    if (el.type === "radio") {
      if (groups.has(el.name)) continue;
      groups.add(el.name);
    }
    el.dataset.order = String(order++);
  }
  return order;
}"""

RGB = re.compile(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)")


def _luminance(colour: str) -> float | None:
    match = RGB.search(colour)
    if match is None or (match[4] is not None and float(match[4]) == 0):
        return None
    channels = []
    for value in (float(match[i]) / 255 for i in (1, 2, 3)):
        channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(one: str, other: str) -> float:
    first, second = _luminance(one), _luminance(other)
    if first is None or second is None:
        return 0.0
    lighter, darker = max(first, second), min(first, second)
    return (lighter + 0.05) / (darker + 0.05)


def focus_shows(focused: dict) -> bool:
    """A ring at least 2 px wide, or a shadow, that stands out 3:1 from what is behind it
    (WCAG 2.4.7 and 1.4.11)."""
    outline = (
        focused["outlineStyle"] != "none"
        and focused["outlineWidth"] >= 2
        and _contrast(focused["outlineColor"], focused["behind"]) >= 3
    )
    shadow = (
        focused["boxShadow"] != "none" and _contrast(focused["boxShadow"], focused["behind"]) >= 3
    )
    return outline or shadow


def assert_visible(focused: dict) -> None:
    assert focused["onScreen"], f"focus went to something off screen: {focused}"
    assert focus_shows(focused), f"focus does not show on {focused}"


def tab(page) -> dict:
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert_visible(focused)
    return focused


def tab_to_skip_link_and_follow_it(page) -> None:
    focused = tab(page)
    assert "skip-link" in focused["classes"], f"Tab first reached {focused}, not the skip link"
    assert focused["text"] == "Skip to content"
    page.keyboard.press("Enter")
    focused = page.evaluate(FOCUSED)
    assert focused["isMain"] or focused["inMain"], f"the skip link left focus on {focused}"


def walk_main(page) -> list[str]:
    """Tab through main from its start; the order each element was first reached in."""
    total = page.evaluate(NUMBER_MAIN)
    reached: list[str] = []
    for _press in range(total * 8 + 10):  # a date-time input takes a Tab per part
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if not focused["inMain"]:
            break
        assert_visible(focused)
        if focused["key"] is not None and (not reached or reached[-1] != focused["key"]):
            reached.append(focused["key"])
    return reached


@desktop
def test_the_sign_in_page_works_from_the_keyboard(page, live_server):
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    tab_to_skip_link_and_follow_it(page)
    assert tab(page)["id"] == "id_username"
    assert tab(page)["id"] == "id_password"
    assert tab(page)["text"] == "Continue"


@desktop
def test_a_case_page_walks_the_navigation_then_the_page_in_order(
    page, live_server, volunteer, team
):
    case = CaseFactory(team=team, assignee=volunteer)
    hand_session(page, live_server, verified_client(volunteer))
    page.goto(f"{live_server.url}{reverse('casework:case_detail', args=[case.reference])}")

    # From the top: the skip link, the name of the site, the navigation, the search box and
    # its button, inbox, sign out.
    assert "skip-link" in tab(page)["classes"]
    assert tab(page)["text"] == "Safe Passage"
    links = page.eval_on_selector_all("header nav a", "links => links.map(a => a.href)")
    assert len(links) >= 5
    for href in links:
        focused = tab(page)
        assert live_server.url + focused["href"] == href, f"expected {href}, got {focused}"
    assert tab(page)["id"] == "header-search"
    assert tab(page)["text"] == "Search"
    assert tab(page)["text"].startswith("Inbox")
    assert tab(page)["text"] == "Sign out"

    # Again from the top, skipping to the content: every control of main, in page order.
    page.reload()
    tab_to_skip_link_and_follow_it(page)
    total = page.evaluate(NUMBER_MAIN)
    reached = walk_main(page)
    assert total > 5
    assert reached == [str(number) for number in range(total)]


@desktop
def test_a_request_is_logged_with_the_keyboard_alone(page, live_server, volunteer):
    hand_session(page, live_server, verified_client(volunteer))
    page.goto(f"{live_server.url}{reverse('intake:new')}")
    tab_to_skip_link_and_follow_it(page)

    assert tab(page)["id"] == "id_channel"
    page.keyboard.type("Phone")  # a select jumps to the option typed
    focused = tab(page)
    while focused["id"] == "id_received_at":  # its day, month, year, hours and minutes
        focused = tab(page)
    assert focused["id"] == "id_contact"
    page.keyboard.type("+7 900 123-45-67")
    assert tab(page)["id"] == "id_message"
    page.keyboard.type("Received a summons, wants to leave before Monday.")
    assert tab(page)["id"] == "id_category_guess"
    page.keyboard.type("Mobilised")
    assert tab(page)["text"] == "Log it"
    page.keyboard.press("Enter")

    page.get_by_text("Logged as R-").wait_for()
    logged = IntakeRequest.objects.get()
    assert (logged.channel, logged.category_guess) == ("phone", "mobilised")
    assert logged.message == "Received a summons, wants to leave before Monday."
