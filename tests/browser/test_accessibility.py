"""axe-core (shipped offline by axe-playwright-python) finds no serious or critical violations."""

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import blocking_violations, fill_the_founding_example, form_url, list_url
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser

# Some rules only bite at one width: a table or code block that scrolls sideways on a phone must be
# reachable by keyboard (scrollable-region-focusable), which a desktop width never shows.
SCREENS = pytest.mark.parametrize(
    "screen", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)


def test_the_check_reports_a_critical_violation_when_there_is_one(page):
    # Guards the guard: if axe were not injected or its result not read, every check would pass.
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')

    assert [v.split(" ")[0] for v in blocking_violations(page)] == ["image-alt"]


@SCREENS
def test_the_login_page_has_no_serious_or_critical_violations(page, screen):
    page.set_viewport_size(screen)
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    assert blocking_violations(page) == []


@SCREENS
def test_the_policy_list_has_no_serious_or_critical_violations(signed_in_page, tenant, screen):
    signed_in_page.set_viewport_size(screen)
    make_policy(tenant)  # the table, not the empty state
    signed_in_page.goto(list_url(tenant))
    expect(signed_in_page.get_by_role("table")).to_be_visible()

    assert blocking_violations(signed_in_page) == []


@SCREENS
def test_the_create_form_with_its_preview_filled_has_no_serious_or_critical_violations(
    signed_in_page, tenant, screen
):
    signed_in_page.set_viewport_size(screen)
    signed_in_page.goto(form_url(tenant))
    fill_the_founding_example(signed_in_page)

    assert blocking_violations(signed_in_page) == []
