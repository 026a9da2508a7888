"""Drive the dashboard by the accessible names issue 3 fixes (shared by the browser tests)."""

import re

from playwright.sync_api import Page, expect

FOUNDING_START_TIME = "22:00,00:00,02:00"


def list_url(tenant) -> str:
    return f"/p/{tenant.project_id}/"


def form_url(tenant) -> str:
    return f"/p/{tenant.project_id}/new"


def utc_preview(page: Page):
    return page.get_by_role("region", name="UTC preview")


def choose_zone(page: Page, zone: str) -> None:
    """Pick a zone and wait until the server's answer for it is on the page.

    The preview and the relabelled hour grid arrive in one response, so once the preview names
    the zone the grid's labels are the local times of that zone.
    """
    pick_zone(page, zone)
    expect(utc_preview(page)).to_contain_text(zone)


def pick_zone(page: Page, zone: str) -> None:
    """Type the zone into the picker (a text box with a datalist) and leave it, as a person would."""
    box = page.get_by_label("Time zone")
    box.fill(zone)
    box.press("Tab")  # the change event: without JavaScript nothing is sent until the form is


def tick_local_hours(page: Page, *local_times: str) -> None:
    for local in local_times:
        page.get_by_label(local, exact=True).check()


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
