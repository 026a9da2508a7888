"""A policy with a named zone in the dashboard: the edit page opens on the zone, the list warns."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import list_url, utc_preview
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.browser

# Earlier than the real clock: the session of the sign-in (made with the real one) stays valid.
WINTER = datetime(2026, 1, 10, 12, tzinfo=UTC)
# 19 days before Berlin springs forward (Sun 29 Mar 2026); Tokyo has no daylight saving.
MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


def named(tenant, name: str, zone: str, start_time: str):
    payload = valid_payload(
        backup_policy_name=name,
        scheduled_policy={
            "start_time": start_time,
            "week_frequency": ["MON"],
            "rentention_num": 7,
            "status": "ON",
        },
        time_zone_name=zone,
        tags=[],
    )
    payload.pop("time_zone")
    return make_policy(tenant, payload=payload, now=WINTER)


def row_of(page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


@pytest.fixture
def in_march(monkeypatch):
    # The live server runs in this process: its views read this clock (set after the sign-in).
    monkeypatch.setattr("django.utils.timezone.now", lambda: MARCH)


def test_editing_the_berlin_policy_shows_europe_berlin(signed_in_page, tenant, in_march):
    named(tenant, "berlin", "Europe/Berlin", "01:00")
    page = signed_in_page
    page.goto(list_url(tenant))
    row_of(page, "berlin").get_by_role("link", name="Edit berlin").click()

    expect(page).to_have_title(re.compile(r"^Edit “berlin”"))
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.locator("#stored-zone-note")).to_have_text("Stored now: Europe/Berlin, at UTC+01:00.")
    expect(page.get_by_label("02:00", exact=True)).to_be_checked()  # the grid at Berlin's offset
    preview = utc_preview(page)
    expect(preview).to_contain_text("Ready to save: nothing to fix.")
    expect(preview).to_contain_text("the runs stay at 02:00 in Europe/Berlin")


def test_the_list_flags_a_policy_whose_runs_move_within_30_days_and_not_one_whose_runs_do_not(
    signed_in_page, tenant, in_march
):
    named(tenant, "berlin", "Europe/Berlin", "01:00")
    named(tenant, "tokyo", "Asia/Tokyo", "17:00")
    page = signed_in_page
    page.goto(list_url(tenant))

    berlin = row_of(page, "berlin")
    expect(berlin).to_contain_text("Monday at 02:00 (Europe/Berlin, now UTC+01:00)")
    expect(berlin.locator("[data-zone-flag]")).to_have_text(
        "⚠ Runs move in UTC from Mon 30 Mar: Europe/Berlin changes its offset, and the policy is re-based "
        "to UTC+02:00 (UTC start times 00:00) so that they stay at 02:00 local time."
    )
    tokyo = row_of(page, "tokyo")
    expect(tokyo).to_contain_text("Monday at 02:00 (Asia/Tokyo, now UTC+09:00)")
    expect(tokyo.locator("[data-zone-flag]")).to_have_count(0)
