"""The dashboard form's data for a payload: what a person would enter to send it.

``views.policy_edit`` fills the edit form from the stored policy with it. The other direction,
the form's fields to the payload, is the form's own work (``PolicyForm.clean``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from policies.domain.schedule import offsets, zones


def form_data_from_payload(payload: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Return the form POST data a person would enter to send ``payload``.

    ``now`` is the time of the request: a named zone sent without its offset stands for the
    zone's offset then, as the core reads it. Raise ValueError for what the form cannot express (both members of a pair, start times that
    are no full hours ...).
    """
    scheduled = payload.get("scheduled_policy") or {}
    if not isinstance(scheduled, Mapping):
        raise ValueError("scheduled_policy must be an object for the form")
    scheduled = {key: value for key, value in scheduled.items() if value is not None}  # null is absent
    data: dict[str, Any] = {}
    if "backup_policy_name" in payload:
        data["name"] = str(payload["backup_policy_name"])
    offset = _zone_data(payload, data, now or timezone.now())
    _repeat_data(scheduled, data)
    if "start_time" in scheduled:
        data["hours"] = _hours(scheduled["start_time"])
        data["grid_offset"] = str(offset)
    _retention_data(scheduled, data)
    if scheduled.get("remain_first_backup_of_curMonth") == "Y":
        data["keep_first"] = "on"
    if "status" in scheduled:
        data["status"] = str(scheduled["status"])
    tags = payload.get("tags") or []
    data["tag_key"] = [str(tag.get("key", "")) for tag in tags]
    data["tag_value"] = [str(tag.get("value", "")) for tag in tags]
    return data


def _zone_data(payload: Mapping[str, Any], data: dict[str, Any], now: datetime) -> int:
    """Fill the zone picker; return the offset the hour grid is drawn for.

    The start times are UTC hours at the payload's offset: the grid is drawn for that offset, so
    each tick keeps its UTC hour. A named zone without an offset is read at its offset now (the
    core's reading of such a payload); without that, the ticks would be read as UTC+00:00 local
    times and moved to the zone's offset, a change nobody made.
    """
    time_zone, name = payload.get("time_zone"), payload.get("time_zone_name")
    offset = 0
    if time_zone is not None:
        data["time_zone"] = str(time_zone)
        try:
            offset = offsets.parse_offset(str(time_zone))
        except ValueError:
            offset = 0
    elif isinstance(name, str) and zones.is_named_zone(name):
        offset = zones.zone_offset_minutes(ZoneInfo(name), now)
    if name is not None:
        data["time_zone"] = str(name)  # the picker opens on the zone's name
    return offset


def _one_of(scheduled: Mapping[str, Any], first: str, second: str) -> None:
    if first in scheduled and second in scheduled:
        raise ValueError(f"the form sends {first} or {second}, not both")


def _repeat_data(scheduled: Mapping[str, Any], data: dict[str, Any]) -> None:
    _one_of(scheduled, "frequency", "week_frequency")
    if "week_frequency" in scheduled:
        data["schedule_kind"] = "week"
        data["week_days"] = [str(day) for day in scheduled["week_frequency"]]
    else:
        data["schedule_kind"] = "daily" if scheduled.get("frequency") == 1 else "days"
        data["frequency"] = str(scheduled.get("frequency", ""))


def _hours(start_time: Any) -> list[str]:
    """The grid's boxes (UTC hours) for ``start_time``; only full hours can be ticked."""
    hours = []
    for part in str(start_time).split(","):
        hour, _, minute = part.strip().partition(":")
        if minute != "00" or not hour.isdigit():
            raise ValueError(f"the form has only full hours, not {part!r}")
        hours.append(str(int(hour)))
    return hours


def _retention_data(scheduled: Mapping[str, Any], data: dict[str, Any]) -> None:
    _one_of(scheduled, "rentention_num", "rentention_day")
    if "rentention_day" in scheduled:
        data["retention_kind"], data["retention_day"] = "day", str(scheduled["rentention_day"])
    else:
        data["retention_kind"] = "num"
        data["retention_num"] = str(scheduled.get("rentention_num", ""))
