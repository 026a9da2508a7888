"""The core's next runs (policies.domain.schedule.nextruns): weekdays, every N days, month ends, offsets, named zones."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policies.domain import words
from policies.domain.contract import parse, specs
from policies.domain.schedule import nextruns, timeline, week


def spec(
    start_time: str, *, time_zone: str | None = None, status: str = "ON", **scheduled
) -> specs.PolicySpec:
    body = {
        "backup_policy_name": "p",
        "scheduled_policy": {"start_time": start_time, "rentention_num": 7, "status": status, **scheduled},
    }
    if time_zone is not None:
        body["time_zone"] = time_zone
    result = parse.parse_policy(body)
    assert result.ok, result.problems
    return result.spec


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def utc_of(runs) -> list[str]:
    return [f"{run.utc:%a %Y-%m-%d %H:%M}" for run in runs]


def local_of(runs) -> list[str]:
    return [f"{run.local:%a %Y-%m-%d %H:%M}" for run in runs]


# --- weekday schedules (docs/api.md, "Forecast decisions" F1) ----------------------------------


def test_the_day_shift_example_of_the_contract_runs_from_sunday_evening_in_utc():
    # Local Monday 00:00, 02:00, 04:00 at UTC+02:00 are Sun 22:00, Mon 00:00, Mon 02:00 UTC.
    founding = spec("22:00,00:00,02:00", time_zone="UTC+02:00", week_frequency=["MON"])
    runs = nextruns.next_runs(founding, start=at("2026-03-04T12:00"), count=4)
    assert utc_of(runs) == [
        "Sun 2026-03-08 22:00",
        "Mon 2026-03-09 00:00",
        "Mon 2026-03-09 02:00",
        "Sun 2026-03-15 22:00",
    ]
    assert local_of(runs) == [
        "Mon 2026-03-09 00:00",
        "Mon 2026-03-09 02:00",
        "Mon 2026-03-09 04:00",
        "Mon 2026-03-16 00:00",
    ]
    assert all(run.local.utcoffset() == timedelta(hours=2) for run in runs)


@pytest.mark.parametrize(
    ("start_time", "time_zone", "days"),
    [
        ("22:00,00:00,02:00", "UTC+02:00", ["MON"]),
        ("12:00", "UTC+08:00", ["SUN", "WED"]),
        ("23:00,00:00", "UTC-03:00", ["TUE", "SAT"]),
        ("19:00,18:00", "UTC+05:30", ["SUN", "MON", "FRI"]),
        ("11:00,10:00", "UTC+13:45", ["THU"]),
        ("03:00", None, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
    ],
)
def test_a_week_of_next_runs_is_the_utc_week_the_preview_shows(start_time, time_zone, days):
    weekly = spec(start_time, time_zone=time_zone, week_frequency=days)
    expected = sorted(
        (run.utc_weekday, run.utc_minute) for run in week.utc_week(weekly)
    )  # Sunday-first weekday, minute of the UTC day
    # Start on a Sunday 00:00 UTC: one week of runs, in order.
    runs = nextruns.next_runs(weekly, start=at("2026-03-01T00:00"), count=len(expected))
    got = [((run.utc.weekday() + 1) % 7, run.utc.hour * 60) for run in runs]
    assert got == expected


def test_a_run_exactly_at_the_start_counts_and_a_second_later_it_does_not():
    daily_at_two = spec("02:00", week_frequency=["MON"])
    assert utc_of(nextruns.next_runs(daily_at_two, start=at("2026-03-02T02:00"), count=1)) == [
        "Mon 2026-03-02 02:00"
    ]
    later = at("2026-03-02T02:00") + timedelta(seconds=1)
    assert utc_of(nextruns.next_runs(daily_at_two, start=later, count=1)) == ["Mon 2026-03-09 02:00"]


def test_the_start_may_be_given_in_any_offset():
    weekly = spec("02:00", week_frequency=["MON"])
    berlin_morning = datetime(2026, 3, 2, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 02:30 UTC
    assert utc_of(nextruns.next_runs(weekly, start=berlin_morning, count=1)) == ["Mon 2026-03-09 02:00"]


# --- every N days: days 1, 1+N, 1+2N, ... of each local month ------------------------------------


def test_every_three_days_runs_on_the_1st_4th_7th_and_starts_again_on_the_1st():
    every_three = spec("06:00", frequency=3)
    runs = nextruns.next_runs(every_three, start=at("2026-01-25T00:00"), count=5)
    # January: 1, 4, ..., 25, 28, 31; February starts again on the 1st.
    assert [f"{run.local:%m-%d}" for run in runs] == ["01-25", "01-28", "01-31", "02-01", "02-04"]


def test_every_14_days_in_february_runs_on_the_1st_and_15th_then_on_1_march():
    fortnightly = spec("06:00", frequency=14)
    runs = nextruns.next_runs(fortnightly, start=at("2026-01-20T00:00"), count=5)
    # 2026: January 29 (1 + 2 x 14), February 1 and 15 (no 29th), March 1 and 15.
    assert [f"{run.local:%m-%d}" for run in runs] == ["01-29", "02-01", "02-15", "03-01", "03-15"]
    leap = nextruns.next_runs(fortnightly, start=at("2028-02-10T00:00"), count=3)
    assert [f"{run.local:%m-%d}" for run in leap] == ["02-15", "02-29", "03-01"]


def test_every_n_days_counts_the_local_month_when_the_utc_day_is_the_day_before():
    # At UTC+08:00, 20:00 and 21:00 UTC are local 04:00 and 05:00 of the next day (a uniform
    # shift, allowed with frequency): local 1 March 04:00 is 28 February 20:00 UTC.
    shifted = spec("20:00,21:00", time_zone="UTC+08:00", frequency=2)
    runs = nextruns.next_runs(shifted, start=at("2026-02-27T00:00"), count=4)
    # February 2026 has 28 days: its last run day of every 2 days is the 27th, then 1 March.
    assert local_of(runs)[:2] == ["Sun 2026-03-01 04:00", "Sun 2026-03-01 05:00"]
    assert utc_of(runs)[:2] == ["Sat 2026-02-28 20:00", "Sat 2026-02-28 21:00"]
    assert local_of(runs)[2:] == ["Tue 2026-03-03 04:00", "Tue 2026-03-03 05:00"]


# --- offsets with half and three-quarter hours ------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "start_time", "local"),
    [("UTC+05:30", "00:00", "05:30"), ("UTC+05:45", "00:00", "05:45"), ("UTC-03:30", "12:00", "08:30")],
)
def test_a_half_or_three_quarter_hour_offset_keeps_its_minutes_in_local_time(time_zone, start_time, local):
    daily = spec(start_time, time_zone=time_zone, frequency=1)
    runs = nextruns.next_runs(daily, start=at("2026-03-01T00:00"), count=3)
    assert {f"{run.local:%H:%M}" for run in runs} == {local}
    assert {f"{run.utc:%H:%M}" for run in runs} == {start_time}
    # One run per local day, on consecutive days.
    assert [run.local.date() - runs[0].local.date() for run in runs] == [timedelta(days=n) for n in range(3)]


# --- named zones: the fixed offset goes stale ----------------------------------------------------


def test_in_berlin_a_winter_policy_runs_an_hour_later_from_the_monday_after_the_spring_change():
    # Written in January: Berlin is at UTC+01:00, Monday local 02:00 is 01:00 UTC.
    winter = spec("01:00", time_zone="UTC+01:00", week_frequency=["MON"])
    berlin = ZoneInfo("Europe/Berlin")
    runs = nextruns.next_runs(winter, start=at("2026-03-20T00:00"), count=3, zone=berlin)
    assert [(f"{run.zone_local:%a %d %b %H:%M}", run.stale, run.shift_minutes) for run in runs] == [
        ("Mon 23 Mar 02:00", False, 0),
        ("Mon 30 Mar 03:00", True, 60),  # Berlin moved to UTC+02:00 on Sun 29 Mar
        ("Mon 06 Apr 03:00", True, 60),
    ]
    assert {f"{run.local:%H:%M}" for run in runs} == {"02:00"}  # at the stored offset: as chosen
    spring, autumn = nextruns.local_time_changes(winter, berlin, start=at("2026-01-12T00:00"))
    assert (spring.change.at, spring.from_date.isoformat(), spring.local_times) == (
        at("2026-03-29T01:00"),
        "2026-03-30",
        ["03:00"],
    )
    assert spring.stale
    assert words.local_time_change_words(spring).startswith(
        "From Mon 30 Mar 2026, the runs happen at 03:00 in Europe/Berlin"
    )
    assert (autumn.from_date.isoformat(), autumn.local_times, autumn.stale) == (
        "2026-10-26",
        ["02:00"],
        False,
    )


def test_in_berlin_a_summer_policy_runs_an_hour_earlier_after_the_autumn_change():
    # Written in July: Berlin is at UTC+02:00, Monday local 02:00 is 00:00 UTC.
    summer = spec("00:00", time_zone="UTC+02:00", week_frequency=["MON"])
    berlin = ZoneInfo("Europe/Berlin")
    runs = nextruns.next_runs(summer, start=at("2026-10-18T00:00"), count=2, zone=berlin)
    assert [(f"{run.zone_local:%d %b %H:%M}", run.stale, run.shift_minutes) for run in runs] == [
        ("19 Oct 02:00", False, 0),
        ("26 Oct 01:00", True, -60),  # Berlin went back to UTC+01:00 on Sun 25 Oct
    ]
    (autumn, spring) = nextruns.local_time_changes(summer, berlin, start=at("2026-07-01T00:00"))
    assert (autumn.from_date.isoformat(), autumn.local_times, autumn.shift_minutes) == (
        "2026-10-26",
        ["01:00"],
        -60,
    )
    assert "1 hour earlier than chosen (02:00)" in words.local_time_change_words(autumn)
    assert (spring.from_date.isoformat(), spring.stale) == ("2027-03-29", False)


def test_a_zone_without_daylight_saving_never_goes_stale():
    tokyo = spec("15:00", time_zone="UTC+09:00", frequency=1)
    runs = nextruns.next_runs(tokyo, start=at("2026-01-01T00:00"), count=400, zone=ZoneInfo("Asia/Tokyo"))
    assert not any(run.stale for run in runs)
    assert nextruns.local_time_changes(tokyo, ZoneInfo("Asia/Tokyo"), start=at("2026-01-01T00:00")) == []


def test_a_policy_that_is_off_has_no_next_runs():
    paused = spec("02:00", week_frequency=["MON"], status="OFF")
    assert nextruns.next_runs(paused, start=at("2026-03-01T00:00"), count=5) == []
    assert nextruns.next_run(paused, start=at("2026-03-01T00:00")) is None


def test_the_core_refuses_a_naive_start():
    with pytest.raises(ValueError, match="timezone-aware"):
        nextruns.next_runs(spec("02:00", frequency=1), start=datetime(2026, 3, 1), count=1)  # noqa: DTZ001


# --- counting runs without walking through them ------------------------------------------------------


@pytest.mark.parametrize(
    ("start_time", "time_zone", "scheduled"),
    [
        ("01:00,05:00", "UTC+05:30", {"frequency": 3}),
        ("23:00", "UTC-12:00", {"frequency": 14}),
        ("22:00,00:00,02:00", "UTC+02:00", {"week_frequency": ["MON", "SAT"]}),
    ],
)
def test_counting_runs_over_years_agrees_with_listing_them(start_time, time_zone, scheduled):
    calendar = timeline.RunCalendar(spec(start_time, time_zone=time_zone, **scheduled))
    begin = timeline.minute_ceil(at("2023-11-17T07:00"))
    for days in (0, 1, 13, 29, 60, 365, 1461, 3000):
        end = begin + days * 1440 + 37
        assert calendar.count(begin, end) == len(list(calendar.runs(begin, end))), days


def test_a_shift_past_midnight_lists_each_zone_time_in_the_place_of_the_time_chosen():
    # Chosen at UTC+01:00 in winter: local 01:00, 03:00 and 23:00 (00:00, 02:00, 22:00 UTC).
    # From the spring change Berlin shows them an hour later: 02:00, 04:00 and 00:00, each in
    # the place of the time it was chosen as, so that the sentence pairs them.
    winter = spec("00:00,02:00,22:00", time_zone="UTC+01:00", week_frequency=["MON"])
    spring, _autumn = nextruns.local_time_changes(
        winter, ZoneInfo("Europe/Berlin"), start=at("2026-01-12T00:00")
    )
    assert spring.chosen_times == ["01:00", "03:00", "23:00"]
    assert spring.local_times == ["02:00", "04:00", "00:00"]
    assert "at 02:00, 04:00, 00:00 in Europe/Berlin, 1 hour later than chosen (01:00, 03:00, 23:00)" in (
        words.local_time_change_words(spring)
    )
