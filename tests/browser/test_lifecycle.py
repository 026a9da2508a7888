"""Edit, switch on and off, and delete policies in a real browser (the dashboard parts)."""

import re

import pytest
from playwright.sync_api import expect

from policies.models import BackupPolicy
from tests.helpers.browser import (
    FOUNDING_START_TIME,
    assert_not_reloaded,
    blocking_violations,
    list_url,
    mark_the_document,
    tick_local_hours,
    utc_preview,
)
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def nightly(tenant):
    """The founding example, stored: Monday 00:00, 02:00, 04:00 at UTC+02:00, with one tag."""
    payload = valid_payload(
        backup_policy_name="nightly",
        scheduled_policy={
            "start_time": FOUNDING_START_TIME,
            "week_frequency": ["MON"],
            "rentention_num": 7,
            "status": "ON",
        },
        time_zone="UTC+02:00",
        tags=[{"key": "env", "value": "prod"}],
    )
    return make_policy(tenant, payload=payload)


@pytest.fixture
def weekly(tenant):
    return make_policy(tenant, payload=valid_payload(backup_policy_name="weekly", tags=[]))


def row_of(page, name: str):
    return page.get_by_role("row", name=re.compile(rf"\b{name}\b"))


def fresh(policy) -> BackupPolicy:
    return BackupPolicy.objects.get(pk=policy.pk)


def test_a_policy_is_edited_with_the_live_preview_and_saved(signed_in_page, tenant, nightly, screenshot):
    page = signed_in_page
    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Edit nightly").click()

    expect(page).to_have_title(re.compile(r"^Edit “nightly”"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit backup policy “nightly”")
    expect(page.get_by_label("Time zone")).to_have_value("UTC+02:00")
    expect(page.get_by_label("Monday", exact=True)).to_be_checked()
    expect(page.get_by_label("00:00", exact=True)).to_be_checked()
    expect(page.get_by_label("Tag 1 Key", exact=True)).to_have_value("env")
    preview = utc_preview(page)
    expect(preview).to_contain_text("Ready to save: nothing to fix.")
    expect(preview).to_contain_text("None yet")
    mark_the_document(page)

    # Local 06:00 more, and a second tag: the preview answers for the edit without a reload.
    tick_local_hours(page, "06:00")
    expect(preview).to_contain_text("22:00,00:00,02:00,04:00")
    expect(preview).to_contain_text("Mon 06:00 local = Mon 04:00 UTC")
    page.get_by_label("Tag 2 Key", exact=True).fill("team")
    page.get_by_label("Tag 2 Value", exact=True).fill("ops")
    expect(preview).to_contain_text("team=ops")
    assert_not_reloaded(page)
    screenshot(page, "policy_edit")
    page.set_viewport_size(PHONE)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0, f"the edit page is {overflow}px wider than a phone's screen"
    screenshot(page, "policy_edit_phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(page.get_by_role("status")).to_contain_text("Policy “nightly” saved.")
    expect(row_of(page, "nightly")).to_contain_text("Sun 22:00, Mon 00:00, Mon 02:00, Mon 04:00 UTC")
    expect(row_of(page, "nightly")).to_contain_text("team=ops")
    policy = fresh(nightly)
    assert (policy.start_time, policy.time_zone) == ("22:00,00:00,02:00,04:00", "UTC+02:00")
    assert [(tag.key, tag.value) for tag in policy.tags.all()] == [("env", "prod"), ("team", "ops")]


def test_a_rename_onto_another_policys_name_is_refused_at_the_name(signed_in_page, tenant, nightly, weekly):
    page = signed_in_page
    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Edit nightly").click()
    page.get_by_label("Name", exact=True).fill("Weekly")

    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert")).to_contain_text("not saved")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile(r"already has a policy named 'weekly'"))
    assert fresh(nightly).name == "nightly"


def test_the_switch_turns_a_policy_off_and_on_without_a_reload(
    signed_in_page, tenant, nightly, weekly, screenshot
):
    page = signed_in_page
    page.goto(list_url(tenant))
    mark_the_document(page)
    switch = page.get_by_role("switch", name="Runs on schedule: nightly")
    expect(switch).to_have_attribute("aria-checked", "true")

    switch.click()

    expect(switch).to_have_attribute("aria-checked", "false")
    expect(row_of(page, "nightly")).to_contain_text("Off")
    expect(page.locator("#messages")).to_have_text(
        "Policy “nightly” is off: it does not run until it is turned on."
    )
    expect(switch).to_be_focused()  # the swapped switch keeps the keyboard's place
    # Only that row changed.
    expect(page.get_by_role("switch", name="Runs on schedule: weekly")).to_have_attribute(
        "aria-checked", "true"
    )
    assert_not_reloaded(page)
    assert fresh(nightly).status == "OFF"
    assert fresh(weekly).status == "ON"
    screenshot(page, "policy_list_switch")
    page.set_viewport_size(PHONE)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0, f"the list is {overflow}px wider than a phone's screen"
    screenshot(page, "policy_list_switch_phone")

    page.keyboard.press("Space")

    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.locator("#messages")).to_contain_text("is on: it runs on schedule")
    assert_not_reloaded(page)
    assert fresh(nightly).status == "ON"


def test_after_a_save_the_switch_leaves_only_its_own_notice(signed_in_page, tenant, nightly):
    page = signed_in_page
    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Edit nightly").click()
    tick_local_hours(page, "06:00")
    expect(utc_preview(page)).to_contain_text("22:00,00:00,02:00,04:00")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Policy “nightly” saved.")
    mark_the_document(page)

    page.get_by_role("switch", name="Runs on schedule: nightly").click()

    # The notice replaces the earlier save's banner, in the one place for confirmations.
    expect(page.get_by_role("status")).to_have_text(
        "Policy “nightly” is off: it does not run until it is turned on."
    )
    expect(page.locator(".message")).to_have_count(1)
    assert_not_reloaded(page)


def test_without_javascript_the_switch_posts_and_the_list_comes_back(signed_in_no_js_page, tenant, nightly):
    page = signed_in_no_js_page
    page.goto(list_url(tenant))

    page.get_by_role("switch", name="Runs on schedule: nightly").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(page.get_by_role("status")).to_contain_text("Policy “nightly” is off")
    expect(page.get_by_role("switch", name="Runs on schedule: nightly")).to_have_attribute(
        "aria-checked", "false"
    )
    assert fresh(nightly).status == "OFF"


def test_a_policy_is_deleted_through_the_confirmation_page(
    signed_in_page, tenant, nightly, weekly, screenshot
):
    page = signed_in_page
    page.goto(list_url(tenant))
    expect(page.get_by_text("2 of 10 policies")).to_be_visible()

    row_of(page, "nightly").get_by_role("link", name="Delete nightly").click()

    expect(page).to_have_title(re.compile(r"^Delete “nightly”\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the backup policy “nightly”?")
    assert BackupPolicy.objects.filter(pk=nightly.pk).exists()
    screenshot(page, "policy_delete")
    page.set_viewport_size(PHONE)
    screenshot(page, "policy_delete_phone")

    page.get_by_role("button", name="Delete “nightly”").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(page.get_by_role("status")).to_contain_text("Policy “nightly” deleted.")
    expect(row_of(page, "nightly")).to_have_count(0)
    expect(row_of(page, "weekly")).to_have_count(1)
    expect(page.get_by_text("1 of 10 policies")).to_be_visible()
    assert list(BackupPolicy.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["weekly"]


def test_keep_it_on_the_confirmation_leads_back_and_deletes_nothing(signed_in_page, tenant, nightly):
    page = signed_in_page
    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Delete nightly").click()

    page.get_by_role("link", name="Keep it").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(row_of(page, "nightly")).to_have_count(1)
    assert BackupPolicy.objects.filter(pk=nightly.pk).exists()


@pytest.mark.parametrize("screen", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_the_edit_and_delete_pages_have_no_serious_or_critical_violations(
    signed_in_page, tenant, nightly, screen
):
    page = signed_in_page
    page.set_viewport_size(screen)
    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Edit nightly").click()
    tick_local_hours(page, "06:00")
    # The stored policy already shows "Changes to save" (none yet): wait for the tick's change.
    preview = utc_preview(page)
    expect(preview).to_contain_text("Changes to save")
    expect(preview.locator("dl.changes")).to_contain_text("22:00,00:00,02:00,04:00")
    assert blocking_violations(page) == []

    page.goto(list_url(tenant))
    row_of(page, "nightly").get_by_role("link", name="Delete nightly").click()
    # The list has a main heading too: wait for the confirmation's own.
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the backup policy “nightly”?")
    assert blocking_violations(page) == []
