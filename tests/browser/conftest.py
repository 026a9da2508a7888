"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against pytest-django's live server.

Every test here is marked ``@pytest.mark.browser``. A missing Chromium skips on a developer's
machine and fails with CI=true (``tests.helpers.real_parts.require``): CI must run these tests, never skip them.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.helpers.browser import note_csp_violation, sign_in_by_cookie
from tests.helpers.real_parts import require

# Playwright's sync API drives an asyncio event loop in the main thread (through greenlets), and it
# stays "running" there for as long as Playwright is started. Django sees that loop and refuses ORM
# calls from the test body (factories, refresh_from_db) with SynchronousOnlyOperation, although
# nothing here is actually concurrent: the test thread only touches the database while Playwright
# waits. The flag must be set for the whole process, not per test, because the session-scoped
# Playwright keeps its loop alive while later tests in the same process run.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
# The machine has no internet: without these flags Chromium stalls on refused background
# connections (component updates, sync, QUIC probes) and the first page load times out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BROWSER_TIME_ZONE = "UTC"


@pytest.fixture(scope="session")
def chromium_browser():
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(screenshot_dir):
    """Save a full-page PNG named ``<name>.png`` under test-artifacts/screenshots/ and return its path."""

    def save(page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        # From the top: a sticky element (the UTC preview) is otherwise drawn where the last
        # scroll left it, mid-page, which is not what a person sees.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def new_page(chromium_browser, live_server):
    """Open a page in a fresh context (own cookies) whose relative URLs go to the live server.

    ``time_zone`` is the browser's own zone (the form preselects it), fixed so runs do not differ
    by machine. Fails the test at teardown if the page's JavaScript threw an uncaught exception.
    """
    contexts, errors = [], []

    def open_page(*, java_script: bool = True, time_zone: str = BROWSER_TIME_ZONE):
        context = chromium_browser.new_context(
            base_url=live_server.url,
            java_script_enabled=java_script,
            locale="en-US",
            timezone_id=time_zone,
            viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: note_csp_violation(message, violations))
        return page

    violations: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    # An uncaught exception in the page's JavaScript is a bug even when the assertions passed.
    assert not errors, f"uncaught JavaScript errors: {errors}"
    # So is anything the Content-Security-Policy refused: a script or a style that did not apply.
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def page(new_page):
    """A fresh page with JavaScript, in the browser zone UTC."""
    return new_page()


@pytest.fixture
def no_js_page(new_page):
    """A fresh page with JavaScript disabled: htmx never loads, plain form posts only."""
    return new_page(java_script=False)


@pytest.fixture
def signed_in_page(page, user, live_server):
    """A page signed in as ``user`` (alice, member of ``tenant`` only), still blank: the test opens
    its first page (``open_landing_page`` for where a sign-in lands).

    ``user`` and ``tenant`` come from tests/conftest.py; with ``live_server`` pytest-django makes
    their database transactional, so the server thread sees the committed rows.
    """
    sign_in_by_cookie(page, user, live_server.url)
    return page


@pytest.fixture
def signed_in_no_js_page(no_js_page, user, live_server):
    sign_in_by_cookie(no_js_page, user, live_server.url)
    return no_js_page
