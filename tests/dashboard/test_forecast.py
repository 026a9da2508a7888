"""The dashboard's forecast: next runs and the retention picture in the preview, next run in the list."""

import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.payloads import founding_schedule, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# A Monday in January: Berlin is at UTC+01:00 and keeps it until Sun 29 Mar 2026.
JANUARY = datetime(2026, 1, 12, 9, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def frozen(monkeypatch):
    """Freeze the clock the views read; return a setter for another instant."""

    def freeze(moment):
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    freeze(JANUARY)
    return freeze


def berlin_monday_two(**overrides):
    """Europe/Berlin, Monday, local 02:00: the box of 01:00 UTC on the grid drawn at UTC+01:00."""
    fields = {"time_zone": "Europe/Berlin", "week_days": ["MON"], "hours": ["1"], "grid_offset": "60"}
    return form_data(**{**fields, **overrides})


def preview(member, tenant, data) -> str:
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def first_monday_at_three_in_berlin(after: datetime) -> datetime:
    """Brute force: the first Monday 01:00 UTC after ``after`` that is 03:00 in Berlin."""
    day = after.replace(hour=1, minute=0)
    while not (day.weekday() == 0 and day > after and day.astimezone(BERLIN).hour == 3):
        day += timedelta(days=1)
    return day


def test_the_preview_says_the_runs_stay_at_two_in_berlin_from_the_spring_change_on(member, tenant, frozen):
    # The named zone is kept: the first Monday at which a fixed UTC+01:00 would run at 03:00 is
    # the first at which the re-based policy runs at 00:00 UTC, still 02:00 in Berlin.
    body = preview(member, tenant, berlin_monday_two())
    moved = first_monday_at_three_in_berlin(JANUARY)
    assert f"From {moved:%a %d %b %Y}, the runs stay at 02:00 in Europe/Berlin" in body
    assert "stored offset UTC+02:00, UTC start times 00:00" in body
    # Once: no second sentence on the same change with the zone's date of it.
    assert body.count("From ") == 2
    assert "Daylight saving</h3>" not in body


def test_the_preview_lists_the_next_runs_in_local_time_in_the_zone_and_in_utc(member, tenant, frozen):
    body = preview(member, tenant, berlin_monday_two())
    cell = r"\s*<td>([^<]+)</td>"
    rows = re.findall(r'<time datetime="([^"]+)">([^<]+)</time></td>' + cell * 3, body)
    mondays = [JANUARY.replace(hour=1) + timedelta(weeks=n) for n in range(1, 7)]
    assert rows == [
        (m.isoformat(), f"{m:%a %d %b %Y}", "02:00", f"{m.astimezone(BERLIN):%H:%M}", "01:00")
        for m in mondays
    ]
    assert "not the time chosen" not in body  # all before the spring change


def test_a_run_on_another_utc_day_names_that_day(member, tenant, frozen):
    # Local Monday 00:00 at UTC+02:00 is Sunday 22:00 UTC.
    body = preview(member, tenant, form_data(hours=["22"]))
    assert re.search(r"<td>00:00</td>\s*<td>Sun 22:00</td>", body)


def test_runs_after_the_zone_s_change_stay_at_the_chosen_time_in_the_preview(member, tenant, frozen):
    # Written with Europe/Berlin on 20 March (UTC+01:00): the runs from 30 March are at 00:00 UTC.
    form = berlin_monday_two()
    frozen(datetime(2026, 3, 20, 9, tzinfo=UTC))
    body = preview(member, tenant, {**form, "time_zone": "Europe/Berlin"})
    rows = re.findall(r'<tr( class="stale")?>\s*<td><time datetime="([^"]+)"', body)
    assert len(rows) == 6
    assert [stale for stale, _ in rows if stale] == []
    assert {datetime.fromisoformat(moment).astimezone(BERLIN).hour for _, moment in rows} == {2}
    assert [datetime.fromisoformat(moment).hour for _, moment in rows] == [1, 0, 0, 0, 0, 0]
    assert "not the time chosen" not in body


def test_a_fixed_offset_picked_instead_keeps_its_utc_times(member, tenant, frozen):
    frozen(datetime(2026, 3, 20, 9, tzinfo=UTC))
    body = preview(member, tenant, {**berlin_monday_two(), "time_zone": "UTC+01:00"})
    rows = re.findall(r'<tr( class="stale")?>\s*<td><time datetime="([^"]+)"', body)
    assert {datetime.fromisoformat(moment).hour for _, moment in rows} == {1}


def test_the_preview_draws_the_retention_picture_with_a_text_equivalent(member, tenant, frozen):
    body = preview(member, tenant, berlin_monday_two())
    assert "Backups over the next 8 weeks" in body
    picture = re.search(r'<figure class="retention".*?</figure>', body, re.S)[0]
    assert 'aria-hidden="true"' in picture  # the grid is for the eye ...
    # ... the caption says it in words: Mondays from 12 Jan 09:00 over 8 weeks, that day's run
    # already past; keep 7, so none is deleted yet.
    mondays = [JANUARY.replace(hour=1) + timedelta(weeks=n) for n in range(1, 8)]
    calendar = picture.split('<ul class="cal-legend"')[0]
    assert len(re.findall(r'class="mark kept', calendar)) == len(mondays)
    assert f"makes {len(mondays)} backups; 0 of them are deleted" in picture
    assert "The backups, day by day" in body
    assert "At most" in body
    assert "Longest gap" in body


def test_the_picture_tells_kept_deleted_and_first_of_the_month_apart(member, tenant, frozen):
    data = berlin_monday_two(week_days=["MON", "WED", "FRI"], retention_num="3", keep_first="on")
    picture = re.search(
        r'<div class="retention-calendar".*?<ul class="cal-legend"', preview(member, tenant, data), re.S
    )[0]
    marks = re.findall(r'class="mark (kept|deleted)( first)?"', picture)
    assert ("deleted", "") in marks
    assert ("kept", "") in marks
    assert any(first for _, first in marks)


def test_a_policy_that_is_off_says_it_makes_no_backups_instead_of_an_empty_picture(member, tenant, frozen):
    body = preview(member, tenant, berlin_monday_two(status="OFF"))
    assert "The policy is OFF: it makes no runs and creates no backups" in body
    assert '<figure class="retention"' not in body


def test_without_javascript_the_preview_button_shows_the_forecast_in_the_page(member, tenant, frozen):
    response = member.post(url("policy_create", tenant), berlin_monday_two(preview="1"))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "<html" in body
    assert "the runs stay at 02:00 in Europe/Berlin" in body
    assert '<figure class="retention"' in body


def test_the_edit_form_shows_the_forecast_of_the_stored_policy(member, tenant, frozen):
    policy = make_policy(
        tenant,
        payload=valid_payload(
            scheduled_policy=founding_schedule(start_time="01:00"),
            time_zone="UTC+01:00",
            tags=[],
        ),
    )
    edit = reverse("policies:policy_edit", kwargs={"project_id": tenant.project_id, "policy_id": policy.pk})
    body = member.get(edit).content.decode()
    assert "Next runs" in body
    assert '<figure class="retention"' in body


def test_the_list_shows_each_policy_s_next_run_in_local_time(member, tenant, frozen):
    payload = valid_payload(
        backup_policy_name="berlin",
        scheduled_policy=founding_schedule(start_time="01:00"),
        time_zone="UTC+01:00",
    )
    make_policy(tenant, payload=payload)
    body = member.get(url("policy_list", tenant)).content.decode()
    following = JANUARY.replace(hour=1) + timedelta(weeks=1)  # 12 Jan's 01:00 UTC run is past
    local = following.astimezone(ZoneInfo("Etc/GMT-1"))  # UTC+01:00 (the Etc sign is inverted)
    assert (
        f'Next run: <time datetime="{following.isoformat()}">{local:%a %d %b %Y %H:%M}</time> local' in body
    )


def test_the_list_says_a_policy_that_is_off_has_no_next_run(member, tenant, frozen):
    paused = valid_payload(
        scheduled_policy={"start_time": "01:00", "frequency": 1, "rentention_num": 7, "status": "OFF"}
    )
    make_policy(tenant, payload=paused)
    assert "No next run: the policy is off" in member.get(url("policy_list", tenant)).content.decode()


def test_the_list_s_next_runs_cost_no_query_per_policy(member, tenant, frozen, django_assert_max_num_queries):
    make_policy(tenant, payload=valid_payload(backup_policy_name="first"))
    member.get(url("policy_list", tenant))  # the session and the user are loaded once
    with CaptureQueriesContext(connection) as one:
        member.get(url("policy_list", tenant))
    for n in range(2, 6):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"more_{n}"))
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = member.get(url("policy_list", tenant)).content.decode()
    assert body.count("Next run:") == 5
