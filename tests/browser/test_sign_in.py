"""Signing in through the real login form, by the accessible names the dashboard issue fixes."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import open_landing_page, submit_login_form

pytestmark = pytest.mark.browser


def test_a_member_of_one_tenant_lands_on_its_policy_list_after_signing_in(signed_in_page, tenant):
    open_landing_page(signed_in_page)
    expect(signed_in_page).to_have_url(re.compile(rf"/p/{tenant.project_id}/$"))


def test_a_wrong_password_keeps_the_visitor_on_the_login_page_with_an_alert(page, user):
    page.goto("/accounts/login/")
    submit_login_form(page, user.username, password="not-the-password")

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_an_anonymous_visitor_is_sent_to_sign_in_and_then_back_to_the_create_form(page, user, tenant):
    page.goto(f"/p/{tenant.project_id}/new")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    submit_login_form(page, user.username)

    expect(page).to_have_url(re.compile(rf"/p/{tenant.project_id}/new$"))
    expect(page.get_by_label("Time zone")).to_be_visible()
