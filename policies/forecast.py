"""What a policy will do: its next runs in UTC and local time, and the backups its retention keeps.

Pure Python like :mod:`policies.schedule`: no Django, no clock (callers pass ``start`` / ``now``),
so the API, the dashboard and the tests see the same answers. The decisions below are also in
``docs/api.md`` ("Forecasts").

Runs
  A policy stores a fixed offset (``time_zone``), so its runs are fixed instants in UTC. A weekday
  schedule runs on its local weekdays at its local times (CONTRACT.md 2.2). A schedule of every N
  days runs on days 1, 1+N, 1+2N, ... of each *local* calendar month, as the VBS console does
  (every 3 days: the 1st, 4th, 7th, ...). A named IANA zone only changes what is shown: each run
  is also told in that zone's real local time, and flagged *stale* when the zone's offset at that
  instant differs from the stored one (the run then happens at another local time than chosen).

Retention (a simulation of a policy that starts at ``start`` with no backups)
  - ``rentention_num`` N: after each new backup, only the N newest are kept; older ones are deleted
    at that instant.
  - ``rentention_day`` D: a backup lives exactly D x 24 hours; it is deleted when it turns D days old.
  - ``remain_first_backup_of_curMonth`` Y: the first backup made in a local calendar month is kept
    while that month lasts, *beyond* the rule: it does not count toward N and it does not expire.
    When the month ends (local midnight of the 1st) it is an ordinary backup again and the rule is
    applied to it at once: with N it stays only if it is among the N newest, with D only if it is
    younger than D days.
  - Events at one instant run in this order: the month's end, expiries by age, the new backup,
    the count rule. So a daily policy with D = 7 holds 7 backups, not 8.
  - A policy whose status is OFF makes no runs and no backups.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from . import schedule

MINUTES_PER_DAY = schedule.MINUTES_PER_DAY
MINUTES_PER_WEEK = schedule.MINUTES_PER_WEEK
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_DAY = timedelta(days=1)
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")  # fmt: skip

# Query parameters of the forecast endpoints (docs/api.md).
COUNT_RANGE = (1, 100)
DEFAULT_COUNT = 10
WEEKS_RANGE = (1, 52)
DEFAULT_WEEKS = 8
# Far enough for any real question, and far from the ends of Python's datetime range.
YEAR_RANGE = (1900, 9000)
# How far ahead the dashboard and the API look for a zone's offset changes.
CHANGES_HORIZON_DAYS = 366
STEADY_MONTHS = 12


# --- Minutes since 1970-01-01 00:00 UTC: every run is a whole minute, and ints are fast -----


def _minute_ceil(moment: datetime) -> int:
    whole, rest = divmod(moment - _EPOCH, timedelta(minutes=1))
    return whole + (1 if rest else 0)


def _utc(minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=minute)


def _fixed(minute: int, offset: int) -> datetime:
    return _utc(minute).astimezone(schedule_tz(offset))


@functools.lru_cache(maxsize=128)
def schedule_tz(offset_minutes: int):
    """Return the fixed-offset tzinfo of a stored ``time_zone`` (cached: there are ~40)."""
    return timezone(timedelta(minutes=offset_minutes))


def _add_months(day: date, months: int) -> date:
    """Return the first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_length(day: date) -> int:
    return (_add_months(day, 1) - day.replace(day=1)).days


class _Calendar:
    """The run instants of one policy's schedule, as whole minutes since 1970 (UTC)."""

    def __init__(self, spec: schedule.PolicySpec) -> None:
        self.offset = spec.offset_minutes
        # Ascending local minutes of the day (the contract's local order).
        self.day_minutes = tuple(run.local_minute for run in schedule.runs_of_day(spec))
        self.frequency = spec.frequency
        self.weekdays = frozenset(
            schedule.WEEKDAYS.index(day) for day in (spec.week_frequency or ()) if spec.frequency is None
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
        return self.midnight(_add_months(self.day_of(minute), 1))

    def month_starts(self, a: int, b: int) -> list[int]:
        """Return the local month starts in ``[a, b)``."""
        starts, day = [], self.day_of(a).replace(day=1)
        while (start := self.midnight(day)) < b:
            if start >= a:
                starts.append(start)
            day = _add_months(day, 1)
        return starts

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
            day += _ONE_DAY

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


# --- Next runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextRun:
    """One run: the UTC instant, its local time at the stored offset, and in a named zone."""

    utc: datetime
    local: datetime
    zone_local: datetime | None = None

    @property
    def offset_minutes(self) -> int:
        return _offset_of(self.local)

    @property
    def zone_offset_minutes(self) -> int | None:
        return None if self.zone_local is None else _offset_of(self.zone_local)

    @property
    def stale(self) -> bool:
        """True when the named zone's local time differs from the one chosen (the stored offset)."""
        return self.zone_local is not None and self.zone_offset_minutes != self.offset_minutes

    @property
    def shift_minutes(self) -> int:
        """How much later (positive) the run happens in the named zone than at the stored offset."""
        zone = self.zone_offset_minutes
        return 0 if zone is None else zone - self.offset_minutes

    @property
    def local_words(self) -> str:
        return f"{self.local:%a %d %b %Y %H:%M}"

    # A table of runs: the local date once, then each clock; another day is named (Sun 23:00).
    @property
    def date_words(self) -> str:
        return f"{self.local:%a %d %b %Y}"

    @property
    def time_words(self) -> str:
        return f"{self.local:%H:%M}"

    def _clock(self, moment: datetime) -> str:
        return f"{moment:%H:%M}" if moment.date() == self.local.date() else f"{moment:%a %H:%M}"

    @property
    def zone_time_words(self) -> str:
        return "" if self.zone_local is None else self._clock(self.zone_local)

    @property
    def utc_time_words(self) -> str:
        return self._clock(self.utc)


def _offset_of(moment: datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _run(minute: int, offset: int, zone: ZoneInfo | None) -> NextRun:
    utc = _utc(minute)
    return NextRun(
        utc=utc,
        local=utc.astimezone(schedule_tz(offset)),
        zone_local=utc.astimezone(zone) if zone is not None else None,
    )


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def next_runs(
    spec: schedule.PolicySpec, *, start: datetime, count: int, zone: ZoneInfo | None = None
) -> list[NextRun]:
    """Return the next ``count`` runs at or after ``start`` (none for a policy that is OFF)."""
    _aware(start, "start")
    if not spec.enabled or count <= 0:
        return []
    calendar = _Calendar(spec)
    runs = calendar.runs(_minute_ceil(start))
    return [_run(next(runs), calendar.offset, zone) for _ in range(count)]


def next_run(spec: schedule.PolicySpec, *, start: datetime) -> NextRun | None:
    """Return the first run at or after ``start``, or None for a policy that is OFF."""
    runs = next_runs(spec, start=start, count=1)
    return runs[0] if runs else None


@dataclass(frozen=True)
class LocalTimeChange:
    """A named zone changes its offset: from ``first_run`` on, the runs happen at other local times."""

    zone_name: str
    change: schedule.OffsetChange
    stored_minutes: int
    first_run: NextRun
    day_minutes: tuple[int, ...]  # the chosen local times (at the stored offset)

    @property
    def shift_minutes(self) -> int:
        return self.change.after_minutes - self.stored_minutes

    @property
    def stale(self) -> bool:
        return self.shift_minutes != 0

    @property
    def local_times(self) -> list[str]:
        """The zone's local times of one run day from ``first_run`` on.

        Listed in the order of :attr:`chosen_times`, each under the time it was chosen as, so
        that the sentence pairs them: chosen 23:00 shifted an hour later is 00:00, last.
        """
        return [schedule.format_minutes(minute + self.shift_minutes) for minute in self.day_minutes]

    @property
    def chosen_times(self) -> list[str]:
        return [schedule.format_minutes(minute) for minute in self.day_minutes]

    @property
    def from_date(self) -> date:
        """The zone's local date of the first run affected."""
        assert self.first_run.zone_local is not None
        return self.first_run.zone_local.date()

    @property
    def sentence(self) -> str:
        when = f"{self.change.at.astimezone(ZoneInfo(self.zone_name)):%a %d %b %Y}"
        after = schedule.format_offset(self.change.after_minutes)
        first = f"{self.from_date:%a %d %b %Y}"
        times = ", ".join(self.local_times)
        if not self.stale:
            return (
                f"From {first}, the runs happen at {times} in {self.zone_name} again, as chosen: "
                f"the zone is back at {after} from {when}."
            )
        later = "later" if self.shift_minutes > 0 else "earlier"
        return (
            f"From {first}, the runs happen at {times} in {self.zone_name}, "
            f"{duration_words(abs(self.shift_minutes))} {later} than chosen ({', '.join(self.chosen_times)}): "
            f"the zone moves to {after} on {when}, the policy keeps "
            f"{schedule.format_offset(self.stored_minutes)}."
        )


def local_time_changes(
    spec: schedule.PolicySpec,
    zone: ZoneInfo,
    *,
    start: datetime,
    days: int = CHANGES_HORIZON_DAYS,
    zone_name: str | None = None,
) -> list[LocalTimeChange]:
    """Return each offset change of ``zone`` in the ``days`` after ``start`` with the first run it moves.

    A change followed by another before any run is left out: no run happens at its offset.
    """
    _aware(start, "start")
    if not spec.enabled:
        return []
    calendar = _Calendar(spec)
    changes = schedule.offset_changes(zone, now=start, days=days)
    found = []
    for index, change in enumerate(changes):
        first = calendar.next_run(_minute_ceil(change.at))
        following = changes[index + 1].at if index + 1 < len(changes) else None
        if following is not None and _utc(first) >= following:
            continue
        found.append(
            LocalTimeChange(
                zone_name=zone_name or str(zone.key),
                change=change,
                stored_minutes=calendar.offset,
                first_run=_run(first, calendar.offset, zone),
                day_minutes=calendar.day_minutes,
            )
        )
    return found


# --- Retention --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The retention rule of a spec: exactly one of ``num`` / ``day_minutes``."""

    num: int | None
    day_minutes: int | None
    keep_first: bool

    @classmethod
    def of(cls, spec: schedule.PolicySpec) -> Rule:
        day = spec.retention_day * MINUTES_PER_DAY if spec.retention_num is None else None
        return cls(spec.retention_num, day, spec.keep_first_of_month)


def rule_words(spec: schedule.PolicySpec) -> str:
    """Say the retention rule in plain words."""
    if spec.retention_num is not None:
        words = f"keeps the {spec.retention_num} newest backups"
    else:
        words = f"deletes each backup when it is {spec.retention_day} days old"
    if spec.keep_first_of_month:
        words += "; also keeps the first backup of each month until the month ends"
    return words


@dataclass
class _Item:
    number: int
    created: int
    first_of_month: bool
    protected: bool = False
    deleted: int | None = None
    reason: str = ""
    by: int | None = None  # the backup whose creation pushed this one out (count rule)
    released: int | None = None  # when its month ended, if it was protected


def _simulate(calendar: _Calendar, rule: Rule, t0: int, t1: int) -> list[_Item]:
    """Play the policy from ``t0`` (no backups yet) to ``t1``; return every backup made."""
    runs = list(calendar.runs(t0, t1))
    months = calendar.month_starts(t0 + 1, t1) if rule.keep_first else []
    run_set, month_set = set(runs), set(months)
    fixed = sorted(run_set | month_set)
    items: list[_Item] = []
    pool: list[_Item] = []  # alive and not protected, oldest first
    protected: _Item | None = None
    last_month: date | None = None
    index = 0
    while True:
        moments = [fixed[index]] if index < len(fixed) else []
        if rule.day_minutes is not None and pool:
            moments.append(pool[0].created + rule.day_minutes)
        if not moments or min(moments) >= t1:
            break
        moment = min(moments)
        released = None
        if moment in month_set and protected is not None:
            # The month ended: its first backup is an ordinary one again, in creation order.
            released, protected = protected, None
            released.released = moment
            bisect.insort(pool, released, key=lambda item: item.created)
        if rule.day_minutes is not None:
            while pool and pool[0].created + rule.day_minutes <= moment:
                gone = pool.pop(0)
                gone.deleted, gone.reason = moment, "month_end" if gone is released else "age"
        new = None
        if moment in run_set:
            month = calendar.day_of(moment).replace(day=1)
            new = _Item(len(items) + 1, moment, first_of_month=month != last_month)
            last_month = month
            items.append(new)
            if rule.keep_first and new.first_of_month:
                new.protected, protected = True, new
            else:
                pool.append(new)
        if rule.num is not None:
            while len(pool) > rule.num:
                gone = pool.pop(0)
                gone.deleted, gone.reason = moment, "month_end" if gone is released else "count"
                gone.by = new.number if new is not None else None
        if index < len(fixed) and fixed[index] == moment:
            index += 1
    for item in items:
        if item.deleted is None:
            item.reason = (
                "first_of_month" if item is protected else ("newest" if rule.num is not None else "young")
            )
    return items


@dataclass(frozen=True)
class Backup:
    """One backup of the simulation: when it is made, when it is deleted (None: kept), and why."""

    number: int
    created_at: datetime
    local_created: datetime
    first_of_month: bool
    deleted_at: datetime | None
    local_deleted: datetime | None
    reason: str
    explanation: str

    @property
    def kept(self) -> bool:
        return self.deleted_at is None

    @property
    def mark_css(self) -> str:
        """The picture's classes: solid when kept, hollow when deleted, round for a month's first."""
        return f"mark {'kept' if self.kept else 'deleted'}{' first' if self.first_of_month else ''}"

    # Words at the stored offset (a template's date filter would move them to the server's zone).
    @property
    def created_words(self) -> str:
        return f"{self.local_created:%a %d %b %H:%M}"

    @property
    def time_words(self) -> str:
        return f"{self.local_created:%H:%M}"

    @property
    def deleted_words(self) -> str:
        return "" if self.local_deleted is None else f"{self.local_deleted:%a %d %b}"


@dataclass(frozen=True)
class RetentionDay:
    """One local day of the simulated span: the backups made and deleted, and how many exist at its end."""

    day: date
    created: tuple[Backup, ...]
    deleted: tuple[int, ...]
    exist: int

    @property
    def first_of_month(self) -> bool:
        return any(backup.first_of_month for backup in self.created)


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

    @property
    def oldest_words(self) -> str:
        if self.oldest_min_minutes is None or self.oldest_max_minutes is None:
            return "no backup exists"
        low, high = duration_words(self.oldest_min_minutes), duration_words(self.oldest_max_minutes)
        return low if low == high else f"between {low} and {high}"

    @property
    def gap_words(self) -> str:
        return duration_words(self.longest_gap_minutes)


@dataclass(frozen=True)
class RetentionForecast:
    """The backups a policy makes and keeps over ``weeks`` weeks from ``start`` (local midnight)."""

    spec: schedule.PolicySpec
    start: date
    weeks: int
    window_from: datetime
    window_until: datetime
    backups: tuple[Backup, ...]
    days: tuple[RetentionDay, ...]
    steady: SteadyState | None
    rule: str
    note: str = ""

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def kept(self) -> list[Backup]:
        return [backup for backup in self.backups if backup.kept]

    @property
    def deleted(self) -> list[Backup]:
        return [backup for backup in self.backups if not backup.kept]

    @property
    def oldest_kept(self) -> Backup | None:
        kept = self.kept
        return kept[0] if kept else None

    @property
    def event_days(self) -> list[RetentionDay]:
        """The days on which a backup is made or deleted (the others change nothing)."""
        return [day for day in self.days if day.created or day.deleted]

    @property
    def summary(self) -> str:
        """The picture in one paragraph, for people who do not see it."""
        if not self.enabled:
            return self.note
        span = f"{self.weeks} week{'s' if self.weeks != 1 else ''} from {self.start:%a %d %b %Y}"
        made = len(self.backups)
        text = (
            f"Over {span} the policy makes {made} backup{'s' if made != 1 else ''}; "
            f"{len(self.deleted)} of them {'is' if len(self.deleted) == 1 else 'are'} deleted within the "
            f"span and {len(self.kept)} exist{'s' if len(self.kept) == 1 else ''} at its end."
        )
        oldest = self.oldest_kept
        if oldest is not None:
            text += f" The oldest backup at the end was made on {oldest.local_created:%a %d %b %Y %H:%M}."
        firsts = [backup for backup in self.backups if backup.first_of_month]
        if firsts and self.spec.keep_first_of_month:
            text += f" {len(firsts)} first-of-the-month backup{'s are' if len(firsts) != 1 else ' is'} kept while the month lasts."
        return text

    def calendar(self) -> list[list[CalendarCell]]:
        """Return the span as weeks (Sunday first) of day cells, for the picture."""
        by_day = {day.day: day for day in self.days}
        first = self.start - timedelta(days=(self.start.weekday() + 1) % 7)
        last = self.start + timedelta(days=self.weeks * 7 - 1)
        weeks, day = [], first
        while day <= last:
            week = []
            for _ in range(7):
                # The month is named on its 1st and in the first cell, where the eye starts.
                week.append(CalendarCell(day, by_day.get(day), name_month=day.day == 1 or day == first))
                day += _ONE_DAY
            weeks.append(week)
        return weeks


@dataclass(frozen=True)
class CalendarCell:
    day: date
    record: RetentionDay | None  # None: outside the simulated span
    name_month: bool = False

    MARKS = 4  # more backups in one day are summed up as "+n"

    @property
    def in_span(self) -> bool:
        return self.record is not None

    @property
    def css(self) -> str:
        outside = "" if self.record is not None else " outside"
        return f"cal-day{outside}{' month-start' if self.day.day == 1 else ''}"

    @property
    def label(self) -> str:
        return f"{self.day.day} {self.day:%b}" if self.name_month else str(self.day.day)

    @property
    def marks(self) -> tuple[Backup, ...]:
        return self.record.created[: self.MARKS] if self.record else ()

    @property
    def more(self) -> int:
        return max(0, len(self.record.created) - self.MARKS) if self.record else 0


def duration_words(minutes: int) -> str:
    """Return ``7 days``, ``16 days 12 hours``, ``1 hour 30 minutes``."""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) if parts else "0 minutes"


def _explain(item: _Item, spec: schedule.PolicySpec, calendar: _Calendar) -> str:
    month = _MONTH_NAMES[calendar.day_of(item.created).month - 1]
    if item.reason == "count":
        return (
            f"deleted when backup {item.by} was made: only the {spec.retention_num} newest are kept"
            if item.by is not None
            else f"deleted: only the {spec.retention_num} newest are kept"
        )
    if item.reason == "age":
        return f"deleted when {spec.retention_day} days old"
    if item.reason == "month_end":
        rule = (
            f"not among the {spec.retention_num} newest"
            if spec.retention_num is not None
            else f"older than {spec.retention_day} days"
        )
        return f"first backup of {month}: kept until the month ended, then deleted ({rule})"
    if item.reason == "first_of_month":
        return f"kept: first backup of {month}, kept while the month lasts"
    extra = f" (first backup of {month}, kept through its month)" if item.protected else ""
    if item.reason == "newest":
        return f"kept: one of the {spec.retention_num} newest at the end of the span{extra}"
    return f"kept: younger than {spec.retention_day} days at the end of the span{extra}"


OFF_NOTE = "The policy is OFF: it makes no runs and creates no backups until its status is ON."


def simulate_retention(
    spec: schedule.PolicySpec, *, start: date, weeks: int = DEFAULT_WEEKS, not_before: datetime | None = None
) -> RetentionForecast:
    """Simulate the backups a policy makes from local midnight of ``start`` over ``weeks`` weeks.

    ``not_before``: the policy makes its first backup at or after this instant (the dashboard
    passes ``now``, so a run earlier today is not drawn); the days still start at ``start``.
    """
    calendar = _Calendar(spec)
    t0 = calendar.midnight(start)
    t1 = t0 + weeks * MINUTES_PER_WEEK
    first = t0 if not_before is None else max(t0, _minute_ceil(not_before))
    common = {
        "spec": spec,
        "start": start,
        "weeks": weeks,
        "window_from": _utc(t0),
        "window_until": _utc(t1),
        "rule": rule_words(spec),
    }
    if not spec.enabled:
        return RetentionForecast(backups=(), days=(), steady=None, note=OFF_NOTE, **common)
    items = _simulate(calendar, Rule.of(spec), first, t1)
    offset = calendar.offset
    backups = tuple(
        Backup(
            number=item.number,
            created_at=_utc(item.created),
            local_created=_fixed(item.created, offset),
            first_of_month=item.first_of_month,
            deleted_at=None if item.deleted is None else _utc(item.deleted),
            local_deleted=None if item.deleted is None else _fixed(item.deleted, offset),
            reason=item.reason,
            explanation=_explain(item, spec, calendar),
        )
        for item in items
    )
    return RetentionForecast(
        backups=backups,
        days=_days(calendar, items, backups, start, weeks),
        steady=steady_state(spec, start=start),
        **common,
    )


def _days(
    calendar: _Calendar, items: list[_Item], backups: tuple[Backup, ...], start: date, weeks: int
) -> tuple[RetentionDay, ...]:
    created: dict[date, list[Backup]] = {}
    deleted: dict[date, list[int]] = {}
    for item, backup in zip(items, backups, strict=True):
        created.setdefault(calendar.day_of(item.created), []).append(backup)
        if item.deleted is not None:
            deleted.setdefault(calendar.day_of(item.deleted), []).append(item.number)
    days, exist = [], 0
    for offset in range(weeks * 7):
        day = start + timedelta(days=offset)
        made, gone = created.get(day, []), deleted.get(day, [])
        # Exists at the day's end: made before the next midnight and not deleted before it.
        exist += len(made) - len(gone)
        days.append(RetentionDay(day, tuple(made), tuple(sorted(gone)), exist))
    return tuple(days)


# --- The steady state -------------------------------------------------------------------------


def steady_state(spec: schedule.PolicySpec, *, start: date) -> SteadyState | None:
    """Return the long-run figures, measured from the first local month start on or after ``start``."""
    if not spec.enabled:
        return None
    # The figures depend on the schedule and the rule only: typing a name re-asks for the same.
    return _steady_state(replace(spec, name="", tags=()), start)


@functools.lru_cache(maxsize=256)
def _steady_state(spec: schedule.PolicySpec, start: date) -> SteadyState:
    calendar, rule = _Calendar(spec), Rule.of(spec)
    first = start if start.day == 1 else _add_months(start, 1)
    m0 = calendar.midnight(first)
    periodic = calendar.frequency is None and not rule.keep_first
    m1 = m0 + MINUTES_PER_WEEK if periodic else calendar.midnight(_add_months(first, STEADY_MONTHS))
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
        measured_from=_utc(m0),
        measured_until=_utc(m1),
        max_backups=max_backups,
        min_backups=min_backups,
        oldest_min_minutes=min(ages_after) if ages_after else None,
        oldest_max_minutes=max(ages_before) if ages_before else None,
        longest_gap_minutes=gap,
        longest_gap_from=_utc(at),
        longest_gap_until=_utc(at + gap),
    )


class _Protected:
    """The current month's first backup, when keep-first is on, for instants in ``[a, b]``."""

    def __init__(self, calendar: _Calendar, rule: Rule, a: int, b: int) -> None:
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


def _alive_by_count(calendar: _Calendar, rule: Rule, m0: int, m1: int):
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


def _alive_by_age(calendar: _Calendar, rule: Rule, m0: int, m1: int):
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


# --- The dashboard's answer ---------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyForecast:
    """Everything the dashboard shows about a policy's future, computed once per preview."""

    spec: schedule.PolicySpec
    now: datetime
    zone_name: str | None
    runs: list[NextRun]
    changes: list[LocalTimeChange]
    retention: RetentionForecast
    count: int = 6

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def key(self) -> str:
        """A digest of everything shown, ``now`` aside: two forecasts with one key read the same.

        The dashboard's live preview sends back the key of the forecast on the screen and gets
        no new one while the key stays (a name or a tag changed, the clock moved within an hour).
        Every part is a frozen dataclass of values, whose repr is stable.
        """
        shown = (self.spec, self.zone_name, self.count, self.runs, self.changes, self.retention)
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def policy_forecast(
    spec: schedule.PolicySpec,
    *,
    now: datetime,
    zone_name: str | None = None,
    count: int = 6,
    weeks: int = DEFAULT_WEEKS,
) -> PolicyForecast:
    """Return the next runs, the zone's local-time changes and the retention picture from ``now``."""
    _aware(now, "now")
    zone = ZoneInfo(zone_name) if zone_name else None
    local_today = now.astimezone(schedule_tz(spec.offset_minutes)).date()
    return PolicyForecast(
        spec=spec,
        now=now,
        zone_name=zone_name,
        runs=next_runs(spec, start=now, count=count, zone=zone),
        changes=local_time_changes(spec, zone, start=now, zone_name=zone_name) if zone else [],
        retention=simulate_retention(spec, start=local_today, weeks=weeks, not_before=now),
        count=count,
    )


# --- Query parameters of the forecast endpoints -------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,6}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ZONE_CHARS = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_SPACED_OFFSET = re.compile(r" [0-9]{2}:[0-9]{2}$")
# RFC 3339 (what OpenAPI's date-time means): Python's fromisoformat alone would also take a space
# for the T, no seconds, or the basic format 20260330T000000Z.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class NextRunsQuery:
    count: int
    start: datetime
    zone: ZoneInfo | None
    zone_name: str | None


@dataclass(frozen=True)
class RetentionQuery:
    start: date
    weeks: int


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # Walks the tz database once; it does not change while the process runs.
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _show(text: str, limit: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _problem(name: str, message: str) -> schedule.Problem:
    return schedule.Problem(name, schedule.QUERY_PARAM, f"{name}: {message}")


def _single(params: Mapping[str, Sequence[str]], known: tuple[str, ...]) -> tuple[dict[str, str], list]:
    values, problems = {}, []
    for name, given in params.items():
        if name not in known:
            match = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f"did you mean '{match[0]}'? " if match else ""
            problems.append(
                _problem(name, f"is not a query parameter here; {hint}known ones are {', '.join(known)}")
            )
        elif len(given) != 1:
            problems.append(_problem(name, f"is given {len(given)} times; give it once"))
        else:
            values[name] = given[0]
    return values, problems


def _whole(
    values: dict[str, str], name: str, bounds: tuple[int, int], default: int, problems: list
) -> int | None:
    text = values.get(name)
    if text is None:
        return default
    low, high = bounds
    if not _DIGITS.fullmatch(text):
        problems.append(_problem(name, f"{_show(text)} is not a whole number; use {low} to {high}"))
        return None
    if not low <= int(text) <= high:
        problems.append(_problem(name, f"{int(text)} is out of range; use {low} to {high}"))
        return None
    return int(text)


def _in_years(moment: date) -> bool:
    return YEAR_RANGE[0] <= moment.year <= YEAR_RANGE[1]


def parse_next_runs_query(
    params: Mapping[str, Sequence[str]], *, now: datetime
) -> tuple[NextRunsQuery | None, tuple[schedule.Problem, ...]]:
    """Read ``count``, ``from`` and ``zone``; return the query or every problem (code 0013)."""
    values, problems = _single(params, ("count", "from", "zone"))
    count = _whole(values, "count", COUNT_RANGE, DEFAULT_COUNT, problems)
    start = now
    if "from" in values:
        start = _instant(values["from"], problems)
    zone = zone_name = None
    if "zone" in values:
        zone_name = values["zone"]
        zone = _zone(zone_name, problems)
    if problems or count is None or start is None:
        return None, tuple(problems)
    return NextRunsQuery(count, start, zone, zone_name), ()


def _instant(text: str, problems: list) -> datetime | None:
    example = "use an ISO-8601 instant such as 2026-03-30T00:00:00Z"
    if not _INSTANT.fullmatch(text) and _INSTANT.fullmatch(text + "Z"):
        problems.append(
            _problem("from", f"{_show(text)} has no UTC offset; add 'Z' or one like '+01:00' ({example})")
        )
        return None
    try:
        if not _INSTANT.fullmatch(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        hint = " (a '+' in a URL reads as a space: write it as %2B)" if _SPACED_OFFSET.search(text) else ""
        problems.append(_problem("from", f"{_show(text)} is not an instant; {example}{hint}"))
        return None
    if moment.tzinfo is None:
        problems.append(
            _problem("from", f"{_show(text)} has no UTC offset; add 'Z' or one like '+01:00' ({example})")
        )
        return None
    if not _in_years(moment):
        problems.append(
            _problem("from", f"{_show(text)} is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
        )
        return None
    return moment.astimezone(UTC)


def _zone(name: str, problems: list) -> ZoneInfo | None:
    names = _zone_names()
    if _ZONE_CHARS.fullmatch(name) and name in names:
        return ZoneInfo(name)
    folded = {known.lower(): known for known in names}
    match = folded.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.8)), None
    )
    hint = f"; did you mean '{match}'?" if match else ""
    problems.append(
        _problem("zone", f"{_show(name)} is not an IANA time zone name such as 'Europe/Berlin'{hint}")
    )
    return None


def parse_retention_query(
    params: Mapping[str, Sequence[str]], *, today: date
) -> tuple[RetentionQuery | None, tuple[schedule.Problem, ...]]:
    """Read ``start`` and ``weeks``; return the query or every problem (code 0013)."""
    values, problems = _single(params, ("start", "weeks"))
    weeks = _whole(values, "weeks", WEEKS_RANGE, DEFAULT_WEEKS, problems)
    start: date | None = today
    if "start" in values:
        text = values["start"]
        try:
            start = date.fromisoformat(text) if _DATE.fullmatch(text) else None
        except ValueError:
            start = None
        if start is None:
            problems.append(
                _problem("start", f"{_show(text)} is not a date; use YYYY-MM-DD such as 2026-03-02")
            )
        elif not _in_years(start):
            problems.append(
                _problem("start", f"{text} is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
            )
            start = None
    if problems or weeks is None or start is None:
        return None, tuple(problems)
    return RetentionQuery(start, weeks), ()
