"""Browser tests: Playwright driving Debian's Chromium against a live server."""

import os
from pathlib import Path

import pytest

from tests.e2e.words import Words

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (not by the server) are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(params=["en", "ru"])
def w(request):
    """The interface's words in the language this run of a journey speaks."""
    return Words(request.param)


@pytest.fixture(params=[(1280, 800), (360, 740)], ids=["desktop", "phone"])
def page(request, browser):
    """A fresh browser tab at desktop and at phone size; in the language of `w` when the
    test speaks one (the browser asks for it, as a user's would)."""
    width, height = request.param
    words = request.getfixturevalue("w") if "w" in request.fixturenames else None
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=words.locale if words else None
    )
    page = context.new_page()
    page.screen_name = "desktop" if width > 600 else "phone"
    if words:
        page.screen_name += f"-{words.language}"
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    yield page
    context.close()
    # A CSP violation or a script error shows up in the console: none allowed.
    assert errors == []


def shoot(page, name: str) -> None:
    """Saves a screenshot for review, and checks nothing spills past a phone's width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.screen_name}.png"), full_page=True)
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name}: the page is {scroll_width}px wide on a {width}px screen"
