"""Next runs in UTC, local time and a named zone, and the runs a zone's offset change moves."""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule import localtimes
from policies.domain.schedule.instants import NextRun
from policies.domain.schedule.timeline import RunCalendar, minute_ceil, require_aware, schedule_tz, utc_at
from policies.domain.schedule.zones import LocalTimeChange, offset_changes

# How far ahead the dashboard and the API look for a zone's offset changes.
CHANGES_HORIZON_DAYS = 366


# --- Next runs --------------------------------------------------------------------------------


def _run(minute: int, offset: int, zone: ZoneInfo | None) -> NextRun:
    utc = utc_at(minute)
    return NextRun(
        utc=utc,
        local=utc.astimezone(schedule_tz(offset)),
        zone_local=utc.astimezone(zone) if zone is not None else None,
    )


def next_runs(
    spec: PolicySpec, *, start: datetime, count: int, zone: ZoneInfo | None = None
) -> list[NextRun]:
    """Return the next ``count`` runs at or after ``start`` (none for a policy that is OFF)."""
    require_aware(start, "start")
    if not spec.enabled or count <= 0:
        return []
    if spec.time_zone_name is not None:
        # A named zone keeps its local times: the runs are the zone's, each told at the offset
        # stored by then (the re-base comes between the runs either side of a change).
        return [
            NextRun(
                utc=moment,
                local=moment.astimezone(schedule_tz(localtimes.offset_at(spec, moment))),
                zone_local=moment.astimezone(zone) if zone is not None else None,
            )
            for moment in islice(localtimes.zone_runs(spec, start=start), count)
        ]
    calendar = RunCalendar(spec)
    runs = calendar.runs(minute_ceil(start))
    return [_run(next(runs), calendar.offset, zone) for _ in range(count)]


def next_run(spec: PolicySpec, *, start: datetime) -> NextRun | None:
    """Return the first run at or after ``start``, or None for a policy that is OFF."""
    runs = next_runs(spec, start=start, count=1)
    return runs[0] if runs else None


def local_time_changes(
    spec: PolicySpec,
    zone: ZoneInfo,
    *,
    start: datetime,
    days: int = CHANGES_HORIZON_DAYS,
    zone_name: str | None = None,
) -> list[LocalTimeChange]:
    """Return each offset change of ``zone`` in the ``days`` after ``start`` with the first run it moves.

    A change followed by another before any run is left out: no run happens at its offset.
    """
    require_aware(start, "start")
    if not spec.enabled:
        return []
    if spec.time_zone_name is not None:
        return _rebase_changes(spec, zone, start=start, days=days, zone_name=zone_name)
    calendar = RunCalendar(spec)
    changes = offset_changes(zone, now=start, days=days)
    found = []
    for index, change in enumerate(changes):
        first = calendar.next_run(minute_ceil(change.at))
        following = changes[index + 1].at if index + 1 < len(changes) else None
        if following is not None and utc_at(first) >= following:
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


def _rebase_changes(
    spec: PolicySpec, zone: ZoneInfo, *, start: datetime, days: int, zone_name: str | None
) -> list[LocalTimeChange]:
    """The offset changes of ``zone`` told for a policy that keeps its local times in its own zone."""
    changes = offset_changes(zone, now=start, days=days)
    found = []
    for index, change in enumerate(changes):
        first = next(localtimes.zone_runs(spec, start=change.at))
        following = changes[index + 1].at if index + 1 < len(changes) else None
        if following is not None and first >= following:
            continue
        stored = localtimes.offset_at(spec, first)
        rebased = localtimes.rebased_to(spec, stored)
        found.append(
            LocalTimeChange(
                zone_name=zone_name or str(zone.key),
                change=change,
                stored_minutes=stored,
                first_run=NextRun(
                    utc=first, local=first.astimezone(schedule_tz(stored)), zone_local=first.astimezone(zone)
                ),
                day_minutes=localtimes.chosen_local_minutes(spec),
                rebased_time_zone=None if rebased is None else rebased.time_zone,
                rebased_start_time=None if rebased is None else rebased.start_time,
            )
        )
    return found
