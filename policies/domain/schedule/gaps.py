"""The longest time a policy leaves between two of its runs: what a volume's last backup may age to."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule.timeline import RunCalendar, ZoneRunCalendar, minute_ceil, require_aware

# A year, and a day more: every month length, both daylight-saving changes of any zone.
MEASURED_DAYS = 367


def longest_gap(spec: PolicySpec, *, now: datetime) -> timedelta:
    """Return the longest time between two consecutive runs in the year from ``now``'s UTC month.

    A named zone's runs follow its local times through each offset change, so the gap across a
    fall-back change is an hour longer (and the one across a spring-forward change shorter) than
    the stored offset's: the year measured holds both changes.
    """
    require_aware(now, "now")
    month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # The gap depends on the schedule only: the name, tags, status and retention ask the same.
    schedule = replace(spec, name="", tags=(), status="ON", retention_num=None, retention_day=None)
    return timedelta(minutes=_longest_gap_minutes(schedule, month))


@functools.lru_cache(maxsize=512)
def _longest_gap_minutes(spec: PolicySpec, month: datetime) -> int:
    calendar = ZoneRunCalendar(spec) if spec.time_zone_name else RunCalendar(spec)
    start = minute_ceil(month)
    runs = list(calendar.runs(start, start + MEASURED_DAYS * 24 * 60))
    runs.append(calendar.next_run(runs[-1] + 1))
    return max(later - earlier for earlier, later in zip(runs, runs[1:], strict=False))
