"""Daylight-saving truth: the core's next runs against a brute force over UTC hours with zoneinfo.

For every IANA zone whose UTC offset changes between 2026-01-01 and 2031-01-01, and for every
such change, a policy written at the offset before the change and one written at the offset after
it are checked in a window of 24 hours either side of the change (bounded: the whole test runs in
a few seconds, where every hour of five years would take minutes):

- which UTC hours are runs: the brute force walks every UTC hour of the window and applies the
  contract's definition (local time = UTC + stored offset; a weekday schedule runs on its local
  weekdays, every N days on days 1, 1+N, ... of the local month);
- each run's local time at the stored offset, its real local time in the zone (zoneinfo), and
  whether that differs (the stale flag): this covers runs in the skipped hour of a spring change
  and in the repeated hour of an autumn change, since one policy runs at every hour of the day;
- the change itself (when, from and to which offset) and the first run it moves.

Changes are found independently of the core: offsets are compared day by day at 00:00 UTC, then
the changing day is walked in steps of 15 minutes (every offset change of the tz database falls
on a quarter hour). Two changes within one day would be missed: the database has none.
"""

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest

from policies.domain import nextruns, offsets, parse, specs

FIRST_DAY = datetime(2026, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2031, 1, 1, tzinfo=UTC)
WINDOW = timedelta(hours=24)
HOUR = timedelta(hours=1)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # datetime.weekday() order


def offset_at(zone: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)


DAYS = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]


def changes_of(zone: ZoneInfo) -> list[tuple[datetime, int, int]]:
    """Return ``(instant, offset before, offset after)`` for each change, found by brute force."""
    offsets = [day.astimezone(zone).utcoffset() for day in DAYS]  # a list: ~1 s for all zones
    found = []
    for day, today, tomorrow in zip(DAYS, offsets, offsets[1:], strict=False):
        if today != tomorrow:
            moment = day
            while moment.astimezone(zone).utcoffset() == today:
                moment += timedelta(minutes=15)
            found.append((moment, offset_at(zone, day), offset_at(zone, moment)))
    return found


@cache
def zones_with_changes() -> dict[str, list[tuple[datetime, int, int]]]:
    zones = {}
    for name in sorted(available_timezones()):
        changes = changes_of(ZoneInfo(name))
        if changes:
            zones[name] = changes
    return zones


def policy(start_hours: list[int], offset: int, **schedule_fields) -> specs.PolicySpec:
    """A valid spec at ``offset`` with the UTC ``start_hours`` put in local order."""
    ordered = sorted(start_hours, key=lambda hour: (hour * 60 + offset) % 1440)
    result = parse.parse_policy(
        {
            "backup_policy_name": "truth",
            "scheduled_policy": {
                "start_time": ",".join(f"{hour:02d}:00" for hour in ordered),
                "rentention_num": 2,
                "status": "ON",
                **schedule_fields,
            },
            "time_zone": offsets.format_offset(offset),
        }
    )
    assert result.ok, result.problems
    return result.spec


def brute_runs(start_hours, offset, zone, window_from, window_until, *, weekdays=None, frequency=None):
    """Every UTC hour of the window that is a run, as (utc, stored offset, zone's offset, stale).

    An instant and an offset fix the wall-clock time, so comparing offsets compares local times
    (and costs far less than building naive datetimes for some 200 000 runs).
    """
    runs = []
    moment = window_from
    stored = timedelta(minutes=offset)
    while moment < window_until:
        fixed_local = moment + stored  # the contract: local = UTC + offset (read as wall time)
        is_run_day = (
            WEEKDAYS[fixed_local.weekday()] in weekdays
            if weekdays is not None
            else (fixed_local.day - 1) % frequency == 0
        )
        if moment.hour in start_hours and is_run_day:
            real = moment.astimezone(zone).utcoffset()
            runs.append((moment, stored, real, real != stored))
        moment += HOUR
    return runs


def core_runs(spec, zone, window_from, window_until, expected: int):
    runs = nextruns.next_runs(spec, start=window_from, count=expected + 1, zone=zone)
    assert runs[-1].utc >= window_until, "the core found a run the brute force did not"
    return [(run.utc, run.local.utcoffset(), run.zone_local.utcoffset(), run.stale) for run in runs[:-1]]


def frequency_for(day_of_month: int) -> int:
    """The largest N (1 to 14) for which ``day_of_month`` is a run day of "every N days"."""
    return max(n for n in range(1, 15) if (day_of_month - 1) % n == 0)


def test_the_brute_force_finds_the_changes_it_should():
    # Guards the test itself: without changes to check, every other assertion would pass vacuously.
    zones = zones_with_changes()
    berlin = zones["Europe/Berlin"]
    assert (datetime(2026, 3, 29, 1, tzinfo=UTC), 60, 120) in berlin
    assert (datetime(2026, 10, 25, 1, tzinfo=UTC), 120, 60) in berlin
    assert len(berlin) == 10  # two a year for five years
    assert "Australia/Lord_Howe" in zones  # half-hour daylight saving
    assert "Pacific/Chatham" in zones  # a :45 offset
    assert "Asia/Tokyo" not in zones
    assert len(zones) > 100


def test_next_runs_agree_with_zoneinfo_around_every_change_of_every_zone_2026_to_2030():
    checked = 0
    for name, changes in zones_with_changes().items():
        zone = ZoneInfo(name)
        for moment, before, after in changes:
            window_from = moment.replace(minute=0) - WINDOW
            window_until = moment.replace(minute=0) + WINDOW
            first_hour_after = moment if moment.minute == 0 else moment.replace(minute=0) + HOUR
            for stored in (before, after):
                assert offsets.is_valid_offset(stored), (name, stored)
                # One policy runs at every hour of every day: each hour near the change, the
                # skipped or repeated one included, is compared.
                every_hour = list(range(24))
                spec = policy(every_hour, stored, week_frequency=list(WEEKDAYS))
                expected = brute_runs(every_hour, stored, zone, window_from, window_until, weekdays=WEEKDAYS)
                assert core_runs(spec, zone, window_from, window_until, len(expected)) == expected, name

                # Every N days, at the UTC hour of the change, on the local day of the change.
                local_day = (first_hour_after + timedelta(minutes=stored)).day
                frequency = frequency_for(local_day)
                sparse = policy([first_hour_after.hour], stored, frequency=frequency)
                expected = brute_runs(
                    [first_hour_after.hour], stored, zone, window_from, window_until, frequency=frequency
                )
                assert first_hour_after in [run[0] for run in expected]
                assert core_runs(sparse, zone, window_from, window_until, len(expected)) == expected, name

                # The change as the core tells it, and the first run it moves.
                told = nextruns.local_time_changes(spec, zone, start=window_from, days=2, zone_name=name)
                in_window = [c for c in changes if window_from <= c[0] < window_from + timedelta(days=2)]
                assert [
                    (c.change.at, c.change.before_minutes, c.change.after_minutes) for c in told
                ] == in_window
                mine = next(c for c in told if c.change.at == moment)
                real = first_hour_after.astimezone(zone)
                assert mine.first_run.utc == first_hour_after
                assert mine.first_run.zone_local.replace(tzinfo=None) == real.replace(tzinfo=None)
                assert mine.stale == (after != stored)
                assert mine.from_date == real.date()
                checked += 1
    assert checked >= 2 * 1000, checked


@pytest.mark.parametrize(
    ("zone_name", "stored", "utc_hour", "expected_local"),
    [
        # Berlin springs forward at 01:00 UTC on Sun 29 Mar 2026: 02:00 local does not exist.
        ("Europe/Berlin", 60, datetime(2026, 3, 29, 1, tzinfo=UTC), "03:00"),
        # Berlin falls back at 01:00 UTC on Sun 25 Oct 2026: 02:00 local happens twice.
        ("Europe/Berlin", 120, datetime(2026, 10, 25, 0, tzinfo=UTC), "02:00"),
        ("Europe/Berlin", 120, datetime(2026, 10, 25, 1, tzinfo=UTC), "02:00"),
    ],
)
def test_runs_in_the_skipped_and_repeated_hours_have_their_real_local_time(
    zone_name, stored, utc_hour, expected_local
):
    zone = ZoneInfo(zone_name)
    spec = policy([utc_hour.hour], stored, week_frequency=["SUN"])
    (run,) = nextruns.next_runs(spec, start=utc_hour, count=1, zone=zone)
    assert run.utc == utc_hour
    assert f"{run.zone_local:%H:%M}" == expected_local
    assert run.zone_local.fold == utc_hour.astimezone(zone).fold
    assert run.stale == (offset_at(zone, utc_hour) != stored)
