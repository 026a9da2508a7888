"""Every English phrase of the core's maths: durations, day shifts, schedules, retention rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .contract import MINUTES_PER_DAY, WEEKDAYS
from .offsets import Run, format_minutes, runs_of_day, utc_week

if TYPE_CHECKING:
    from .retention import SimulatedBackup
    from .specs import PolicySpec
    from .timeline import RunCalendar

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")  # fmt: skip

WEEKDAY_NAMES: tuple[str, ...] = (
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
)

# How a run's UTC day relates to its local day (see utc_day_shift), in words.
DAY_SHIFT_WORDS = {-1: "day before", 0: "same day", 1: "day after"}


def every_n_days(frequency: int) -> str:
    """Return ``every day`` or ``every N days``."""
    return "every day" if frequency == 1 else f"every {frequency} days"


def _label(weekday: int | None, minute: int) -> str:
    time = format_minutes(minute)
    return f"{WEEKDAY_NAMES[weekday][:3]} {time}" if weekday is not None else time


def local_label(run: Run) -> str:
    """Return ``Mon 02:00`` (a weekday schedule) or ``02:00``: the run's local time."""
    return _label(run.local_weekday, run.local_minute)


def utc_label(run: Run) -> str:
    """Return ``Sun 22:00`` (a weekday schedule) or ``22:00``: the run's UTC time."""
    return _label(run.utc_weekday, run.utc_minute)


def _join_words(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def schedule_in_words(spec: PolicySpec) -> tuple[str, str]:
    """Return the schedule in plain words: (in local time, in UTC)."""
    zone = spec.time_zone or "UTC"
    if spec.time_zone_name is not None:
        zone = f"{spec.time_zone_name}, now {zone}"
    runs = runs_of_day(spec)
    local_times = ", ".join(format_minutes(run.local_minute) for run in runs)
    if spec.week_frequency is not None:
        days = _join_words([WEEKDAY_NAMES[WEEKDAYS.index(day)] for day in spec.week_frequency])
        local = f"{days} at {local_times} ({zone})"
        utc = ", ".join(utc_label(run) for run in utc_week(spec)) + " UTC"
        return local, utc
    every = every_n_days(spec.frequency or 1)
    local = f"{every.capitalize()} at {local_times} ({zone})"
    utc_times = ", ".join(
        format_minutes(run.utc_minute)
        + (f" ({DAY_SHIFT_WORDS[run.utc_day_shift]})" if run.utc_day_shift else "")
        for run in runs
    )
    return local, f"{every} at {utc_times} UTC"


def rule_words(spec: PolicySpec) -> str:
    """Say the retention rule in plain words."""
    if spec.retention_num is not None:
        words = f"keeps the {spec.retention_num} newest backups"
    else:
        words = f"deletes each backup when it is {spec.retention_day} days old"
    if spec.keep_first_of_month:
        words += "; also keeps the first backup of each month until the month ends"
    return words


def duration_words(minutes: int) -> str:
    """Return ``7 days``, ``16 days 12 hours``, ``1 hour 30 minutes``."""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) if parts else "0 minutes"


def explain(item: SimulatedBackup, spec: PolicySpec, calendar: RunCalendar) -> str:
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
