"""A page whose policy was deleted meanwhile (another tab, someone else, the API) says so when used."""

import re

import pytest
from playwright.sync_api import expect

from policies import audit, services
from tests.helpers.browser import list_url
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser


def test_an_edit_page_whose_policy_was_deleted_says_so_at_the_next_change_and_at_save(signed_in_page, tenant):
    policy = make_policy(tenant, "nightly")
    page = signed_in_page
    page.goto(list_url(tenant))
    page.get_by_role("link", name="Edit nightly").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit backup policy “nightly”")

    services.policy_delete(policy=policy, actor=audit.Actor.command())
    with page.expect_response(lambda response: response.url.endswith("/preview")) as answer:
        page.get_by_label("Name", exact=True).fill("nightly-2")
    assert answer.value.status == 404

    expect(page.locator("#messages")).to_contain_text(
        "What this page shows no longer exists: it may have been deleted meanwhile. Reload the page."
    )
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_title(re.compile(r"^Not found"))
    expect(page.get_by_role("link", name="Back to your projects")).to_be_visible()
