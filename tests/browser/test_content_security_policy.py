"""Every page works under the strict Content-Security-Policy: the browser refuses nothing.

The ``new_page`` fixture fails any browser test whose page logs a CSP violation; these tests walk
the pages the other browser tests do not open (the admin, the API docs) and prove that the check
does see a violation.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import note_csp_violation, sign_in
from tests.helpers.factories import UserFactory

pytestmark = pytest.mark.browser


def test_the_dashboard_and_its_live_preview_run_under_the_policy(signed_in_page, tenant):
    page = signed_in_page
    page.goto(f"/p/{tenant.project_id}/new")
    with page.expect_response(re.compile(r"/preview$")):
        page.get_by_role("checkbox", name=re.compile("^Mon")).first.check()
    expect(page.locator("#utc-preview")).to_be_visible()


def test_the_admin_runs_under_the_policy(page, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(page, "root")
    for path in ("/admin/", "/admin/policies/backuppolicy/", "/admin/policies/backuppolicy/add/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()


def test_swagger_ui_runs_under_the_policy(page):
    page.goto("/api/docs/")
    # Drawn by Swagger UI's JavaScript from the schema: it ran, and it fetched the schema.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Backup Policy Console API")
    expect(page.locator(".opblock").first).to_be_visible()


def test_the_check_sees_an_inline_style_the_policy_refuses(chromium_browser, live_server):
    # Its own page, not the new_page fixture's: that one would fail this test for the violation.
    context = chromium_browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        seen: list[str] = []
        page.on("console", lambda message: note_csp_violation(message, seen))
        page.goto("/accounts/login/")
        assert seen == []
        with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
            page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')""")
        assert len(seen) == 1
        assert "style-src" in seen[0]
    finally:
        context.close()
