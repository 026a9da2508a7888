"""The run geometry of a policy: its runs within one run day, and a weekday schedule's week in UTC."""

from __future__ import annotations

from dataclasses import dataclass

from policies.domain.contract.limits import MINUTES_PER_DAY, MINUTES_PER_WEEK, WEEKDAYS
from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule.offsets import local_minute, utc_day_shift


@dataclass(frozen=True)
class Run:
    """One run of a policy within its week (weekday schedules) or its day (every N days).

    Weekdays are indexes into :data:`WEEKDAYS` (0 = Sunday); they are ``None`` for a schedule of
    every N days, whose runs have no weekday. ``utc_day_shift`` is -1 when the run falls on the
    UTC day before its local day, +1 after.
    """

    local_minute: int
    utc_minute: int
    utc_day_shift: int
    local_weekday: int | None = None
    utc_weekday: int | None = None


def runs_of_day(spec: PolicySpec) -> list[Run]:
    """Return the runs of one run day, in local order, with their UTC times."""
    offset = spec.offset_minutes
    return [
        Run(
            local_minute=local_minute(hour, offset),
            utc_minute=hour * 60,
            utc_day_shift=utc_day_shift(hour, offset),
        )
        for hour in spec.start_hours
    ]


def utc_week(spec: PolicySpec) -> list[Run]:
    """Return every run of a weekday schedule's week, local day by local day, with its UTC day.

    For ``week_frequency: ["MON"]``, ``start_time: "22:00,00:00,02:00"`` at ``UTC+02:00`` this is
    Mon 00:00 local = Sun 22:00 UTC, Mon 02:00 = Mon 00:00 UTC, Mon 04:00 = Mon 02:00 UTC.
    A schedule of every N days has no week: the result is empty.
    """
    if spec.week_frequency is None:
        return []
    runs = []
    for day in spec.week_frequency:
        weekday = WEEKDAYS.index(day)
        for run in runs_of_day(spec):
            utc_in_week = weekday * MINUTES_PER_DAY + run.local_minute - spec.offset_minutes
            utc_weekday, utc_minute = divmod(utc_in_week % MINUTES_PER_WEEK, MINUTES_PER_DAY)
            runs.append(
                Run(
                    local_minute=run.local_minute,
                    utc_minute=utc_minute,
                    utc_day_shift=run.utc_day_shift,
                    local_weekday=weekday,
                    utc_weekday=utc_weekday,
                )
            )
    return runs
