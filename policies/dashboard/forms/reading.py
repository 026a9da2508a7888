"""What the dashboard's policy form reads from its fields: the zone, the payload, the core's answer.

``PolicyForm.clean`` (``policy.py``) turns the boxes into the contract payload an API client would
send (:func:`policy_payload`), asks the core, and keeps all of it in one frozen :class:`Reading`.
The other direction, the form's data for a payload, is ``mapping``; a box's text as a JSON
value is ``inputs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from policies.dashboard.forms.inputs import INTEGER, json_number
from policies.domain.contract import parse, specs
from policies.domain.schedule import offsets, zones


@dataclass
class Zone:
    """The time zone picked in the form, resolved against ``now``."""

    value: str  # what the picker sent
    time_zone: str | None  # what the payload carries (None: no time_zone)
    offset: int | None  # None when the core will refuse time_zone
    name: str | None = None  # the IANA name, for a named zone
    # "No time zone" picked while editing a policy that has one (sent as UTC+00:00).
    cleared: bool = False
    # The stored named zone, left as it is while editing: sent with its stored offset, which the
    # core keeps (the scheduler re-bases it, not a save).
    kept: bool = False


@dataclass(frozen=True)
class Reading:
    """What the form read from its fields: the zone, the contract payload and the core's answer.

    ``PolicyForm.clean`` makes it once (fields -> payload -> core) and keeps it in
    ``cleaned_data["reading"]``; the form's problems are its errors (``add_error``).
    """

    zone: Zone
    payload: dict[str, Any]
    result: specs.ParseResult
    checked_hours: tuple[int, ...]  # the UTC hours of the ticks kept, in local order
    grid_offset: int  # the offset the hour grid is drawn for


NO_READING = Reading(Zone("", None, 0), {}, specs.ParseResult(None, ()), (), 0)


def read_hours(
    ticked: Sequence[str], grid_offset: int | None, offset: int | None
) -> tuple[str, int, list[str]]:
    """Return start_time for the ticked boxes at ``offset``, keeping each tick's local time, the
    offset the grid is then drawn for, and the errors to show at the grid.

    A tick's value is a UTC hour of the grid drawn for ``grid_offset``; when the zone changed
    since, the person meant the local time on the label, so that is kept. A value that is no hour
    of the grid, and local times that are no full UTC hour at the new offset, are dropped, each
    with an error at the grid.
    """
    errors, hours = [], []
    for value in ticked:
        if not INTEGER.fullmatch(value) or not 0 <= int(value) <= 23:
            errors.append(f"{value!r} is not a start time of the grid; tick the times again.")
            continue
        hours.append(int(value))
    grid = grid_offset if grid_offset is not None else offset
    if grid is None:  # neither offset is known: keep the ticks in UTC order
        grid = 0
    target = offset if offset is not None else grid
    local_minutes, dropped = [], []
    for hour in hours:
        minute = offsets.local_minute(hour, grid)
        try:
            offsets.start_time_for_local_minutes([minute], target)
        except ValueError:
            dropped.append(offsets.format_minutes(minute))
            continue
        local_minutes.append(minute)
    if dropped:
        errors.append(
            f"Local {', '.join(dropped)} is no full UTC hour at {offsets.format_offset(target)}, "
            "so it was unticked; tick the local times again."
        )
    return offsets.start_time_for_local_minutes(local_minutes, target), target, errors


def resolve_zone(value: str, *, now: datetime) -> Zone:
    """Return the payload's time_zone for the picker's value: a named zone stores today's offset."""
    if not value:
        return Zone(value, None, 0)
    if value[0] in "+-":
        # The box's help offers "+05:30" to type: without the picker it arrives as typed.
        value = f"UTC{value}"
    if zones.is_named_zone(value):
        offset = zones.zone_offset_minutes(ZoneInfo(value), now)
        return Zone(value, offsets.format_offset(offset), offset, value)
    try:
        offset = offsets.parse_offset(value)
    except ValueError:
        if value.upper().startswith("UTC"):
            return Zone(value, value, None)  # sent as it is: the core says what is wrong
        # Not an offset: a zone name the core does not know ('Berlin'); it suggests the closest.
        return Zone(value, None, None, value)
    return Zone(value, value, offset)


def zone_of_payload(payload: Mapping[str, Any], *, current: specs.PolicySpec | None, now: datetime) -> Zone:
    """The zone a payload sends, as the form would have picked it (for a payload no form built)."""
    name, time_zone = payload.get("time_zone_name"), payload.get("time_zone")
    if isinstance(name, str) and name:
        if current is not None and parse.sends_stored_zone(payload, current):
            return Zone(name, current.time_zone, current.offset_minutes, name, kept=True)
        return resolve_zone(name, now=now) if zones.is_named_zone(name) else Zone(name, None, None, name)
    if isinstance(time_zone, str) and time_zone:
        try:
            return Zone(time_zone, time_zone, offsets.parse_offset(time_zone))
        except ValueError:
            return Zone(time_zone, time_zone, None)  # the core says what is wrong
    return Zone("", None, 0)


def scheduled_policy(data: Mapping[str, Any], start_time: str) -> dict[str, Any]:
    """The ``scheduled_policy`` of the payload: the member of each pair the form's kind picks."""
    scheduled: dict[str, Any] = {}
    if start_time:
        scheduled["start_time"] = start_time
    if data.get("schedule_kind") == "daily":
        scheduled["frequency"] = 1  # every day: the contract's every 1 day
    elif data.get("schedule_kind") == "days":
        frequency = json_number(data.get("frequency") or "")
        if frequency is not None:
            scheduled["frequency"] = frequency
    else:
        scheduled["week_frequency"] = list(data.get("week_days") or [])
    if data.get("retention_kind") == "day":
        number, key = json_number(data.get("retention_day") or ""), "rentention_day"
    else:
        number, key = json_number(data.get("retention_num") or ""), "rentention_num"
    if number is not None:
        scheduled[key] = number
    scheduled["remain_first_backup_of_curMonth"] = "Y" if data.get("keep_first") else "N"
    if data.get("status"):
        scheduled["status"] = data["status"]
    return scheduled


def policy_payload(
    data: Mapping[str, Any], zone: Zone, start_time: str, tags: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The contract payload an API client would send for the form's fields.

    ``data``: the form's cleaned fields; ``tags``: the (key, value) of each filled tag row.
    """
    payload: dict[str, Any] = {}
    if data.get("name"):
        payload["backup_policy_name"] = data["name"]
    payload["scheduled_policy"] = scheduled_policy(data, start_time)
    if tags:
        payload["tags"] = [{"key": key, "value": value} for key, value in tags]
    if zone.name is not None:
        # The core takes the zone's offset now; the scheduler keeps the local times after. The
        # stored zone left as it is goes with its stored offset, as a client sends it back.
        payload["time_zone_name"] = zone.name
        if zone.kept:
            payload["time_zone"] = zone.time_zone
    elif zone.time_zone is not None:
        payload["time_zone"] = zone.time_zone
    return payload
