"""The time-zone box is a combobox: Enter picks the suggestion and never submits the whole form."""

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import form_url, preview_answer, utc_preview

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("typed", "picked"), [("Berlin", "Europe/Berlin"), ("Europe/Berlin", "Europe/Berlin")]
)
def test_enter_in_the_zone_box_picks_the_suggestion_and_does_not_submit(
    signed_in_page, tenant, typed, picked
):
    page = signed_in_page
    page.goto(form_url(tenant))
    expect(utc_preview(page).locator(".verdict")).to_be_visible()  # the preselected zone's preview
    submitted = []
    page.on(
        "request",
        lambda r: submitted.append(r.url) if r.method == "POST" and r.url.endswith("/new") else None,
    )
    box = page.get_by_label("Time zone")
    box.fill(typed)
    with preview_answer(page):
        box.press("Enter")
    expect(box).to_have_value(picked)
    expect(utc_preview(page)).to_contain_text(picked)
    expect(utc_preview(page)).not_to_contain_text("not a zone of the tz database")
    expect(box).to_be_focused()
    assert submitted == []
    assert page.url.endswith(form_url(tenant))
