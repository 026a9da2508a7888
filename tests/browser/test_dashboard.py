"""The create form in a real browser: the live UTC preview, saving, refusing, tags, no JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from policies.models import BackupPolicy
from tests.helpers.browser import (
    FOUNDING_START_TIME,
    assert_not_reloaded,
    choose_zone,
    fill_the_founding_example,
    form_url,
    keep_backups_for_days,
    list_url,
    mark_the_document,
    pick_zone,
    preview_answer,
    sign_in,
    tick,
    tick_local_hours,
    utc_preview,
)

pytestmark = pytest.mark.browser

WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def stored(tenant) -> list[tuple]:
    return list(
        BackupPolicy.objects.filter(tenant=tenant).values_list(
            "name", "start_time", "week_frequency", "frequency", "time_zone", "retention_day"
        )
    )


def name_times_and_zone(tenant) -> list[tuple]:
    """The stored policies' name, start times and zone: what the Enter and zone tests check."""
    return list(BackupPolicy.objects.filter(tenant=tenant).values_list("name", "start_time", "time_zone"))


def test_ticking_local_hours_at_utc_plus_2_shows_the_utc_start_time_without_a_reload(
    signed_in_page, tenant, screenshot
):
    page = signed_in_page
    page.goto(form_url(tenant))
    mark_the_document(page)
    preview = utc_preview(page)
    expect(preview).to_have_attribute("aria-live", "polite")
    expect(preview).not_to_contain_text(FOUNDING_START_TIME)

    fill_the_founding_example(page)

    expect(preview).to_contain_text("Mon 00:00 local = Sun 22:00 UTC")
    assert_not_reloaded(page)
    screenshot(page, "policy_form_preview")


def test_on_a_phone_sized_screen_the_form_and_preview_fit_without_sideways_scrolling(
    signed_in_page, tenant, screenshot
):
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(form_url(tenant))
    fill_the_founding_example(page)

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0, f"the page is {overflow}px wider than the screen"
    screenshot(page, "policy_form_phone")


def test_the_weekday_boxes_are_the_full_day_names_from_sunday_to_saturday(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))

    days = page.get_by_role("group", name=re.compile(r"^Days of the week")).get_by_role("checkbox")
    expect(days).to_have_count(7)
    for box, day in zip(days.all(), WEEKDAYS, strict=True):
        expect(box).to_have_accessible_name(day)


def test_the_browsers_own_zone_is_preselected_and_labels_the_hours(new_page, user, tenant):
    # UTC+09:30 all year; not Asia/Kolkata, which Chromium reports by its old name Asia/Calcutta.
    page = new_page(time_zone="Australia/Darwin")
    sign_in(page, user.username)
    page.goto(form_url(tenant))

    expect(page.get_by_label("Time zone")).to_have_value("Australia/Darwin")
    expect(utc_preview(page)).to_contain_text("UTC+09:30")
    expect(page.get_by_role("checkbox", name=re.compile(r"^\d\d:\d\d$")).first).to_have_accessible_name(
        "00:30"
    )


def test_the_hour_labels_are_the_local_times_of_the_chosen_zone(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))

    choose_zone(page, "UTC+05:30")

    hours = page.get_by_role("checkbox", name=re.compile(r"^\d\d:\d\d$"))
    expect(hours).to_have_count(24)
    expect(hours.first).to_have_accessible_name("00:30")
    expect(page.get_by_label("00:00", exact=True)).to_have_count(0)


def test_a_named_zone_with_daylight_saving_says_the_local_run_times_stay(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    preview = utc_preview(page)
    page.get_by_label("Monday", exact=True).check()
    choose_zone(page, "Europe/Berlin")

    # No start time yet, so no forecast: only the zone's own notes can say when its offset changes.
    expect(preview.get_by_role("heading", name="Daylight saving")).to_be_visible()
    expect(preview).to_contain_text(re.compile(r"Europe/Berlin is at UTC\+0[12]:00"))

    tick_local_hours(page, "03:00")

    # Said once, by the forecast: from which run, and the re-base that keeps 03:00. The zone's
    # notes give way to it.
    expect(preview).to_contain_text(
        re.compile(r"From \w{3} \d\d \w{3} \d{4}, the runs stay at 03:00 in Europe/Berlin: the zone moves to")
    )
    expect(preview.get_by_role("heading", name="Daylight saving")).to_have_count(0)


def test_a_valid_policy_is_created_and_listed_with_a_confirmation(signed_in_page, tenant, screenshot):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("nightly_berlin")
    keep_backups_for_days(page, 30)

    page.get_by_role("button", name="Create policy").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(page.get_by_role("status")).to_contain_text("nightly_berlin")
    row = page.get_by_role("row", name=re.compile("nightly_berlin"))
    expect(row).to_contain_text("Sun 22:00, Mon 00:00, Mon 02:00 UTC")
    expect(row).to_contain_text("30 days")
    assert stored(tenant) == [("nightly_berlin", FOUNDING_START_TIME, "MON", None, "UTC+02:00", 30)]
    screenshot(page, "policy_list")


def test_a_name_starting_with_default_is_refused_at_the_name_field_and_nothing_is_saved(
    signed_in_page, tenant
):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("default_nightly")

    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_role("alert")).to_contain_text("not saved")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile(r"starts with 'default'"))
    expect(name).to_have_value("default_nightly")
    assert stored(tenant) == []


def test_every_n_days_with_times_on_two_utc_days_is_explained_live_then_refused(
    signed_in_page, tenant, screenshot
):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("every_day")
    page.get_by_label("Every N days", exact=True).check()
    page.get_by_label(re.compile(r"^Run every N days")).fill("1")

    # The core's problem, in the form's words, before anything is submitted.
    expect(utc_preview(page)).to_contain_text("fall on two UTC days")
    expect(utc_preview(page)).to_contain_text("Choose “Days of the week” and tick the local days")
    screenshot(page, "policy_form_problem")
    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_role("alert")).to_contain_text("not saved")
    expect(page.get_by_role("group", name="Repeat")).to_contain_text("fall on two UTC days")
    assert stored(tenant) == []


def test_no_start_time_ticked_is_refused_at_the_start_times_and_nothing_is_saved(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    page.get_by_label("Monday", exact=True).check()
    page.get_by_label("Name", exact=True).fill("no_hours")

    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_role("alert")).to_contain_text("not saved")
    expect(page.get_by_role("group", name=re.compile(r"^Start times"))).to_contain_text(
        "Tick at least one start time."
    )
    assert stored(tenant) == []


def test_tag_rows_are_added_and_removed_without_a_reload_and_the_rows_left_are_saved(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    mark_the_document(page)
    keys = page.get_by_label(re.compile(r"^Tag \d+ Key$"))
    expect(keys).to_have_count(3)

    page.get_by_role("button", name="Add tag").click()
    expect(keys).to_have_count(4)
    page.get_by_label("Tag 1 Key", exact=True).fill("gone")
    page.get_by_label("Tag 4 Key", exact=True).fill("env")
    page.get_by_label("Tag 4 Value", exact=True).fill("prod")
    page.get_by_role("button", name="Remove tag 1").click()

    # The rows are renumbered: the fourth row is now the third.
    expect(keys).to_have_count(3)
    expect(page.get_by_label("Tag 3 Key", exact=True)).to_have_value("env")
    expect(page.get_by_label("Tag 3 Value", exact=True)).to_have_value("prod")
    assert_not_reloaded(page)

    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("tagged")
    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_role("row", name=re.compile("tagged"))).to_contain_text("env=prod")
    policy = BackupPolicy.objects.get(tenant=tenant)
    assert [(tag.key, tag.value) for tag in policy.tags.all()] == [("env", "prod")]


def test_without_javascript_the_plain_form_previews_and_creates_the_policy(signed_in_no_js_page, tenant):
    page = signed_in_no_js_page
    page.goto(form_url(tenant))
    # htmx never runs: the JavaScript-only buttons are hidden and spare tag rows stand in.
    expect(page.get_by_role("button", name="Add tag")).to_be_hidden()
    page.get_by_label("Monday", exact=True).check()
    pick_zone(page, "UTC+02:00")
    # The grid still shows the labels it was drawn with; a tick keeps its label's local time.
    tick(page, "00:00", "02:00", "04:00")
    page.get_by_label("Name", exact=True).fill("no_script")
    page.get_by_label("Tag 1 Key", exact=True).fill("env")

    page.get_by_role("button", name="Preview").click()
    expect(utc_preview(page)).to_contain_text(FOUNDING_START_TIME)
    expect(utc_preview(page)).to_contain_text("Mon 00:00 local = Sun 22:00 UTC")
    assert stored(tenant) == []

    page.get_by_role("button", name="Create policy").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    expect(page.get_by_role("status")).to_contain_text("no_script")
    assert stored(tenant) == [("no_script", FOUNDING_START_TIME, "MON", None, "UTC+02:00", None)]


def test_enter_in_the_name_field_creates_the_policy(signed_in_page, tenant):
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.get_by_label("Name", exact=True).fill("by_enter")

    page.get_by_label("Name", exact=True).press("Enter")

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    assert name_times_and_zone(tenant) == [("by_enter", FOUNDING_START_TIME, "UTC+02:00")]


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
    assert name_times_and_zone(tenant) == []

    page.get_by_role("button", name="Create policy").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(list_url(tenant))}$"))
    assert name_times_and_zone(tenant) == [("moved", "23:00,01:00", "UTC+01:00")]


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
