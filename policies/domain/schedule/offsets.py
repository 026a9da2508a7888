"""Fixed UTC offsets: their text, the local order of hours, and the day a local hour falls on in UTC."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policies.domain.contract.limits import (
    MINUTES_PER_DAY,
    OFFSET_MINUTES,
    OFFSET_RANGE,
)
from policies.domain.contract.values import show

_OFFSET = re.compile(r"UTC([+-])([0-9]{2}):([0-9]{2})")


def parse_offset(text: str) -> int:
    """Return the offset in minutes of ``UTC+HH:mm`` / ``UTC-HH:mm``; raise ValueError if invalid."""
    match = _OFFSET.fullmatch(text)
    if not match:
        raise ValueError(f"{show(text)} is not in the form UTC+HH:mm or UTC-HH:mm (e.g. 'UTC+08:00')")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if minutes not in OFFSET_MINUTES:
        raise ValueError(f"{show(text)} has minutes {minutes:02d}; the minutes of an offset are 00, 30 or 45")
    offset = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
    if not OFFSET_RANGE[0] <= offset <= OFFSET_RANGE[1]:
        raise ValueError(f"{show(text)} is outside the offsets from UTC-12:00 to UTC+14:00")
    return offset


def format_offset(minutes: int) -> str:
    """Return ``UTC+HH:mm`` for an offset in minutes (zero is ``UTC+00:00``)."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def is_valid_offset(minutes: int) -> bool:
    return OFFSET_RANGE[0] <= minutes <= OFFSET_RANGE[1] and abs(minutes) % 60 in OFFSET_MINUTES


def all_offsets() -> list[int]:
    """Every offset the contract accepts, west to east."""
    return [m for m in range(OFFSET_RANGE[0], OFFSET_RANGE[1] + 1, 15) if is_valid_offset(m)]


def format_minutes(minutes: int) -> str:
    """Return ``HH:MM`` for a minute of the day (taken modulo one day)."""
    hours, mins = divmod(minutes % MINUTES_PER_DAY, 60)
    return f"{hours:02d}:{mins:02d}"


def local_minute(utc_hour: int, offset_minutes: int) -> int:
    """Return the local minute of the day at which a run at ``utc_hour`` UTC happens."""
    return (utc_hour * 60 + offset_minutes) % MINUTES_PER_DAY


def utc_day_shift(utc_hour: int, offset_minutes: int) -> int:
    """Return -1, 0 or +1: the UTC day of this run relative to its local day."""
    return (local_minute(utc_hour, offset_minutes) - offset_minutes) // MINUTES_PER_DAY


def hours_in_local_order(offset_minutes: int) -> list[tuple[int, int]]:
    """Return the 24 full UTC hours as ``(utc_hour, local_minute)``, ordered by local time."""
    pairs = [(hour, local_minute(hour, offset_minutes)) for hour in range(24)]
    return sorted(pairs, key=lambda pair: pair[1])


def start_time_for_local_minutes(local_minutes: Iterable[int], offset_minutes: int) -> str:
    """Return the contract's ``start_time`` for runs at these local minutes of the day.

    Local minutes that are not a full UTC hour at this offset are dropped by the caller's UI; here
    they raise ValueError, so nothing silently moves a run.
    """
    hours = []
    for minute in sorted(set(local_minutes)):
        utc = (minute - offset_minutes) % MINUTES_PER_DAY
        if utc % 60:
            raise ValueError(f"local {format_minutes(minute)} is not a full UTC hour")
        hours.append(utc // 60)
    return ",".join(f"{hour:02d}:00" for hour in hours)


def has_day_shift(start_hours: Iterable[int], offset_minutes: int) -> bool:
    """True when the local times of one run day fall on more than one UTC day."""
    return len({utc_day_shift(hour, offset_minutes) for hour in start_hours}) > 1


# --- Occurrences ---------------------------------------------------------------------------
