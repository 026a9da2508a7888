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

import dataclasses
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest

from policies.domain.contract import parse, specs
from policies.domain.schedule import localtimes, nextruns, offsets

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


# --- Named zones: a policy re-based by the scheduler keeps its local times -----------------------
#
# For every zone and every change of 2026-2030, a policy written with time_zone_name at the offset
# before the change (at every hour of every day, and every N days at the hour of the change) is
# run by a model of the scheduler: a tick every hour; on each tick the re-base of the core
# (what the service stores) comes first, then every run that has come is fired, the next one
# taken from the policy as stored. The fired runs must be the brute force's: each chosen local
# time of each run day, found among the UTC hours of the window by zoneinfo (the first one whose
# wall time is the chosen one; none, in a gap: the first whose wall time is later).

# Eight hours either side of the change: every clock the change moves (by two hours at most) is in.
NAMED_WINDOW = timedelta(hours=8)
TICK = timedelta(hours=1)  # runs are full UTC hours: a tick on each is enough
# Zones that move their clocks by half an hour: full UTC hours cannot keep their local times,
# so the core refuses them as a named zone (tested below); every other zone is checked.
PART_HOUR_ZONES = {"Australia/Lord_Howe", "Australia/LHI"}


def named_policy(name: str, local_minutes: list[int], now: datetime, **schedule_fields) -> specs.PolicySpec:
    offset = offset_at(ZoneInfo(name), now)
    hours = [((minute - offset) % 1440) // 60 for minute in sorted(local_minutes)]
    result = parse.parse_policy(
        {
            "backup_policy_name": "truth",
            "scheduled_policy": {
                "start_time": ",".join(f"{hour:02d}:00" for hour in hours),
                "rentention_num": 2,
                "status": "ON",
                **schedule_fields,
            },
            "time_zone_name": name,
        },
        now=now,
    )
    assert result.ok, (name, result.problems)
    return result.spec


def brute_local_runs(zone, local_minutes, window_from, window_until, *, weekdays=None, frequency=None):
    """The instants of the chosen local times of each run day, by zoneinfo over the window's UTC hours."""
    hours = []
    moment = window_from - timedelta(days=1)
    while moment < window_until + timedelta(days=1):
        hours.append((moment.astimezone(zone).replace(tzinfo=None), moment))
        moment += HOUR
    first_at: dict[datetime, datetime] = {}
    for wall, utc in hours:
        first_at.setdefault(wall, utc)  # the first occurrence of a repeated wall time
    runs = set()
    for day in sorted({wall.date() for wall, _ in hours}):
        if weekdays is not None and WEEKDAYS[day.weekday()] not in weekdays:
            continue
        if frequency is not None and (day.day - 1) % frequency:
            continue
        for minute in local_minutes:
            wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)  # wall time
            if wall in first_at:
                runs.add(first_at[wall])
                continue
            later = next((utc for seen, utc in hours if seen > wall), None)  # a gap: the first after
            if later is not None:
                runs.add(later)
    return sorted(run for run in runs if window_from <= run < window_until)


def scheduled_runs(spec, window_from, window_until, *, rebase=localtimes.rebase):
    """Fire the runs as the scheduler does, re-basing first on every tick; return the runs fired."""
    fired = []
    next_at = nextruns.next_run(spec, start=window_from).utc
    tick = window_from
    while tick < window_until:
        spec = rebase(spec, now=tick) or spec
        # After the re-base the stored form tells what runs next: the zone's offset at that run.
        assert spec.offset_minutes == localtimes.offset_at(spec, next_at), (spec, next_at)
        while next_at <= tick:
            fired.append(next_at)
            next_at = nextruns.next_run(spec, start=next_at + timedelta(microseconds=1)).utc
        tick += TICK
    return [run for run in fired if run < window_until]


def test_named_zone_policies_keep_their_local_times_through_every_change_2026_to_2030():
    checked = 0
    for name, changes in zones_with_changes().items():
        if name in PART_HOUR_ZONES:
            continue
        zone = ZoneInfo(name)
        for moment, before, _after in changes:
            window_from = moment.replace(minute=0) - NAMED_WINDOW
            window_until = moment.replace(minute=0) + NAMED_WINDOW
            written = window_from - timedelta(days=2)
            if offset_at(zone, written) != before:
                continue  # another change just before: never in 2026-2030 (all 1992 are checked)
            every_hour = [(hour * 60 + before) % 1440 for hour in range(24)]
            spec = named_policy(name, every_hour, written, week_frequency=list(WEEKDAYS))
            expected = brute_local_runs(zone, every_hour, window_from, window_until, weekdays=WEEKDAYS)
            assert scheduled_runs(spec, window_from, window_until) == expected, name

            first_hour_after = moment if moment.minute == 0 else moment.replace(minute=0) + HOUR
            local = first_hour_after.astimezone(zone)
            minute = (local.hour * 60 + local.minute) // 60 * 60 + before % 60
            frequency = frequency_for(local.day)
            sparse = named_policy(name, [minute], written, frequency=frequency)
            expected = brute_local_runs(zone, [minute], window_from, window_until, frequency=frequency)
            assert expected, name
            assert scheduled_runs(sparse, window_from, window_until) == expected, name
            checked += 1
    assert checked >= 1000, checked


def test_a_rebase_that_moves_the_offset_but_not_the_hours_is_caught():
    # The guard of the test above: a broken re-base must fail it.
    def broken(spec, *, now):
        rebased = localtimes.rebase(spec, now=now)
        return None if rebased is None else dataclasses.replace(rebased, start_hours=spec.start_hours)

    zone = ZoneInfo("Europe/Berlin")
    moment = datetime(2027, 3, 28, 1, tzinfo=UTC)
    window_from, window_until = moment - WINDOW, moment + WINDOW
    every_hour = [hour * 60 for hour in range(24)]
    spec = named_policy(
        "Europe/Berlin", every_hour, window_from - timedelta(days=2), week_frequency=list(WEEKDAYS)
    )
    expected = brute_local_runs(zone, every_hour, window_from, window_until, weekdays=WEEKDAYS)
    assert scheduled_runs(spec, window_from, window_until) == expected
    assert scheduled_runs(spec, window_from, window_until, rebase=broken) != expected


@pytest.mark.parametrize("name", sorted(PART_HOUR_ZONES))
def test_zones_that_move_by_half_an_hour_are_refused_as_named_zones(name):
    result = parse.parse_policy(
        {
            "backup_policy_name": "p",
            "scheduled_policy": {"start_time": "01:00", "frequency": 1, "rentention_num": 2, "status": "ON"},
            "time_zone_name": name,
        },
        now=FIRST_DAY,
    )
    assert [problem.code for problem in result.problems] == ["AutoBackup.0226"]
