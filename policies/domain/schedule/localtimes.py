"""A policy with a named zone keeps its local times: its runs, its re-bases, its stale offset.

A policy that stores ``time_zone_name`` runs at the local times it was written with (its UTC
hours read at its stored offset), on its local days, in that zone's real local time:

- a local time that does not exist (the hour skipped by a spring-forward change) runs at the
  first instant after the gap at which a policy can run: runs are full UTC hours, so in Berlin
  that is the end of the gap itself (03:00, 01:00 UTC); in St John's, where the gap ends at
  05:30 UTC, it is 06:00 UTC;
- a local time that happens twice (the hour repeated by a fall-back change) runs once, at its
  first occurrence.

The stored ``time_zone`` and ``start_time`` are kept true by the re-base: the stored offset is
the zone's offset at the policy's next run. When a change of the zone's offset comes between two
runs, the first scheduler tick after the last run at the old offset re-bases the policy (new
offset, the same local times as other UTC hours), before the first run at the new offset. Local
weekdays and the days of the month are local, so they never move.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from policies.domain.contract.limits import MINUTES_PER_DAY, WEEKDAYS
from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule.offsets import format_offset, local_minute
from policies.domain.schedule.zones import zone_offset_minutes

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
ONE_DAY = timedelta(days=1)
# How far ahead a zone's offsets are checked when a policy is written with it.
WRITE_HORIZON_DAYS = 366
# How far ahead the dashboard's list warns of a re-base.
WARN_DAYS = 30


@lru_cache(maxsize=1)
def iana_zone_names() -> frozenset[str]:
    """Every zone name of the tz database the server runs on (read once: it does not change)."""
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_offsets_ahead(name: str, *, now: datetime, days: int = WRITE_HORIZON_DAYS) -> list[int]:
    """Return the zone's offset at ``now``, then each other offset it takes in the ``days`` after."""
    first = zone_offset_minutes(zone(name), now)
    return [first, *(offset for offset in _offsets_from(name, now.date(), days) if offset != first)]


@lru_cache(maxsize=4096)
def _offsets_from(name: str, day: date, days: int) -> tuple[int, ...]:
    # Day by day at noon UTC: which offsets are taken, not when (no zone changes twice in a day).
    tz, found = zone(name), []
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    for n in range(days + 1):
        offset = zone_offset_minutes(tz, noon + n * ONE_DAY)
        if offset not in found:
            found.append(offset)
    return tuple(found)


def chosen_local_minutes(spec: PolicySpec) -> tuple[int, ...]:
    """The local minutes of the day the policy was written for (its UTC hours at its offset)."""
    offset = spec.offset_minutes
    return tuple(local_minute(hour, offset) for hour in spec.start_hours)


def _runs_on(spec: PolicySpec, day: date) -> bool:
    if spec.frequency is not None:
        return (day.day - 1) % spec.frequency == 0
    return WEEKDAYS[(day.weekday() + 1) % 7] in (spec.week_frequency or ())


def resolve_local(tz: ZoneInfo, day: date, minute: int) -> datetime:
    """Return the UTC instant a run chosen at local ``minute`` of ``day`` happens in zone ``tz``.

    A time in a gap runs at the first full UTC hour whose local time is past it (the first
    instant after the gap); a repeated time runs at its first occurrence (``fold=0``).
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    utc = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the first occurrence
    exists = utc.astimezone(tz).replace(tzinfo=None) == wall
    if exists and utc.minute == 0 and utc.second == 0:
        return utc
    # A gap (or an offset that is no longer a whole number of hours from the stored one): the
    # first full UTC hour whose local time is at or after the chosen one.
    moment = utc.replace(minute=0, second=0, microsecond=0) - 3 * HOUR
    while moment.astimezone(tz).replace(tzinfo=None) < wall:
        moment += HOUR
    return moment


def zone_runs(spec: PolicySpec, *, start: datetime, ignore_status: bool = False) -> Iterator[datetime]:
    """Yield the runs at or after ``start`` of a policy with a named zone, in order, for ever."""
    if spec.time_zone_name is None:
        raise ValueError("zone_runs needs a policy with time_zone_name")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not (spec.enabled or ignore_status):
        return
    tz = zone(spec.time_zone_name)
    minutes = chosen_local_minutes(spec)
    start_wall = start.astimezone(tz).replace(tzinfo=None)
    # A gap run may be pushed into the next day, so the day before is looked at; its times well
    # before ``start`` (no change moves a clock by more than 4 hours) are not resolved at all.
    earliest = start_wall - 4 * HOUR
    day = start_wall.date() - ONE_DAY
    last = None
    while True:
        if _runs_on(spec, day):
            skip_below = (earliest - datetime.combine(day, time())) // MINUTE
            for minute in minutes:
                if minute < skip_below:
                    continue
                moment = resolve_local(tz, day, minute)
                if moment >= start and moment != last:
                    last = moment
                    yield moment
        day += ONE_DAY


def offset_at(spec: PolicySpec, moment: datetime) -> int:
    """The zone's offset at ``moment``: the offset a policy stores while ``moment`` is its next run."""
    assert spec.time_zone_name is not None
    return zone_offset_minutes(zone(spec.time_zone_name), moment)


def rebased_to(spec: PolicySpec, offset: int) -> PolicySpec | None:
    """Return the policy stored at ``offset`` with the same local times (None: it cannot be)."""
    if (offset - spec.offset_minutes) % 60:
        return None  # a change by a part of an hour: full UTC hours cannot keep the local times
    hours = tuple(((minute - offset) % MINUTES_PER_DAY) // 60 for minute in chosen_local_minutes(spec))
    return replace(spec, time_zone=format_offset(offset), start_hours=hours)


def rebase(spec: PolicySpec, *, now: datetime) -> PolicySpec | None:
    """Return the re-based policy when its stored offset is not its zone's at its next run, else None.

    Idempotent: a re-based policy answers None. OFF policies are re-based too (their schedule
    is what they will run when switched on).
    """
    if spec.time_zone_name is None:
        return None
    following = next(zone_runs(spec, start=now, ignore_status=True))
    target = offset_at(spec, following)
    if target == spec.offset_minutes:
        return None
    return rebased_to(spec, target)


@dataclass(frozen=True)
class PlannedRebase:
    """A re-base to come: after the run ``after`` (None: the next tick), before the run ``before``."""

    after: datetime | None
    before: datetime
    spec_before: PolicySpec
    spec_after: PolicySpec

    @property
    def time_zone(self) -> str:
        return self.spec_after.time_zone or ""

    @property
    def start_time(self) -> str:
        return self.spec_after.start_time


def planned_rebases(spec: PolicySpec, *, start: datetime, until: datetime) -> list[PlannedRebase]:
    """Return the re-bases the scheduler will make between ``start`` and ``until``, in order."""
    if spec.time_zone_name is None:
        return []
    found: list[PlannedRebase] = []
    current, previous = spec, None
    for moment in zone_runs(spec, start=start, ignore_status=True):
        if moment >= until:
            break
        target = offset_at(spec, moment)
        if target != current.offset_minutes:
            after = rebased_to(current, target)
            if after is None:
                break
            found.append(PlannedRebase(previous, moment, current, after))
            current = after
        previous = moment
    return found


def stale_offset(spec: PolicySpec, *, now: datetime) -> bool:
    """True when a named-zone policy's stored offset is not its zone's at its next run."""
    return spec.time_zone_name is not None and rebase(spec, now=now) is not None


def runs_moving_within(spec: PolicySpec, *, now: datetime, days: int = WARN_DAYS) -> PlannedRebase | None:
    """The first re-base of the next ``days`` (its UTC times move; its local times stay)."""
    plans = planned_rebases(spec, start=now, until=now + timedelta(days=days))
    return plans[0] if plans else None
