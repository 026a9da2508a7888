"""The run instants of a schedule, as whole minutes since 1970-01-01 00:00 UTC.

Runs
  A policy stores a fixed offset (``time_zone``), so its runs are fixed instants in UTC. A weekday
  schedule runs on its local weekdays at its local times. A schedule of every N
  days runs on days 1, 1+N, 1+2N, ... of each *local* calendar month, as the VBS console does
  (every 3 days: the 1st, 4th, 7th, ...). A named IANA zone only changes what is shown: each run
  is also told in that zone's real local time, and flagged *stale* when the zone's offset at that
  instant differs from the stored one (the run then happens at another local time than chosen).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

from policies.domain.contract.limits import MINUTES_PER_DAY, WEEKDAYS
from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule.localtimes import offset_at, zone_runs
from policies.domain.schedule.week import runs_of_day

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
ONE_DAY = timedelta(days=1)


# --- Minutes since 1970-01-01 00:00 UTC: every run is a whole minute, and ints are fast -----


def minute_ceil(moment: datetime) -> int:
    whole, rest = divmod(moment - _EPOCH, timedelta(minutes=1))
    return whole + (1 if rest else 0)


def utc_at(minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=minute)


def fixed_at(minute: int, offset: int) -> datetime:
    return utc_at(minute).astimezone(schedule_tz(offset))


def require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@functools.lru_cache(maxsize=128)
def schedule_tz(offset_minutes: int):
    """Return the fixed-offset tzinfo of a stored ``time_zone`` (cached: there are ~40)."""
    return timezone(timedelta(minutes=offset_minutes))


def add_months(day: date, months: int) -> date:
    """Return the first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_length(day: date) -> int:
    return (add_months(day, 1) - day.replace(day=1)).days


class RunCalendar:
    """The run instants of one policy's schedule, as whole minutes since 1970 (UTC)."""

    def __init__(self, spec: PolicySpec) -> None:
        self.offset = spec.offset_minutes
        # Ascending local minutes of the day (the contract's local order).
        self.day_minutes = tuple(run.local_minute for run in runs_of_day(spec))
        self.frequency = spec.frequency
        self.weekdays = frozenset(
            WEEKDAYS.index(day) for day in (spec.week_frequency or ()) if spec.frequency is None
        )
        if self.frequency is not None:
            # Run days per month length (28..31), and per year, for counting without walking.
            self._per_month = {n: -(-n // self.frequency) for n in (28, 29, 30, 31)}

    # -- local days

    def day_of(self, minute: int) -> date:
        """Return the local date (at the stored offset) that contains ``minute``."""
        return date.fromordinal(_EPOCH_ORDINAL + (minute + self.offset) // MINUTES_PER_DAY)

    def midnight(self, day: date) -> int:
        return (day.toordinal() - _EPOCH_ORDINAL) * MINUTES_PER_DAY - self.offset

    def month_start(self, minute: int) -> int:
        return self.midnight(self.day_of(minute).replace(day=1))

    def month_end(self, minute: int) -> int:
        return self.midnight(add_months(self.day_of(minute), 1))

    def month_starts(self, a: int, b: int) -> list[int]:
        """Return the local month starts in ``[a, b)``."""
        starts, day = [], self.day_of(a).replace(day=1)
        while (start := self.midnight(day)) < b:
            if start >= a:
                starts.append(start)
            day = add_months(day, 1)
        return starts

    def local_at(self, minute: int) -> datetime:
        """The local time of an instant: at the stored offset."""
        return fixed_at(minute, self.offset)

    def runs_on(self, day: date) -> bool:
        if self.frequency is not None:
            return (day.day - 1) % self.frequency == 0
        return (day.weekday() + 1) % 7 in self.weekdays  # contract index: SUN = 0

    # -- runs

    def runs(self, a: int, b: int | None = None) -> Iterator[int]:
        """Yield the run instants in ``[a, b)`` in order (without ``b``: for ever)."""
        day = self.day_of(a)
        while True:
            midnight = self.midnight(day)
            if b is not None and midnight >= b:
                return
            if self.runs_on(day):
                for minute in self.day_minutes:
                    moment = midnight + minute
                    if b is not None and moment >= b:
                        return
                    if moment >= a:
                        yield moment
            day += ONE_DAY

    def next_run(self, a: int) -> int:
        """Return the first run at or after ``a`` (every schedule runs at least every 14 days)."""
        return next(self.runs(a))

    def first_run_of_month(self, minute: int) -> int:
        """Return the first run of the local month that contains ``minute``."""
        return self.next_run(self.month_start(minute))

    def _run_days_before(self, day: date) -> int:
        """Return the number of run days before ``day``, counted from 0001-01-01 (for differences)."""
        n = day.toordinal()
        if self.frequency is None:
            weeks, rest = divmod(n - 1, 7)  # ordinal 1 is a Monday
            return weeks * len(self.weekdays) + sum((r + 1) % 7 in self.weekdays for r in range(rest))
        per = self._per_month
        years = day.year - 1
        leaps = years // 4 - years // 100 + years // 400
        normal = sum(per[n] for n in (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))
        total = years * normal + leaps * (per[29] - per[28])
        for month in range(1, day.month):
            total += per[_month_length(date(day.year, month, 1))]
        return total + -(-(day.day - 1) // self.frequency)

    def _count_before(self, minute: int) -> int:
        day = self.day_of(minute)
        total = self._run_days_before(day) * len(self.day_minutes)
        if self.runs_on(day):
            total += bisect.bisect_left(self.day_minutes, minute - self.midnight(day))
        return total

    def count(self, a: int, b: int) -> int:
        """Return the number of runs in ``[a, b)`` without walking through them."""
        return self._count_before(b) - self._count_before(a) if b > a else 0


class ZoneRunCalendar(RunCalendar):
    """The runs of a policy with a named zone: its chosen local times in the zone, through each change.

    Local days (a month's start, the days of the retention table) stay those of the stored
    offset; only the run instants follow the zone (``localtimes.zone_runs``).
    """

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__(spec)
        self.spec = spec

    def local_at(self, minute: int) -> datetime:
        """The local time of an instant: in the zone (the offset stored by then)."""
        moment = utc_at(minute)
        return moment.astimezone(schedule_tz(offset_at(self.spec, moment)))

    def runs(self, a: int, b: int | None = None) -> Iterator[int]:
        for moment in zone_runs(self.spec, start=utc_at(a), ignore_status=True):
            minute = minute_ceil(moment)
            if b is not None and minute >= b:
                return
            yield minute
