"""The console as a new administrator meets it, at 1280 and at 390 pixels wide.

One choice at a time, plain words (the API's names only in the collapsed "API request"), a preview
that warns before saving, API tokens, the header, the admin site, and no console errors.
"""

import re

import pytest
from playwright.sync_api import expect

from policies import audit, backups
from policies.domain.contract.backups import RestoreBody
from policies.models import ApiToken, AuditEvent
from tests.helpers.backups import manual_backup
from tests.helpers.browser import (
    blocking_violations,
    fill_the_founding_example,
    form_url,
    list_url,
    open_landing_page,
    preview_answer,
    sign_in,
    tick,
    utc_preview,
)
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate, make_volumes

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
API_WORDS = re.compile(r"contract|start_time|week_frequency|rentention|AutoBackup\.", re.IGNORECASE)


def watch_console(page) -> list[str]:
    """Collect the page's console errors from now on (htmx reports an aborted request as one)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def visible_words(page) -> str:
    """The page's text without the collapsed API request section, where the API's names belong."""
    return page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll("details.api-request").forEach((section) => section.remove());
            return copy.innerText;
        }"""
    )


def sideways_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def name(screen) -> str:
    return "desktop" if screen["width"] > 1000 else "phone"


# --- 1. One alternative at a time, how every N days counts ----------------------------------


@SCREENS
def test_the_form_shows_only_the_chosen_alternative_of_each_pair(signed_in_page, tenant, screen, screenshot):
    page = signed_in_page
    page.set_viewport_size(screen)
    page.goto(form_url(tenant))
    days_box = page.get_by_label(re.compile(r"^Run every N days"))
    expect(page.get_by_label("Monday", exact=True)).to_be_visible()
    expect(days_box).to_be_hidden()
    expect(page.get_by_label(re.compile(r"^Days to keep backups"))).to_be_hidden()

    with preview_answer(page):
        page.get_by_label("Every N days", exact=True).check()
    with preview_answer(page):
        page.get_by_label("Keep backups for a number of days", exact=True).check()

    expect(days_box).to_be_visible()
    expect(page.get_by_label("Monday", exact=True)).to_be_hidden()
    expect(page.get_by_label(re.compile(r"^Backups to keep"))).to_be_hidden()
    expect(page.get_by_label(re.compile(r"^Days to keep backups"))).to_be_visible()
    expect(days_box).to_have_accessible_description(re.compile("starts again on the 1st of each month"))
    assert sideways_overflow(page) == 0
    screenshot(page, f"console_form_every_n_days_{name(screen)}")


def test_without_javascript_the_pair_follows_the_radio_and_saves_the_chosen_one(signed_in_no_js_page, tenant):
    page = signed_in_no_js_page
    page.goto(form_url(tenant))
    page.get_by_label("Name", exact=True).fill("every_two")
    page.get_by_label("Every N days", exact=True).check()
    page.get_by_label(re.compile(r"^Run every N days")).fill("2")
    expect(page.get_by_label("Monday", exact=True)).to_be_hidden()
    tick(page, "02:00")

    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_role("status")).to_contain_text("Policy “every_two” created.")
    assert tenant.policies.get().frequency == 2


# --- 1. The administrator's words; the API's only in the collapsed section -------------------


def test_no_page_shows_the_apis_names_or_codes_outside_the_api_section(signed_in_page, tenant, user):
    page = signed_in_page
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))
    backup = manual_backup(tenant, make_volumes(tenant, {"db.img": b"d" * 100})[0])
    restore = backups.restore_start(backup=backup, body=RestoreBody(None, None), actor=audit.Actor.command())
    pages = [
        "/tokens/",
        list_url(tenant),
        f"/p/{tenant.project_id}/policy/{policy.pk}/edit",
        f"/p/{tenant.project_id}/policy/{policy.pk}/delete",
        f"/p/{tenant.project_id}/policy/{policy.pk}/",  # its volumes and runs
        f"/p/{tenant.project_id}/backups/",
        f"/p/{tenant.project_id}/backups/{backup.pk}/restore",
        f"/p/{tenant.project_id}/backups/{backup.pk}/restore?over=original",
        f"/p/{tenant.project_id}/backups/{backup.pk}/delete",
        f"/p/{tenant.project_id}/restores/{restore.pk}/",
    ]
    for path in pages:
        page.goto(path)
        assert not API_WORDS.search(visible_words(page)), path

    # A refused preview: its problems are in words; the codes wait in the collapsed section.
    page.goto(form_url(tenant))
    with preview_answer(page):
        page.get_by_label("Name", exact=True).fill("default_x")
    expect(utc_preview(page)).to_contain_text("Problems")
    assert not API_WORDS.search(visible_words(page))
    section = page.locator("details.api-request")
    expect(section.locator("pre")).to_be_hidden()
    section.locator("summary").click()
    expect(section).to_contain_text("start_time")
    expect(section).to_contain_text("AutoBackup.")


# --- 2. The preview says what only saving said ---------------------------------------------


def test_the_preview_warns_of_a_name_taken_ignoring_case_before_the_button(signed_in_page, tenant):
    make_policy(tenant, payload=valid_payload(backup_policy_name="Nightly"))
    page = signed_in_page
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    with preview_answer(page):
        page.get_by_label("Name", exact=True).fill("nightly")

    expect(utc_preview(page)).to_contain_text("already has a policy named 'Nightly', which 'nightly' matches")
    expect(utc_preview(page)).not_to_contain_text("Ready to save")


def test_the_preview_warns_of_a_full_project_before_the_button(signed_in_page, tenant):
    for n in range(10):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{n}"))
    page = signed_in_page
    page.goto(form_url(tenant))
    with preview_answer(page):
        page.get_by_label("Name", exact=True).fill("eleventh")
    fill_the_founding_example(page)

    expect(utc_preview(page)).to_contain_text("The project already holds 10 backup policies")


# --- 3. API tokens --------------------------------------------------------------------------


@SCREENS
def test_a_user_issues_a_token_sees_it_once_with_a_curl_line_and_revokes_it(
    signed_in_page, user, screen, screenshot
):
    page = signed_in_page
    page.set_viewport_size(screen)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_landing_page(page)
    if screen["width"] < 700:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    else:
        page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    page.get_by_label("Expires").select_option("30")

    page.get_by_role("button", name="Issue token").click()

    raw = page.get_by_label("Token", exact=True).input_value()
    assert raw.startswith("bpc_")
    expect(page.locator("#curl-line")).to_contain_text(f"curl -H 'X-Auth-Token: {raw}'")
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw
    token = ApiToken.objects.get(user=user)
    row = page.locator(f"#token-{token.pk}")
    expect(row).to_contain_text(f"{token.prefix}…")
    expect(row).to_contain_text("Active")
    assert sideways_overflow(page) == 0
    assert blocking_violations(page) == []
    screenshot(page, f"console_token_issued_{name(screen)}")

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke token {token.prefix}").click()

    expect(page.locator("#messages")).to_contain_text(f"Token {token.prefix}… revoked")
    expect(row).to_contain_text("Revoked")
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)  # shown once, gone now
    assert [event.action for event in AuditEvent.objects.order_by("at", "id")] == ["issue", "revoke"]


# --- 4. The header and the project list -----------------------------------------------------


@SCREENS
def test_the_header_links_projects_tokens_docs_and_for_staff_the_admin(page, tenant, screen, screenshot):
    page.set_viewport_size(screen)
    staff = UserFactory(username="sam", is_staff=True, is_superuser=True)
    MembershipFactory(user=staff, tenant=tenant)
    second = TenantFactory(project_id="tenant-c", name="Tenant C")
    MembershipFactory(user=staff, tenant=second)
    for n in range(3):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{n}"))
    sign_in(page, "sam")
    page.goto("/")

    row = page.get_by_role("row", name=re.compile("Tenant A"))
    expect(row).to_contain_text("3 of 10")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="API docs")).to_have_attribute("href", "/api/docs/")
    expect(nav.get_by_role("link", name="Admin site")).to_have_attribute("href", "/admin/")
    expect(nav.get_by_role("link", name="API tokens")).to_be_visible()
    assert sideways_overflow(page) == 0
    assert blocking_violations(page) == []
    screenshot(page, f"console_projects_{name(screen)}")

    nav.locator("details.tenant-switcher summary").click()
    nav.get_by_role("link", name="Tenant C (tenant-c)").click()
    expect(page).to_have_url(re.compile(r"/p/tenant-c/$"))
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Project: Tenant C")


def test_a_member_who_is_not_staff_sees_no_admin_link(signed_in_page, tenant):
    signed_in_page.goto(list_url(tenant))
    nav = signed_in_page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="API tokens")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin site")).to_have_count(0)


# --- 5. The admin site ----------------------------------------------------------------------


@pytest.fixture
def admin_page(page, tenant):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for n in range(4):
        make_policy(
            tenant,
            payload=valid_payload(
                backup_policy_name=f"long_policy_name_number_{n}",
                tags=[{"key": "environment", "value": "production"}, {"key": "team", "value": "storage"}],
            ),
        )
    make_policy(tenant, payload=valid_payload(backup_policy_name="audited"))  # through the services: audited
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Backup Policy Console administration")).to_be_visible()
    return page


def test_the_admin_is_branded_and_its_lists_fit_1280_px(admin_page, screenshot):
    page = admin_page
    expect(page).to_have_title(re.compile("Backup Policy Console admin"))
    page.goto("/admin/policies/backuppolicy/")
    expect(page.get_by_role("columnheader", name="Last change")).to_be_visible()
    for column in ("Status", "Tags", "Last change"):
        header = page.get_by_role("columnheader", name=column)
        box = header.bounding_box()
        assert box["x"] + box["width"] <= 1280, f"{column} is cut off"
    assert sideways_overflow(page) == 0
    assert page.evaluate("document.querySelector('#changelist .results').scrollWidth") <= page.evaluate(
        "document.querySelector('#changelist .results').clientWidth"
    )
    screenshot(page, "console_admin_policies_desktop")

    page.goto("/admin/policies/auditevent/")
    when = page.locator("#result_list tbody .field-when").first
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", when.inner_text())
    height = when.bounding_box()["height"]
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#result_list tbody .field-when')).lineHeight)"
    )
    assert height < 3 * line, "the date wraps"
    screenshot(page, "console_admin_audit_desktop")


def test_the_admin_policy_form_shows_the_dashboards_live_preview(admin_page, tenant, screenshot):
    page = admin_page
    errors = watch_console(page)
    page.goto("/admin/policies/backuppolicy/add/")
    page.get_by_label("Tenant").select_option(label=str(tenant))
    page.locator("#id_name").fill("from_admin")
    page.get_by_label("Start times (UTC)").fill("22:00,00:00,02:00")
    page.locator("#id_time_zone").fill("UTC+02:00")
    page.get_by_label("Local weekdays (week_frequency)").fill("MON")
    page.get_by_label("Backups kept (rentention_num)").fill("7")
    page.get_by_label("Backups kept (rentention_num)").press("Tab")

    preview = page.get_by_role("region", name="UTC preview")
    expect(preview).to_contain_text("Mon 00:00 local = Sun 22:00 UTC")
    expect(preview).to_contain_text("Ready to save: nothing to fix.")
    expect(preview.get_by_role("heading", name="Next runs")).to_be_visible()
    screenshot(page, "console_admin_policy_preview_desktop")
    assert errors == []


# --- 6. No console errors; readable at 390 px; one place for confirmations -------------------


def test_fast_changes_log_no_console_errors(signed_in_page, tenant):
    page = signed_in_page
    errors = watch_console(page)
    page.goto(form_url(tenant))
    name_box = page.get_by_label("Name", exact=True)
    # Keystrokes faster than the preview answers: each new request used to abort the one in flight.
    for text in ("a", "ab", "abc", "abcd"):
        name_box.fill(text)
        page.get_by_label("Monday", exact=True).set_checked(len(text) % 2 == 1)
    with preview_answer(page):
        name_box.fill("settled")
    expect(utc_preview(page)).to_contain_text("settled")
    assert errors == []


def test_on_a_phone_the_calendar_and_the_json_need_no_sideways_scrolling(signed_in_page, tenant, screenshot):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(form_url(tenant))
    fill_the_founding_example(page)
    page.locator("details.api-request summary").click()
    # The last change's calendar is asked for after its answer: measured once it is drawn.
    expect(page.locator("#forecast .retention-calendar .cal-day").first).to_be_visible()

    for selector in ("pre.json", ".retention-calendar"):
        width = page.evaluate(
            f"(() => {{ const e = document.querySelector('{selector}'); return e.scrollWidth - e.clientWidth; }})()"
        )
        assert width == 0, f"{selector} scrolls sideways by {width}px"
    cell = page.locator(".cal-day").first.bounding_box()
    assert cell["width"] >= 44, "calendar cells are too cramped to read"
    assert sideways_overflow(page) == 0
    screenshot(page, "console_form_phone")


def test_on_a_phone_the_policy_page_scrolls_its_tables_not_the_page(signed_in_page, tenant, screenshot):
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly", tags=[]))
    associate(policy, make_volumes(tenant, {"db-data.img": b"d", "web-root.img": b"w"}))
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(list_url(tenant))
    page.get_by_role("link", name="Volumes and runs of nightly").click()
    expect(page.get_by_role("row", name="db-data.img")).to_be_visible()

    # A visually hidden label in a row ("Remove db-data.img") must not widen the page either.
    assert sideways_overflow(page) == 0
    screenshot(page, "console_policy_page_phone")


def test_toggle_and_delete_confirm_in_the_same_place(signed_in_page, tenant):
    make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))
    page = signed_in_page
    page.goto(list_url(tenant))
    page.get_by_role("switch", name="Runs on schedule: nightly").click()
    expect(page.locator("main #messages")).to_contain_text("Policy “nightly” is off")

    page.get_by_role("link", name="Delete nightly").click()
    page.get_by_role("button", name=re.compile("^Delete")).click()

    expect(page.locator("main #messages")).to_contain_text("Policy “nightly” deleted.")
    assert page.locator("#list-notice").count() == 0
