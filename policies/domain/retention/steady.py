"""The steady state of a retention rule: its figures once it has filled up."""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, replace
from datetime import date, datetime

from policies.domain.contract.limits import MINUTES_PER_DAY, MINUTES_PER_WEEK
from policies.domain.contract.specs import PolicySpec
from policies.domain.retention.rule import Rule
from policies.domain.schedule.timeline import RunCalendar, add_months, utc_at

STEADY_MONTHS = 12


@dataclass(frozen=True)
class SteadyState:
    """The long run, once the retention has filled up: measured over ``STEADY_MONTHS`` months.

    A weekday schedule without keep-first repeats every week, so one week is measured instead.
    """

    measured_from: datetime
    measured_until: datetime
    max_backups: int
    min_backups: int
    oldest_min_minutes: int | None  # restore points always reach back at least this far ...
    oldest_max_minutes: int | None  # ... and never further than this
    longest_gap_minutes: int
    longest_gap_from: datetime
    longest_gap_until: datetime


# --- The steady state -------------------------------------------------------------------------


def steady_state(spec: PolicySpec, *, start: date) -> SteadyState | None:
    """Return the long-run figures, measured from the first local month start on or after ``start``."""
    if not spec.enabled:
        return None
    # The figures depend on the schedule and the rule only: typing a name re-asks for the same.
    return _steady_state(replace(spec, name="", tags=()), start)


@functools.lru_cache(maxsize=256)
def _steady_state(spec: PolicySpec, start: date) -> SteadyState:
    calendar, rule = RunCalendar(spec), Rule.of(spec)
    first = start if start.day == 1 else add_months(start, 1)
    m0 = calendar.midnight(first)
    periodic = calendar.frequency is None and not rule.keep_first
    m1 = m0 + MINUTES_PER_WEEK if periodic else calendar.midnight(add_months(first, STEADY_MONTHS))
    alive = functools.cache(
        (_alive_by_count if rule.num is not None else _alive_by_age)(calendar, rule, m0, m1)
    )

    creations = list(calendar.runs(m0, m1))
    deletions = set(calendar.month_starts(m0, m1)) if rule.keep_first else set()
    if rule.num is not None:
        deletions.update(creations)  # the count rule deletes when a backup is made
    else:
        deletions.update(
            r + rule.day_minutes for r in calendar.runs(m0 - rule.day_minutes, m1 - rule.day_minutes)
        )
    deletions.add(m0)

    max_backups, ages_after, ages_before = 0, [], []
    for moment in creations:
        count, oldest = alive(moment)
        max_backups = max(max_backups, count)
        if oldest is not None:  # 0 after a backup made when none existed
            ages_after.append(moment - oldest)
    min_backups = max_backups
    for moment in sorted(deletions):
        count, oldest = alive(moment)
        min_backups = min(min_backups, count)
        if oldest is not None:
            ages_after.append(moment - oldest)
        if moment > m0:  # the age reached just before m0 belongs to the month before
            _, before = alive(moment - 1)
            if before is not None:
                ages_before.append(moment - before)
    _, before = alive(m1 - 1)
    if before is not None:
        ages_before.append(m1 - before)

    runs = [*creations, calendar.next_run(m1)]
    gap, at = max((later - earlier, earlier) for earlier, later in zip(runs, runs[1:], strict=False))
    return SteadyState(
        measured_from=utc_at(m0),
        measured_until=utc_at(m1),
        max_backups=max_backups,
        min_backups=min_backups,
        oldest_min_minutes=min(ages_after) if ages_after else None,
        oldest_max_minutes=max(ages_before) if ages_before else None,
        longest_gap_minutes=gap,
        longest_gap_from=utc_at(at),
        longest_gap_until=utc_at(at + gap),
    )


class _Protected:
    """The current month's first backup, when keep-first is on, for instants in ``[a, b]``."""

    def __init__(self, calendar: RunCalendar, rule: Rule, a: int, b: int) -> None:
        self.calendar, self.on = calendar, rule.keep_first
        # Month starts from the month holding ``a`` on: one bisect per look-up, no date maths.
        self._starts = calendar.month_starts(calendar.month_start(a), b + 1) if self.on else []
        self._firsts: dict[int, int] = {}

    def at(self, moment: int) -> int | None:
        """Return the current month's first backup if it is made by ``moment``."""
        if not self.on:
            return None
        month = self._starts[bisect.bisect_right(self._starts, moment) - 1]
        first = self._firsts.get(month)
        if first is None:
            first = self._firsts[month] = self.calendar.next_run(month)
        return first if first <= moment else None


def _alive_by_count(calendar: RunCalendar, rule: Rule, m0: int, m1: int):
    """Return ``alive(t) -> (count, oldest)`` for a count rule that has run for ever, for m0 - 1 <= t <= m1.

    The backups alive after the events at ``t`` are the N newest made by ``t`` other than the
    current month's first (while protected), plus that one.
    """
    num = rule.num
    assert num is not None
    protected = _Protected(calendar, rule, m0 - 1, m1)
    # Enough history for N + 1 backups before m0 (runs are at most 14 days apart) and one month.
    runs = list(calendar.runs(m0 - (num + 2) * 16 * MINUTES_PER_DAY - 32 * MINUTES_PER_DAY, m1 + 1))

    def alive(moment: int) -> tuple[int, int | None]:
        made = bisect.bisect_right(runs, moment)
        first = protected.at(moment)
        newest = runs[max(0, made - num) : made]
        if first is not None and first in newest:
            newest = [run for run in runs[max(0, made - num - 1) : made] if run != first]
        oldest = min([*newest[:1], *([first] if first is not None else [])], default=None)
        return len(newest) + (first is not None), oldest

    return alive


def _alive_by_age(calendar: RunCalendar, rule: Rule, m0: int, m1: int):
    """Return ``alive(t) -> (count, oldest)`` for an age rule that has run for ever, for m0 - 1 <= t <= m1.

    A backup made at ``r`` lives until ``r + D``; the current month's first lives on while the
    month lasts. So the backups alive after ``t`` are those made in ``(t - D, t]``, and the
    month's first if it is older. D may be 99999 days: the runs in between are counted, never listed.
    """
    life = rule.day_minutes
    assert life is not None
    protected = _Protected(calendar, rule, m0 - 1, m1)
    margin = 16 * MINUTES_PER_DAY  # longer than any gap between two runs
    leaving = list(calendar.runs(m0 - life - 1, m1 - life + 1 + margin))  # where (t - D, ...] starts
    arriving = list(calendar.runs(m0 - 1, m1 + 1))  # where (..., t] ends
    # Runs in [m0 - 1 - D, m0 - 1): counted once, then moved by the two lists' indexes.
    base = calendar.count(m0 - 1 - life, m0 - 1)

    def alive(moment: int) -> tuple[int, int | None]:
        low = bisect.bisect_left(leaving, moment - life + 1)  # runs in [m0 - 1 - D, t - D + 1)
        high = bisect.bisect_left(arriving, moment + 1)  # runs in [m0 - 1, t + 1)
        count = base - low + high
        oldest = leaving[low] if count and low < len(leaving) else None
        first = protected.at(moment)
        if first is not None and first <= moment - life:
            return count + 1, first
        return count, oldest

    return alive
