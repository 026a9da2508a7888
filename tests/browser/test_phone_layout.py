"""The dashboard at a phone's width (390 px) and at a desktop's: list cards, the preview's summary bar, the project switcher."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import (
    fill_the_founding_example,
    form_url,
    list_url,
    tick_local_hours,
    utc_preview,
)
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


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
