"""Before saving, the form shows when a policy will really run and which backups it keeps."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import (
    blocking_violations,
    choose_zone,
    fill_the_founding_example,
    form_url,
    pick_zone,
    tick,
    tick_local_hours,
    utc_preview,
)

pytestmark = pytest.mark.browser

# A Monday in January: Berlin is at UTC+01:00 (the form stores it) until its spring change.
JANUARY = datetime(2026, 1, 12, 9, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def in_january(monkeypatch):
    # The live server runs in this process: the views read this clock (after the sign-in, whose
    # session was made with the real one and is still valid at an earlier time).
    monkeypatch.setattr("django.utils.timezone.now", lambda: JANUARY)


def first_monday_at_three_in_berlin() -> datetime:
    """Brute force with zoneinfo: the first Monday 01:00 UTC after JANUARY that is 03:00 in Berlin."""
    moment = JANUARY.replace(hour=1) + timedelta(days=1)
    while not (moment.weekday() == 0 and moment.astimezone(BERLIN).hour == 3):
        moment += timedelta(days=1)
    return moment


def mondays_in_eight_weeks() -> int:
    """Runs the picture must show: Mondays at 01:00 UTC from JANUARY (its own run is past) over 8 weeks."""
    days = [JANUARY.replace(hour=1) + timedelta(days=n) for n in range(8 * 7)]
    return sum(1 for day in days if day.weekday() == 0 and day >= JANUARY)


def test_berlin_monday_at_two_shows_before_saving_from_when_it_runs_at_three_and_the_backups_kept(
    signed_in_page, tenant, in_january, screenshot, screenshot_dir
):
    page = signed_in_page
    page.goto(form_url(tenant))
    page.get_by_label("Monday", exact=True).check()
    choose_zone(page, "Europe/Berlin")
    tick_local_hours(page, "02:00")

    preview = utc_preview(page)
    moved = first_monday_at_three_in_berlin()
    expect(preview).to_contain_text(f"From {moved:%a %d %b %Y}, the runs stay at 02:00 in Europe/Berlin")
    # Said once: the two changes of the year are two sentences under "Next runs", nowhere else.
    expect(preview.locator("li", has_text=re.compile(r"^From "))).to_have_count(2)
    expect(preview.get_by_role("heading", name="Daylight saving")).to_have_count(0)
    picture = page.get_by_role("figure", name="Backups over the next 8 weeks")
    expect(picture).to_be_visible()
    expect(picture.locator(".retention-calendar .mark")).to_have_count(mondays_in_eight_weeks())
    expect(picture).to_have_accessible_description(
        re.compile(r"^Over 8 weeks from Mon 12 Jan 2026 the policy makes")
    )
    assert page.url.endswith(form_url(tenant))  # nothing saved: still the form
    assert blocking_violations(page) == []  # axe needs the page's JavaScript: checked here, not below
    screenshot(page, "policy_form_forecast")
    page.locator("#forecast").screenshot(path=str(screenshot_dir / "forecast_desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert blocking_violations(page) == []


def test_without_javascript_on_a_phone_the_preview_button_shows_the_forecast_that_fits_the_screen(
    signed_in_no_js_page, tenant, in_january, screenshot, screenshot_dir
):
    page = signed_in_no_js_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(form_url(tenant))
    page.get_by_label("Monday", exact=True).check()
    pick_zone(page, "Europe/Berlin")
    tick(page, "02:00")  # drawn at UTC: the tick keeps local 02:00 at the zone's offset
    page.get_by_role("button", name="Preview").click()

    preview = utc_preview(page)
    expect(preview).to_contain_text("the runs stay at 02:00 in Europe/Berlin")
    expect(page.get_by_role("figure", name="Backups over the next 8 weeks")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0, f"the page is {overflow}px wider than the screen"
    screenshot(page, "policy_form_forecast_phone")
    page.locator("#forecast").screenshot(path=str(screenshot_dir / "forecast_phone.png"))


def test_the_calendar_s_month_labels_are_whole_on_a_phone_and_on_a_desktop(
    signed_in_page, tenant, monkeypatch, screenshot_dir
):
    # Mon 23 Nov 2026: the picture starts on Sunday 22 Nov, its first cell labelled "22 Nov".
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 11, 23, 9, tzinfo=UTC))
    page = signed_in_page
    page.goto(form_url(tenant))
    page.get_by_label("Monday", exact=True).check()
    choose_zone(page, "Europe/Berlin")
    tick_local_hours(page, "02:00")
    calendar = page.locator("#forecast .retention-calendar")
    expect(calendar.locator(".cal-date").first).to_have_text("22 Nov")
    for name, width in (("phone", 390), ("desktop", 1280)):
        page.set_viewport_size({"width": width, "height": 844})
        clipped = calendar.locator(".cal-date").evaluate_all(
            "els => els.filter(el => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight)"
            "          .map(el => el.textContent)"
        )
        calendar.screenshot(path=str(screenshot_dir / f"forecast_calendar_{name}.png"))
        assert clipped == [], f"labels clipped at {width}px: {clipped}"


def test_a_new_name_keeps_the_picture_on_the_screen_and_a_new_retention_redraws_it(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    summary = page.locator("#retention-summary")
    expect(summary).to_contain_text("7 exist at its end")
    page.evaluate("document.querySelector('#forecast').dataset.drawn = 'first'")

    page.get_by_label("Name", exact=True).fill("renamed_policy")
    expect(utc_preview(page)).to_contain_text('"backup_policy_name": "renamed_policy"')
    # The answer said "unchanged": the very element drawn first is still there.
    expect(page.locator("#forecast[data-drawn='first'] .retention-calendar")).to_be_visible()

    page.get_by_label(re.compile(r"^Backups to keep")).fill("2")
    expect(summary).to_contain_text("2 exist at its end")
    expect(page.locator("#forecast[data-drawn='first']")).to_have_count(0)
    expect(page.locator("#forecast .retention-calendar")).to_be_visible()
