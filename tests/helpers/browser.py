"""Drive the dashboard in Chromium by its accessible names: sign in, fill the form, check a page.

The create and edit forms answer every change with a live preview (htmx): the form is posted and
the answer replaces the UTC preview (and, for a new zone offset, the hour grid). Until then the
page still shows the answer to the change before, so an ``expect`` right after a change may pass
on a preview about to be replaced. ``preview_answer`` waits for the answer to the change itself:
what a test asserts afterwards is the state the page settles in, not one it passes through.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from playwright.sync_api import Page, Request, expect

from tests.helpers.factories import PASSWORD

FOUNDING_START_TIME = "22:00,00:00,02:00"

# Every element inside a scroll region (.table-wrap) that ends past the region's visible right
# edge, and every region that scrolls sideways: [] when everything fits.
OVERFLOWS = """
() => {
  const found = [];
  for (const region of document.querySelectorAll('.table-wrap')) {
    if (region.scrollWidth > region.clientWidth + 1) found.push(`${region.id || region.className} scrolls: ${region.scrollWidth} > ${region.clientWidth}`);
    const edge = region.getBoundingClientRect().right;
    for (const el of region.querySelectorAll('th, td, a, button, code')) {
      const box = el.getBoundingClientRect();
      if (box.width && box.right > edge + 1) found.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ends at ${Math.round(box.right)} > ${Math.round(edge)}`);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) found.push(`page scrolls: ${document.documentElement.scrollWidth}`);
  return found;
}
"""


def list_url(tenant) -> str:
    return f"/p/{tenant.project_id}/"


def form_url(tenant) -> str:
    return f"/p/{tenant.project_id}/new"


def utc_preview(page: Page):
    return page.get_by_role("region", name="UTC preview")


# htmx keeps this class on the form from the moment it sends a request until the answer (or the
# newer request that replaced it) has been swapped in.
HTMX_REQUEST = re.compile(r"\bhtmx-request\b")


def is_preview_request(request: Request) -> bool:
    """The create form's /p/<project>/preview, or the edit form's /p/<project>/policy/<id>/preview."""
    return request.method == "POST" and request.url.endswith("/preview")


@contextmanager
def preview_answer(page: Page) -> Iterator[None]:
    """Make one change to the form in the block; leave once the preview's answer to it is swapped in.

    Only a request sent after the block began counts: the answer to an earlier change may still be
    on its way, and it describes a form that no longer exists. A request still running when a newer
    one is sent is dropped by htmx (``hx-sync="this:replace"``): the newer one answers instead.
    """
    sent: list[Request] = []
    # A change made while the page is still loading reaches no listener: htmx binds the form's
    # triggers at DOMContentLoaded, and a click on a link returns once the next page has begun.
    page.wait_for_load_state("domcontentloaded")

    def record(request: Request) -> None:
        if is_preview_request(request):
            sent.append(request)

    page.on("request", record)
    try:
        with page.expect_response(lambda response: response.request in sent) as answer:
            yield
    finally:
        page.remove_listener("request", record)
    assert answer.value.ok, f"the preview answered {answer.value.status}"
    # A response is in once its headers are; htmx swaps it in when the body has been read.
    expect(page.locator("#policy-form")).not_to_have_class(HTMX_REQUEST)


def choose_zone(page: Page, zone: str) -> None:
    """Pick a zone and wait until the server's answer for it is on the page.

    The preview and the relabelled hour grid arrive in one response, so once the preview names
    the zone the grid's labels are the local times of that zone.
    """
    with preview_answer(page):
        pick_zone(page, zone)
    expect(utc_preview(page)).to_contain_text(zone)


def pick_zone(page: Page, zone: str) -> None:
    """Type the zone into the picker (a text box with a datalist) and leave it, as a person would.

    The change event comes when the box is left; without JavaScript nothing is sent until the
    form is submitted.
    """
    box = page.get_by_label("Time zone")
    box.fill(zone)
    box.press("Tab")


def tick(page: Page, *labels: str) -> None:
    """Tick the boxes with these exact labels, waiting for nothing: for a page without JavaScript."""
    for label in labels:
        page.get_by_label(label, exact=True).check()


def tick_local_hours(page: Page, *local_times: str) -> None:
    """Tick the hours labelled with these local times, each once the preview has answered the last.

    An answer may redraw the hour grid: each box is looked up in the grid the answer before left.
    """
    for local in local_times:
        with preview_answer(page):
            tick(page, local)


def fill_the_founding_example(page: Page) -> None:
    """Monday, UTC+02:00, local 00:00, 02:00 and 04:00; return once the preview shows it."""
    page.get_by_label("Monday", exact=True).check()
    choose_zone(page, "UTC+02:00")
    tick_local_hours(page, "00:00", "02:00", "04:00")
    expect(utc_preview(page)).to_contain_text(FOUNDING_START_TIME)


def keep_backups_for_days(page: Page, days: int) -> None:
    page.get_by_label("Keep backups for a number of days", exact=True).check()
    page.get_by_label(re.compile(r"^Days to keep backups")).fill(str(days))


def mark_the_document(page: Page) -> None:
    """Tag the loaded document: a reload or navigation loses the mark (see ``assert_not_reloaded``)."""
    page.evaluate("window.__sameDocument = 'still here'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") == "still here", "the page was reloaded"


def note_csp_violation(message, violations: list[str]) -> None:
    """Keep a console message in which Chromium reports something the page's CSP refused."""
    if "Content Security Policy" in message.text:
        violations.append(message.text)


def submit_login_form(page, username: str, password: str = PASSWORD) -> None:
    """Fill the login form on the current page by its accessible names and press Sign in."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form; return once the browser has left the login page."""
    page.goto("/accounts/login/")
    submit_login_form(page, username, password)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def sign_in_by_cookie(page, user, base_url: str) -> None:
    """Give the page's context a session of ``user``, as a sign-in does; open nothing.

    For the tests that need a signed-in page, not the sign-in itself (tests/browser/test_sign_in.py
    and ``sign_in`` drive the form): Django's test client makes the session, and the browser
    carries its cookie to the first page the test opens, sparing each test the login page.
    """
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": base_url, "httpOnly": True}]
    )


def open_landing_page(page) -> None:
    """Open where a sign-in lands (``LOGIN_REDIRECT_URL``)."""
    page.goto(resolve_url(settings.LOGIN_REDIRECT_URL))


BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    """Run axe on the page as it is now; describe each serious or critical violation, node by node."""
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found
