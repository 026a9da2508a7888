"""A webhook is added on the Notifications page, a test is sent, and its delivery is listed with the receiver's answer.

A real worker process delivers it to a real receiver on 127.0.0.1, which checks the signature
with the secret the page showed; the page is not reloaded: the deliveries refresh themselves
(htmx) until nothing is left to send.
"""

import re

import pytest
from playwright.sync_api import expect

from policies.models import Delivery
from tests.helpers.browser import assert_not_reloaded, blocking_violations, mark_the_document
from tests.helpers.webhooks import Receiver
from tests.helpers.worker_process import start_worker, stop

pytestmark = pytest.mark.browser


def test_add_a_webhook_send_a_test_and_see_the_delivery_answered(signed_in_page, tenant, screenshot):
    page = signed_in_page
    receiver = Receiver(answer=b'{"thanks": "got it"}').start()
    worker = start_worker(
        "--no-scheduler", DELIVERY_POLL_SECONDS="1", WEBHOOK_ALLOW_PRIVATE="1", WEBHOOK_ALLOW_HTTP="1"
    )
    try:
        page.goto(f"/p/{tenant.project_id}/")
        page.get_by_role("link", name="Notifications").click()
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()

        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Add webhook").click()
        secret = page.get_by_role("textbox", name="Secret")
        expect(secret).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/]+=*$"))
        receiver.secret = secret.input_value()
        expect(page.locator(f"li:has-text('{receiver.url}')")).to_be_visible()
        mark_the_document(page)

        page.get_by_role("button", name=f"Send a test to {receiver.url}").click()
        expect(page.get_by_text("Test queued")).to_be_visible()

        deliveries = page.locator("#deliveries")
        # The state the page settles in: nothing left to send, so the list stops refreshing.
        expect(deliveries).to_have_attribute("data-active", "false", timeout=60_000)
        row = deliveries.get_by_role("row", name="Test notification")
        expect(row).to_contain_text("Delivered")
        expect(row).to_contain_text("200")
        expect(row).to_contain_text('{"thanks": "got it"}')
        assert_not_reloaded(page)
        assert blocking_violations(page) == []
        screenshot(page, "notifications")
    finally:
        stop(worker)
        receiver.stop()
    [got] = receiver.got
    assert got.verified["type"] == "ping"
    assert got.headers["webhook-id"] == Delivery.objects.get().webhook_id


def test_without_javascript_a_webhook_is_added_and_its_secret_shown(signed_in_no_js_page, tenant):
    page = signed_in_no_js_page
    page.goto(f"/p/{tenant.project_id}/notifications")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("textbox", name="Secret")).to_have_value(re.compile(r"^whsec_"))
    page.get_by_role("button", name="Send a test to http://127.0.0.1:9/hook").click()
    expect(page.get_by_text("Test queued")).to_be_visible()
