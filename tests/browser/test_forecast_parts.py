"""A new forecast replacing the one on the page arrives small; the page asks for its calendar and days.

Each test waits for the answer of the request its change causes (the calendar's at once, the
days' when their section is opened), then checks that exactly that answer is on the page.
"""

import re

import pytest
from playwright.sync_api import Page, Response, expect

from tests.helpers.browser import fill_the_founding_example, form_url, preview_answer

pytestmark = pytest.mark.browser


def is_part_request(part: str):
    def matches(response: Response) -> bool:
        return response.request.method == "POST" and response.url.endswith(f"/preview/{part}")

    return matches


def keep_backups(page: Page, count: int) -> Response:
    """Change the number of backups kept; return the answer of the calendar request it causes."""
    with page.expect_response(is_part_request("calendar")) as calendar, preview_answer(page):
        page.get_by_label(re.compile(r"^Backups to keep")).fill(str(count))
    assert calendar.value.ok, f"the calendar answered {calendar.value.status}"
    # Settled: htmx processes swapped-in content (the days' section and its toggle trigger) only
    # once it has settled, so a click before then would go unheard.
    expect(page.locator("#forecast .retention-calendar .cal-day").first).to_be_visible()
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    return calendar.value


def test_a_new_retention_redraws_the_calendar_from_the_answer_the_page_asked_for(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    calendar = page.locator("#forecast .retention-calendar")
    expect(calendar.locator(".cal-day").first).to_be_visible()  # the last tick's calendar is in
    deleted_at_seven = calendar.locator(".mark.deleted").count()

    answer = keep_backups(page, 3)
    assert "retention_num=3" in (answer.request.post_data or "")  # the form as it is now
    expect(page.locator("#retention-summary")).to_contain_text("3 exist at its end")
    deleted = answer.text().count('class="mark deleted')
    assert deleted > deleted_at_seven
    expect(calendar.locator(".mark.deleted")).to_have_count(deleted)
    expect(calendar.locator(".cal-day").first).to_be_visible()
    expect(page.get_by_role("figure", name="Backups over the next 8 weeks")).to_be_visible()


def test_the_days_are_asked_for_when_their_section_is_opened(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    keep_backups(page, 2)

    section = page.locator("#forecast details.retention-days")
    expect(section.locator("tbody tr")).to_have_count(0)  # not sent with the answer
    with page.expect_response(is_part_request("days")) as days:
        section.locator("summary").click()
    assert days.value.ok, f"the days answered {days.value.status}"
    assert "retention_num=2" in (days.value.request.post_data or "")
    rows = days.value.text().count("<tr>") - 1  # the head's row aside
    assert rows > 0
    expect(section.locator("tbody tr")).to_have_count(rows)
    expect(section.get_by_role("row").nth(1)).to_be_visible()

    # A new name keeps the forecast on the screen, the days opened included: nothing asked again.
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    with preview_answer(page):
        page.get_by_label("Name", exact=True).fill("renamed_policy")
    expect(section.locator("tbody tr")).to_have_count(rows)
    assert [url for url in asked if "/preview/" in url] == []
