"""The retention simulation and its steady state (policies.domain.retention.simulation, longrun), worked out by hand.

All policies here have no time_zone (local time is UTC) unless said otherwise, so every date below
can be checked on a calendar: 2026-01-31 is a Saturday, February 2026 has 28 days.
"""

import random
from datetime import date, timedelta

import pytest

from policies.domain import words
from policies.domain.contract import limits, parse, specs
from policies.domain.retention import rule, simulation
from policies.domain.retention.steady import steady_state
from policies.domain.schedule import offsets, timeline

DAY = 24 * 60
WEEK = 7 * DAY


def spec(
    start_time="01:00", *, time_zone=None, status="ON", keep_first=False, **scheduled
) -> specs.PolicySpec:
    body = {
        "backup_policy_name": "p",
        "scheduled_policy": {
            "start_time": start_time,
            "status": status,
            "remain_first_backup_of_curMonth": "Y" if keep_first else "N",
            **scheduled,
        },
    }
    if time_zone:
        body["time_zone"] = time_zone
    result = parse.parse_policy(body)
    assert result.ok, result.problems
    return result.spec


def lives(result) -> list[tuple[str, str | None, str]]:
    """Each backup as (made, deleted or None, reason), in local time."""
    return [
        (
            f"{b.local_created:%m-%d %H:%M}",
            None if b.local_deleted is None else f"{b.local_deleted:%m-%d %H:%M}",
            b.reason,
        )
        for b in result.backups
    ]


# --- the simulation across a month boundary --------------------------------------------------------


def test_count_keeps_the_newest_and_deletes_the_oldest_when_a_new_one_is_made():
    # Daily at 01:00, keep 3, from Fri 30 Jan for one week: backup n + 3 deletes backup n.
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_num=3), start=date(2026, 1, 30), weeks=1
    )
    assert lives(result) == [
        ("01-30 01:00", "02-02 01:00", "count"),
        ("01-31 01:00", "02-03 01:00", "count"),
        ("02-01 01:00", "02-04 01:00", "count"),
        ("02-02 01:00", "02-05 01:00", "count"),
        ("02-03 01:00", None, "newest"),
        ("02-04 01:00", None, "newest"),
        ("02-05 01:00", None, "newest"),
    ]
    assert [day.exist for day in result.days] == [1, 2, 3, 3, 3, 3, 3]
    assert result.backups[0].explanation == "deleted when backup 4 was made: only the 3 newest are kept"
    # The first backup of each month is marked, whether kept beyond the rule or not.
    assert [b.first_of_month for b in result.backups] == [True, False, True, False, False, False, False]


def test_count_with_keep_first_keeps_the_month_s_first_beyond_the_count_until_the_month_ends():
    # Daily at 01:00, keep 2, first of the month kept, from Fri 30 Jan for one week.
    #   30 Jan #1: the first of January (the policy starts then): kept beyond the count.
    #   31 Jan #2: counted: [2].
    #   1 Feb 00:00: January ends; #1 is an ordinary backup again: [1, 2], still the 2 newest.
    #   1 Feb 01:00 #3: the first of February, not counted: [1, 2].
    #   2 Feb #4: [1, 2, 4] -> #1 goes;  3 Feb #5 -> #2 goes;  4 Feb #6 -> #4;  5 Feb #7 -> #5.
    #   At the end: #3 (first of February), #6, #7: three backups with a count of 2.
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_num=2, keep_first=True), start=date(2026, 1, 30), weeks=1
    )
    assert lives(result) == [
        ("01-30 01:00", "02-02 01:00", "count"),
        ("01-31 01:00", "02-03 01:00", "count"),
        ("02-01 01:00", None, "first_of_month"),
        ("02-02 01:00", "02-04 01:00", "count"),
        ("02-03 01:00", "02-05 01:00", "count"),
        ("02-04 01:00", None, "newest"),
        ("02-05 01:00", None, "newest"),
    ]
    assert [day.exist for day in result.days] == [1, 2, 3, 3, 3, 3, 3]


def test_the_month_s_first_is_deleted_when_the_month_ends_if_the_count_has_moved_past_it():
    # Daily at 01:00, keep 2, from Thu 29 Jan: #1 (29 Jan) is January's first, #2 and #3 are
    # counted. When January ends (1 Feb 00:00) #1 rejoins [1, 2, 3] and, the oldest of three, goes.
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_num=2, keep_first=True), start=date(2026, 1, 29), weeks=1
    )
    assert lives(result)[0] == ("01-29 01:00", "02-01 00:00", "month_end")
    assert result.backups[0].explanation == (
        "first backup of January: kept until the month ended, then deleted (not among the 2 newest)"
    )


def test_days_delete_each_backup_when_it_turns_that_many_days_old():
    # Daily at 01:00, 3 days: each backup lives exactly 72 hours; at 01:00 the oldest goes first,
    # then the new one is made, so 3 exist at every day's end.
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_day=3), start=date(2026, 1, 30), weeks=1
    )
    assert lives(result) == [
        ("01-30 01:00", "02-02 01:00", "age"),
        ("01-31 01:00", "02-03 01:00", "age"),
        ("02-01 01:00", "02-04 01:00", "age"),
        ("02-02 01:00", "02-05 01:00", "age"),
        ("02-03 01:00", None, "young"),
        ("02-04 01:00", None, "young"),
        ("02-05 01:00", None, "young"),
    ]
    assert [day.exist for day in result.days] == [1, 2, 3, 3, 3, 3, 3]


def test_days_with_keep_first_keep_the_month_s_first_until_the_month_ends_then_delete_it():
    # Daily at 01:00, 3 days, first of the month kept, from Wed 28 Jan for one week.
    #   #1 28 Jan, January's first: 3 days old on 31 Jan 01:00 but kept while January lasts,
    #      deleted when it ends (1 Feb 00:00), being older than 3 days by then.
    #   #2 29 Jan -> 1 Feb 01:00, #3 -> 2 Feb, #4 -> 3 Feb (age).
    #   #5 1 Feb, February's first: kept through the week's end (3 Feb is the last day).
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_day=3, keep_first=True), start=date(2026, 1, 28), weeks=1
    )
    assert lives(result) == [
        ("01-28 01:00", "02-01 00:00", "month_end"),
        ("01-29 01:00", "02-01 01:00", "age"),
        ("01-30 01:00", "02-02 01:00", "age"),
        ("01-31 01:00", "02-03 01:00", "age"),
        ("02-01 01:00", None, "first_of_month"),
        ("02-02 01:00", None, "young"),
        ("02-03 01:00", None, "young"),
    ]
    # 28: #1; 29: #1-2; 30: #1-3; 31: #1-4 (#1 held by its month); 1 Feb: #3-5; 2: #4-6; 3: #5-7.
    assert [day.exist for day in result.days] == [1, 2, 3, 4, 3, 3, 3]


def test_a_policy_that_is_off_creates_no_backups_and_says_so():
    result = simulation.simulate_retention(
        spec(frequency=1, rentention_num=3, status="OFF"), start=date(2026, 3, 2)
    )
    assert result.backups == ()
    assert result.steady is None
    assert result.note == words.OFF_NOTE
    assert words.retention_summary(result) == words.OFF_NOTE


def test_the_span_starts_at_local_midnight_of_the_start_date():
    # At UTC+05:30 local midnight of 2 March is 18:30 UTC on 1 March.
    result = simulation.simulate_retention(
        spec("00:00", time_zone="UTC+05:30", frequency=1, rentention_num=2), start=date(2026, 3, 2), weeks=1
    )
    assert f"{result.window_from:%Y-%m-%d %H:%M}" == "2026-03-01 18:30"
    assert f"{result.backups[0].local_created:%m-%d %H:%M}" == "03-02 05:30"
    assert len(result.days) == 7


def test_the_calendar_has_whole_weeks_from_sunday_and_marks_the_days_of_the_span():
    result = simulation.simulate_retention(
        spec(frequency=3, rentention_num=4), start=date(2026, 3, 4), weeks=2
    )
    weeks = result.calendar()
    assert [len(week) for week in weeks] == [7, 7, 7]
    assert weeks[0][0].day == date(2026, 3, 1)  # the Sunday before Wednesday 4 March
    in_span = [cell.day for week in weeks for cell in week if cell.in_span]
    assert in_span == [date(2026, 3, 4) + timedelta(days=n) for n in range(14)]
    marked = [cell.day.day for week in weeks for cell in week if cell.marks]
    assert marked == [4, 7, 10, 13, 16]  # every 3 days: 1, 4, 7, ... of March


@pytest.mark.parametrize("seed", range(20))
def test_the_count_at_each_day_s_end_is_what_the_backups_lives_say(seed):
    rng = random.Random(seed)
    hours = sorted(rng.sample(range(24), rng.randint(1, 4)))
    rule = (
        {"rentention_num": rng.randint(2, 14)}
        if rng.random() < 0.5
        else {"rentention_day": rng.randint(2, 40)}
    )
    result = simulation.simulate_retention(
        spec(
            ",".join(f"{h:02d}:00" for h in hours),
            frequency=rng.randint(1, 5),
            keep_first=rng.random() < 0.5,
            **rule,
        ),
        start=date(2026, 1, 1) + timedelta(days=rng.randint(0, 700)),
        weeks=rng.randint(1, 12),
    )
    for day in result.days:
        end = timeline.utc_at(timeline.minute_ceil(result.window_from)) + timedelta(
            days=(day.day - result.start).days + 1
        )
        alive = [
            b for b in result.backups if b.created_at < end and (b.deleted_at is None or b.deleted_at >= end)
        ]
        assert day.exist == len(alive)


# --- the steady state, by hand ------------------------------------------------------------------


def test_steady_state_of_a_weekly_policy_keeping_seven():
    # Mondays at 01:00, keep 7. Right after a run the 7 backups are 0..6 weeks old; just before
    # the next run the oldest is 7 weeks old. Runs are a week apart.
    steady = steady_state(spec(week_frequency=["MON"], rentention_num=7), start=date(2026, 3, 2))
    assert (steady.max_backups, steady.min_backups) == (7, 7)
    assert (steady.oldest_min_minutes, steady.oldest_max_minutes) == (6 * WEEK, 7 * WEEK)
    assert steady.longest_gap_minutes == WEEK
    assert words.steady_oldest_words(steady) == "between 42 days and 49 days"


def test_steady_state_of_a_daily_policy_keeping_seven_days():
    # Daily at 00:00, 7 days. At 00:00 the 7-day-old backup goes, then the new one comes: 7 exist
    # at every moment, 0..6 days old right after, the oldest 7 days old just before midnight.
    steady = steady_state(spec("00:00", frequency=1, rentention_day=7), start=date(2026, 3, 2))
    assert (steady.max_backups, steady.min_backups) == (7, 7)
    assert (steady.oldest_min_minutes, steady.oldest_max_minutes) == (6 * DAY, 7 * DAY)
    assert steady.longest_gap_minutes == DAY


def test_steady_state_of_every_14_days_keeping_two_and_the_month_s_first():
    # Every 14 days at 12:00 (the 1st, 15th, 29th), keep 2 and the month's first; measured over
    # April 2026 to March 2027.
    # - At most 3: the 2 newest and the month's first (from the 15th: the 15th, the 29th or 15th
    #   before it, and the 1st). At least 2: at a month's end its first goes back to the count.
    # - The oldest restore point, at least: when a 30-day month ends, its 1st is dropped and the
    #   oldest is its 15th (12:00), 15 days 12 hours old at midnight.
    # - At most: February 2027 has no 29th, so when it ends the 2 newest are 1 and 15 February:
    #   the 1st stays until 15 March 12:00 makes room, 28 + 14 = 42 days old.
    # - The longest gap: 14 days (the 1st to the 15th, and 15 February to 1 March).
    steady = steady_state(
        spec("12:00", frequency=14, rentention_num=2, keep_first=True), start=date(2026, 3, 2)
    )
    assert f"{steady.measured_from:%Y-%m-%d}" == "2026-04-01"
    assert f"{steady.measured_until:%Y-%m-%d}" == "2027-04-01"
    assert (steady.max_backups, steady.min_backups) == (3, 2)
    assert steady.oldest_min_minutes == 15 * DAY + 12 * 60
    assert steady.oldest_max_minutes == 42 * DAY
    assert steady.longest_gap_minutes == 14 * DAY


def test_steady_state_of_daily_five_days_and_the_month_s_first():
    # Daily at 00:00, 5 days, keep the month's first. From the 6th the month's first (1st 00:00)
    # is older than 5 days and held beyond the rule: 6 backups. Just before a 31-day month ends
    # its first is 31 days old. Right after midnight the oldest counted backup is 4 days old.
    steady = steady_state(
        spec("00:00", frequency=1, rentention_day=5, keep_first=True), start=date(2026, 3, 2)
    )
    assert (steady.max_backups, steady.min_backups) == (6, 5)
    assert (steady.oldest_min_minutes, steady.oldest_max_minutes) == (4 * DAY, 31 * DAY)


def test_steady_state_says_when_no_backup_exists_for_part_of_the_time():
    # Mondays only, 2 days: from Wednesday to the next Monday nothing is left to restore.
    steady = steady_state(spec(week_frequency=["MON"], rentention_day=2), start=date(2026, 3, 2))
    assert (steady.max_backups, steady.min_backups) == (1, 0)
    assert (steady.oldest_min_minutes, steady.oldest_max_minutes) == (0, 2 * DAY)
    assert steady.longest_gap_minutes == WEEK


def test_steady_state_handles_the_longest_retention_without_listing_its_backups():
    # 24 runs a day for 99999 days: 2 399 976 backups at once, counted, not listed.
    every_hour = ",".join(f"{hour:02d}:00" for hour in range(24))
    steady = steady_state(spec(every_hour, frequency=1, rentention_day=99999), start=date(2026, 3, 2))
    assert steady.max_backups == steady.min_backups == 24 * 99999
    assert steady.oldest_max_minutes == 99999 * DAY
    assert steady.longest_gap_minutes == 60


@pytest.mark.parametrize("seed", range(40))
def test_the_steady_state_agrees_with_a_long_simulation(seed):
    """The closed forms against the simulation itself, started long before and watched over the span."""
    rng = random.Random(seed)
    time_zone = rng.choice([None, "UTC+01:00", "UTC-03:00", "UTC+05:30", "UTC+13:45"])
    offset = offsets.parse_offset(time_zone) if time_zone else 0
    hours = sorted(rng.sample(range(24), rng.randint(1, 3)), key=lambda h: (h * 60 + offset) % DAY)
    scheduled = {"start_time": ",".join(f"{h:02d}:00" for h in hours)}
    if rng.random() < 0.5 or offsets.has_day_shift(hours, offset):
        scheduled["week_frequency"] = rng.sample(limits.WEEKDAYS, rng.randint(1, 3))
    else:
        scheduled["frequency"] = rng.randint(1, 14)
    if rng.random() < 0.5:
        scheduled["rentention_num"] = rng.randint(2, 14)
    else:
        scheduled["rentention_day"] = rng.choice([2, 3, 7, 20, 30, 31, 45])
    policy = spec(time_zone=time_zone, keep_first=rng.random() < 0.5, **scheduled)
    start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 900))

    steady = steady_state(policy, start=start)
    m0, m1 = timeline.minute_ceil(steady.measured_from), timeline.minute_ceil(steady.measured_until)
    warm_up = (policy.retention_day or 0) * DAY + 300 * DAY
    items = simulation._simulate(timeline.RunCalendar(policy), rule.Rule.of(policy), m0 - warm_up, m1 + 1)
    spans = [(item.created, item.deleted if item.deleted is not None else m1 + 2) for item in items]

    def state(moment):
        alive = [made for made, gone in spans if made <= moment < gone]
        return len(alive), min(alive, default=None)

    moments = sorted({m0} | {t for span in spans for t in span if m0 <= t < m1})
    counts = [state(t)[0] for t in moments]
    after = [t - state(t)[1] for t in moments if state(t)[1] is not None]
    before = [t - state(t - 1)[1] for t in [*moments[1:], m1] if state(t - 1)[1] is not None]
    assert (steady.max_backups, steady.min_backups) == (max(counts), min(counts))
    assert (steady.oldest_min_minutes, steady.oldest_max_minutes) == (min(after), max(before))


def test_the_summary_agrees_in_number():
    # Weekly on Monday, keep 2, over 3 weeks from Mon 5 Jan: backups on 5, 12, 19 Jan; the third
    # deletes the first, so one is deleted and two exist at the end.
    three = simulation.simulate_retention(
        spec(week_frequency=["MON"], rentention_num=2), start=date(2026, 1, 5), weeks=3
    )
    assert (
        "makes 3 backups; 1 of them is deleted within the span and 2 exist at its end."
        in words.retention_summary(three)
    )
    # Over one week: one backup, none deleted, one exists.
    one = simulation.simulate_retention(
        spec(week_frequency=["MON"], rentention_num=2), start=date(2026, 1, 5), weeks=1
    )
    assert (
        "makes 1 backup; 0 of them are deleted within the span and 1 exists at its end."
        in words.retention_summary(one)
    )
