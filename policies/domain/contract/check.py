"""The field checks: each field group of a body checked against the contract's rules.

Every check is a plain function of the value sent that returns ``Checked(value, problems)``: the
clean value (None, or the group's empty value, when refused) and every problem found, in the
order found. :func:`collect` adds a check's problems to a caller's list and hands back the value.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from policies.domain.contract.codes import (
    BAD_FIELD,
    FREQUENCY,
    NAME_CHARS,
    NAME_LENGTH,
    QUOTE,
    REQUEST,
    RETENTION,
    START_TIME,
    STATEMENT,
    TIME_ZONE,
    Problem,
    kind_of_shown,
)
from policies.domain.contract.limits import (
    NAME_MAX,
    RETENTION_DAY_RANGE,
    WEEKDAYS,
)
from policies.domain.contract.values import char_name, describe, field_name_shown, is_int, show
from policies.domain.schedule.localtimes import iana_zone_names, zone_offsets_ahead
from policies.domain.schedule.offsets import format_minutes, format_offset, local_minute, parse_offset

# Only ASCII: Python's \w and \d would also accept letters and digits of other scripts.
NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")
_HOUR = re.compile(r"([0-9]{2}):([0-9]{2})")


MISSING = object()


ASCII_SET = "ASCII letters A-Z and a-z, digits, '_' and '-'"


def suggest(path: str, name: str, here: tuple[str, ...], elsewhere: Mapping[str, str]) -> str:
    """Return the message for an unknown field, with the closest known name if there is one."""
    shown = field_name_shown(name)
    full = f"{path}.{shown}" if path else shown
    message = f"unknown field '{full}'"
    if name in elsewhere:
        return f"{message}; did you mean {elsewhere[name]}?"
    match = difflib.get_close_matches(name, here, n=1, cutoff=0.6)
    if match:
        return f"{message}; did you mean '{match[0]}'?"
    close = difflib.get_close_matches(name, list(elsewhere), n=1, cutoff=0.75)
    if close:
        return f"{message}; did you mean {elsewhere[close[0]]}?"
    return f"{message}; known fields here are {', '.join(here)}"


T = TypeVar("T")


class Checked(NamedTuple, Generic[T]):
    """What one check found: the clean value, and the problems (none when it is accepted)."""

    value: T
    problems: tuple[Problem, ...] = ()


def collect(into: list[Problem], checked: Checked[T]) -> T:
    """Add a check's problems to ``into``; return its value."""
    into.extend(checked.problems)
    return checked.value


# -- top level


def unknown_fields(
    body: Mapping[str, Any], path: str, here: tuple[str, ...], elsewhere: Mapping[str, str]
) -> list[Problem]:
    """Refuse every field of ``body`` not in ``here``, suggesting the closest known name."""
    problems = []
    for name in body:
        if name not in here:
            full = f"{path}.{field_name_shown(name)}" if path else field_name_shown(name)
            problems.append(Problem(full, BAD_FIELD, suggest(path, str(name), here, elsewhere), REQUEST))
    return problems


def _string(value: Any, path: str, code: str, how: str, like: str) -> Checked[str | None]:
    """Return a required string field, or refuse it as missing or of another type."""
    if value is MISSING or value is None:
        return Checked(None, (Problem(path, code, f"is required; {how}"),))
    if not isinstance(value, str):
        return Checked(None, (Problem(path, code, f"must be a string{like}, not {describe(value)}"),))
    return Checked(value)


def _name_chars_problem(value: str) -> Problem | None:
    path = "backup_policy_name"
    if not NAME_CHARACTERS.fullmatch(value):
        bad = sorted({ch for ch in value if not NAME_CHARACTERS.fullmatch(ch)})
        shown = ", ".join(char_name(ch) for ch in bad[:5]) + (" and more" if len(bad) > 5 else "")
        return Problem(path, NAME_CHARS, f"contains {shown}; use only {ASCII_SET}")
    if value.lower().startswith("default"):
        return Problem(
            path,
            NAME_CHARS,
            f"{show(value)} starts with 'default', which is reserved; choose another name",
            QUOTE,
        )
    return None


def policy_name(value: Any) -> Checked[str | None]:
    """Check ``backup_policy_name``: 1 to 64 ASCII letters, digits, '_' and '-', not 'default...'."""
    path = "backup_policy_name"
    value, problems = _string(value, path, NAME_LENGTH, "give a name of 1 to 64 characters", "")
    if value is None:
        return Checked(None, problems)
    found = []
    if not 1 <= len(value) <= NAME_MAX:
        found.append(Problem(path, NAME_LENGTH, f"has {len(value)} characters; use 1 to {NAME_MAX}"))
    chars = _name_chars_problem(value)
    if chars is not None:
        found.append(chars)
    return Checked(None if found else value, tuple(found))


def time_zone(value: Any) -> Checked[tuple[str | None, int | None]]:
    """Return (canonical time_zone or None, offset or None when invalid)."""
    if value is MISSING or value is None:
        return Checked((None, 0))
    path = "time_zone"
    if not isinstance(value, str):
        return Checked(
            (None, None),
            (Problem(path, TIME_ZONE, f"must be a string like 'UTC+08:00', not {describe(value)}"),),
        )
    try:
        offset = parse_offset(value)
    except ValueError as exc:
        # The error starts with the text quoted.
        return Checked((None, None), (Problem(path, TIME_ZONE, str(exc), QUOTE),))
    return Checked((format_offset(offset), offset))


_NO_ZONE: tuple[None, None, None] = (None, None, None)


def _zone_name_problem(value: Any, now: datetime | None) -> Problem | None:
    """Refuse a named zone that is not one, or whose offsets cannot keep full-hour start times."""
    path = "time_zone_name"
    if not isinstance(value, str):
        return Problem(
            path, TIME_ZONE, f"must be an IANA zone name like 'Europe/Berlin', not {describe(value)}"
        )
    if value not in iana_zone_names():
        close = difflib.get_close_matches(value, sorted(iana_zone_names()), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else " (e.g. 'Europe/Berlin', 'America/New_York')"
        return Problem(path, TIME_ZONE, f"{show(value)} is not a zone of the tz database{hint}", QUOTE)
    if now is None:
        return Problem(path, TIME_ZONE, "cannot be read without the time of the request")
    ahead = zone_offsets_ahead(value, now=now)
    if any((other - ahead[0]) % 60 for other in ahead):
        return Problem(
            path,
            TIME_ZONE,
            f"{value} moves its clocks by part of an hour ({', '.join(map(format_offset, ahead))}); "
            "start times are full UTC hours, so its local times cannot be kept: send a fixed "
            "time_zone instead",
            STATEMENT,
        )
    return None


def time_zone_name(
    value: Any,
    time_zone: str | None,
    *,
    sent_offset: bool,
    now: datetime | None,
    offset_refused: bool = False,
) -> Checked[tuple[str | None, str | None, int | None]]:
    """Check a named zone against ``time_zone``; return (name, time_zone, offset).

    Without ``time_zone`` the offset is the zone's at ``now`` (the time of the request); when
    both are sent (``sent_offset``) they must agree at ``now``.
    """
    if value is MISSING or value is None:
        offset = None if offset_refused else (parse_offset(time_zone) if time_zone else 0)
        return Checked((None, time_zone, offset))
    problem = _zone_name_problem(value, now)
    if problem is not None:
        return Checked(_NO_ZONE, (problem,))
    assert now is not None  # _zone_name_problem refuses a zone without it
    if offset_refused:
        return Checked(_NO_ZONE)
    now_text = format_offset(zone_offsets_ahead(value, now=now)[0])
    if sent_offset and time_zone is not None and time_zone != now_text:
        return Checked(
            _NO_ZONE,
            (
                Problem(
                    "time_zone_name",
                    TIME_ZONE,
                    f"time_zone {time_zone!r} and time_zone_name {value!r} disagree: {value} is at "
                    f"{now_text} now ({now:%Y-%m-%d %H:%M} UTC); send time_zone {now_text!r} or leave "
                    "time_zone out",
                    STATEMENT,
                ),
            ),
        )
    if time_zone is None:
        time_zone = now_text
    return Checked((value, time_zone, parse_offset(time_zone)))


# -- scheduled_policy


def _hour_problem(text: str, hours: list[int]) -> Problem | None:
    """Refuse one part of start_time that is not a new full hour HH:00."""
    path = "scheduled_policy.start_time"
    match = _HOUR.fullmatch(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        what = "an empty time" if not text else show(text)
        return Problem(
            path,
            START_TIME,
            f"{what} is not a time HH:mm; use two-digit full hours from 00:00 to 23:00, separated by commas",
            QUOTE if text else STATEMENT,
        )
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute:
        return Problem(path, START_TIME, f"{show(text)} is not a full hour; use {hour:02d}:00", QUOTE)
    if hour in hours:
        return Problem(path, START_TIME, f"{show(text)} is given twice; list each time once", QUOTE)
    return None


def start_time(value: Any) -> Checked[tuple[int, ...] | None]:
    """Check ``start_time``: distinct full UTC hours, comma-separated; return the hours."""
    value, problems = _string(
        value,
        "scheduled_policy.start_time",
        START_TIME,
        "give UTC full hours like '02:00' or '22:00,00:00'",
        " like '02:00,14:00'",
    )
    if value is None:
        return Checked(None, problems)
    hours: list[int] = []
    found = []
    for part in value.split(","):
        text = part.strip(" \t\r\n")
        problem = _hour_problem(text, hours)
        if problem is None:
            hours.append(int(text[:2]))
        else:
            found.append(problem)
    return Checked(None if found else tuple(hours), tuple(found))


def local_order(hours: tuple[int, ...], offset: int, time_zone: str | None) -> Problem | None:
    """Refuse start times that are not in ascending local order at ``offset``."""
    locals_ = [local_minute(hour, offset) for hour in hours]
    for before, after, hour_before, hour in zip(locals_, locals_[1:], hours, hours[1:], strict=False):
        if after <= before:
            zone = f" at {time_zone}" if time_zone else " (no time_zone: local time is UTC)"
            ordered = ",".join(
                f"{h:02d}:00" for h, _ in sorted(zip(hours, locals_, strict=True), key=lambda p: p[1])
            )
            return Problem(
                "scheduled_policy.start_time",
                START_TIME,
                f"{hour:02d}:00 UTC (local {format_minutes(after)}) comes after {hour_before:02d}:00 UTC "
                f"(local {format_minutes(before)}){zone}; list the times in ascending local order: '{ordered}'",
                STATEMENT,
            )
    return None


def choice(
    value: Any, path: str, code: str, choices: tuple[str, ...], *, required: bool
) -> Checked[str | None]:
    """Check a field that takes one of ``choices``."""
    allowed = " or ".join(repr(c) for c in choices)
    if value is MISSING or value is None:
        return Checked(None, (Problem(path, code, f"is required; use {allowed}"),) if required else ())
    if value not in choices or not isinstance(value, str):
        return Checked(
            None, (Problem(path, code, f"{show(value)} is not allowed; use {allowed}", kind_of_shown(value)),)
        )
    return Checked(value)


def integer(value: Any, path: str, code: str, bounds: tuple[int, int]) -> Checked[int | None]:
    """Check an integer field within ``bounds`` (inclusive)."""
    low, high = bounds
    if isinstance(value, float) and not math.isfinite(value):
        return Checked(None, (Problem(path, code, f"is a number far out of range; use {low} to {high}"),))
    if not is_int(value):
        hint = " (write integers without a fraction)" if isinstance(value, float) else ""
        detail = f"must be an integer from {low} to {high}, not {describe(value)}{hint}"
        return Checked(None, (Problem(path, code, detail),))
    if not low <= value <= high:
        return Checked(
            None, (Problem(path, code, f"{show(value)} is out of range; use {low} to {high}", STATEMENT),)
        )
    return Checked(value)


def retention_day(value: Any) -> Checked[int | None]:
    """Check ``rentention_day``: a number of days, a fraction rounded down."""
    path = "scheduled_policy.rentention_day"
    low, high = RETENTION_DAY_RANGE
    if not isinstance(value, int | float) or isinstance(value, bool):
        detail = f"must be a number of days from {low} to {high}, not {describe(value)}"
        return Checked(None, (Problem(path, RETENTION, detail),))
    if isinstance(value, float) and math.isfinite(value):
        # The VBS documentation: a fraction is rounded down first, then range-checked.
        value = math.floor(value)
    return integer(value, path, RETENTION, (low, high))


def _weekday_problem(day: Any, path: str, days: set[str]) -> Problem | None:
    if not isinstance(day, str) or day not in WEEKDAYS:
        hint = (
            f"; did you mean {day.upper()[:3]!r}?"
            if isinstance(day, str) and day.upper()[:3] in WEEKDAYS
            else ""
        )
        return Problem(
            path,
            FREQUENCY,
            f"{show(day)} is not a weekday code; use {' '.join(WEEKDAYS)} (upper case){hint}",
            kind_of_shown(day),
        )
    if day in days:
        return Problem(path, FREQUENCY, f"{day} is given twice; list each day once", STATEMENT)
    return None


def week_frequency(value: Any) -> Checked[tuple[str, ...] | None]:
    """Check ``week_frequency``: a non-empty list of distinct weekday codes; return them in week order."""
    path = "scheduled_policy.week_frequency"
    if not isinstance(value, list) or not value:
        what = "an empty list" if isinstance(value, list) else describe(value)
        detail = f"must be a non-empty list of days from {' '.join(WEEKDAYS)}, not {what}"
        return Checked(None, (Problem(path, FREQUENCY, detail),))
    days: set[str] = set()
    problems = []
    for index, day in enumerate(value):
        problem = _weekday_problem(day, f"{path}[{index}]", days)
        if problem is None:
            days.add(day)
        else:
            problems.append(problem)
    return Checked(None if problems else tuple(day for day in WEEKDAYS if day in days), tuple(problems))
