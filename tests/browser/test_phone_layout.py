"""Fixes from a new user's review, in a real browser: Enter, zone changes, phone layout, tags."""

import re

import pytest
from playwright.sync_api import expect

from policies.models import BackupPolicy
from tests.helpers.browser import (
    FOUNDING_START_TIME,
    fill_the_founding_example,
    form_url,
    list_url,
    pick_zone,
    preview_answer,
    tick,
    tick_local_hours,
    utc_preview,
)
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def stored(tenant) -> list[tuple]:
    return list(BackupPolicy.objects.filter(tenant=tenant).values_list("name", "start_time", "time_zone"))


def test_enter_in_the_name_field_creates_the_policy(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("by_enter")

    page.get_by_label("Name", exact=True).press("Enter")

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    assert stored(tenant) == [("by_enter", FOUNDING_START_TIME, "UTC+02:00")]


def test_the_tab_order_of_the_buttons_follows_what_is_seen(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    create = page.get_by_role("button", name="Create policy")
    preview = page.get_by_role("button", name="Preview")
    create.focus()
    page.keyboard.press("Tab")
    expect(preview).to_be_focused()
    assert create.bounding_box()["x"] < preview.bounding_box()["x"]


def test_two_errors_at_one_field_are_described_as_separate_sentences(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("a!" * 40)
    page.get_by_role("button", name="Create policy").click()

    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_accessible_description(re.compile(r"64 at most\.\s+\W*\s*The name contains"))


def test_without_javascript_a_changed_zone_is_shown_before_it_is_saved(signed_in_no_js_page, tenant):
    page = signed_in_no_js_page
    page.goto(form_url(tenant))
    page.get_by_label("Monday", exact=True).check()
    tick(page, "00:00", "02:00")  # drawn at UTC: 00:00 and 02:00 UTC
    page.get_by_label("Name", exact=True).fill("moved")
    pick_zone(page, "UTC+01:00")

    page.get_by_role("button", name="Create policy").click()

    hours = page.get_by_role("group", name=re.compile(r"^Start times"))
    expect(hours).to_contain_text("The time zone changed: the start times are now shown at UTC+01:00")
    expect(hours).to_have_accessible_name("Start times, local time at UTC+01:00")
    expect(page.get_by_label("00:00", exact=True)).to_be_checked()
    assert stored(tenant) == []

    page.get_by_role("button", name="Create policy").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    assert stored(tenant) == [("moved", "23:00,01:00", "UTC+01:00")]


def test_the_untouched_form_stays_neutral_until_the_person_changes_something(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    verdict = utc_preview(page).locator(".verdict")
    # The browser's zone (UTC) was preselected and previewed: nothing is a mistake yet.
    expect(verdict).to_have_class(re.compile(r"\bpending\b"))
    expect(verdict).to_contain_text("To fill in")

    page.get_by_label("Monday", exact=True).check()

    expect(verdict).to_have_class(re.compile(r"\brefused\b"))
    expect(verdict).to_contain_text("Not yet valid: 2 problems to fix.")


def test_add_tag_is_disabled_at_ten_rows_and_enabled_again_below(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    add = page.get_by_role("button", name="Add tag")
    for _ in range(7):
        add.click()
    expect(page.get_by_label(re.compile(r"^Tag \d+ Key$"))).to_have_count(10)
    expect(add).to_be_disabled()
    expect(add).to_have_accessible_description(re.compile("at most 10 tags"))

    page.get_by_role("button", name="Remove tag 10").click()

    expect(add).to_be_enabled()
    expect(page.get_by_text("A policy has at most 10 tags")).to_be_hidden()


def test_loading_the_form_asks_for_nothing_missing(signed_in_page, tenant):
    page = signed_in_page
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # The load event covers what the page links to, but not what the browser asks for after it:
    # the preview of the preselected zone, and the tab's icon. Wait for each of those answers.
    with page.expect_response(re.compile(r"/favicon\.")), preview_answer(page):
        page.goto(form_url(tenant))
    expect(utc_preview(page).locator(".verdict")).to_be_visible()
    assert failed == []


# --- Phone width --------------------------------------------------------------------------------


def test_on_a_phone_the_policies_are_cards_without_sideways_scrolling(signed_in_page, tenant, screenshot):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    make_policy(tenant)
    make_policy(tenant)
    page.goto(list_url(tenant))

    table = page.get_by_role("table")
    expect(table).to_be_visible()
    region = page.get_by_role("region", name="Backup policies")
    assert region.evaluate("el => el.scrollWidth - el.clientWidth") == 0
    cell = page.locator("td[data-label='Retention']").first
    assert cell.evaluate("el => getComputedStyle(el, '::before').content") == '"Retention"'
    screenshot(page, "policy_list_phone")


def test_on_a_desktop_the_policies_stay_a_table_with_column_headers(signed_in_page, tenant):
    page = signed_in_page
    make_policy(tenant)
    page.goto(list_url(tenant))
    expect(page.get_by_role("columnheader", name="Retention")).to_be_visible()
    assert (
        page.locator("td[data-label='Retention']").first.evaluate("el => getComputedStyle(el).display")
        == "table-cell"
    )


def test_on_a_phone_the_preview_summary_stays_in_view_while_ticking_hours(
    signed_in_page, tenant, screenshot_dir
):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(form_url(tenant))
    fill_the_founding_example(page)

    tick_local_hours(page, "06:00")
    bar = page.locator("#preview-bar")
    expect(bar).to_contain_text("22:00,00:00,02:00,04:00")
    expect(bar).to_be_in_viewport()
    # What a person sees while ticking: the screen, not the full page (the bar is fixed).
    page.get_by_label("06:00", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "policy_form_phone_ticking.png"))

    page.get_by_role("link", name=re.compile("UTC preview")).click()
    expect(utc_preview(page)).to_be_in_viewport()


def test_on_a_phone_the_summary_bar_does_not_cover_the_last_buttons(signed_in_page, tenant):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(form_url(tenant))
    expect(utc_preview(page).locator(".verdict")).to_be_visible()  # the preselected zone's preview
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1")
    copy = page.get_by_text("API request", exact=True)  # the last control: the collapsed API section
    bar_top = page.locator("#preview-bar").bounding_box()["y"]
    box = copy.bounding_box()
    assert box["y"] + box["height"] <= bar_top


def test_on_a_desktop_there_is_no_summary_bar(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    expect(page.locator("#preview-bar")).to_be_hidden()


def test_on_a_phone_many_projects_take_one_line_until_opened(signed_in_page, tenant, user, screenshot_dir):
    for _ in range(15):
        MembershipFactory(user=user, tenant=TenantFactory())
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(list_url(tenant))

    switcher = page.locator("details.tenant-switcher")  # in the header's navigation
    assert switcher.bounding_box()["height"] < 60
    page.screenshot(path=str(screenshot_dir / "policy_list_phone_projects.png"))
    others = switcher.get_by_role("link")
    expect(others.first).to_be_hidden()

    switcher.get_by_text("Project:").click()

    expect(switcher.get_by_role("link", name=str(tenant))).to_be_visible()
    expect(switcher.get_by_role("link", name=str(tenant))).to_have_attribute("aria-current", "page")
