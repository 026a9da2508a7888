"""The field checker: each field group of a body checked against the contract's rules."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from .codes import (
    BAD_FIELD,
    FREQUENCY,
    NAME_CHARS,
    NAME_LENGTH,
    PREDICATE,
    QUOTE,
    REQUEST,
    RETENTION,
    START_TIME,
    STATEMENT,
    TAG,
    TAG_COUNT,
    TIME_ZONE,
    Problem,
    kind_of_shown,
)
from .contract import (
    MAX_TAGS,
    NAME_MAX,
    RETENTION_DAY_RANGE,
    TAG_FIELDS,
    TAG_KEY_MAX,
    TAG_VALUE_MAX,
    WEEKDAYS,
)
from .offsets import format_minutes, format_offset, local_minute, parse_offset
from .specs import Tag
from .values import char_name, describe, field_name_shown, is_int, show

# Only ASCII: Python's \w and \d would also accept letters and digits of other scripts.
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]*")
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


class Checker:
    """Collects problems while reading one payload; each ``_field`` method returns a clean value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def refuse(self, field_path: str, code: str, detail: str, kind: str = PREDICATE) -> None:
        self.problems.append(Problem(field_path, code, detail, kind))

    # -- top level

    def unknown_fields(
        self, body: Mapping[str, Any], path: str, here: tuple[str, ...], elsewhere: Mapping[str, str]
    ) -> None:
        for name in body:
            if name not in here:
                full = f"{path}.{field_name_shown(name)}" if path else field_name_shown(name)
                self.problems.append(
                    Problem(full, BAD_FIELD, suggest(path, str(name), here, elsewhere), REQUEST)
                )

    def _string(self, value: Any, path: str, code: str, how: str, like: str) -> str | None:
        """Return a required string field, or refuse it as missing or of another type."""
        if value is MISSING or value is None:
            self.refuse(path, code, f"is required; {how}")
            return None
        if not isinstance(value, str):
            self.refuse(path, code, f"must be a string{like}, not {describe(value)}")
            return None
        return value

    def name(self, value: Any) -> str | None:
        path = "backup_policy_name"
        value = self._string(value, path, NAME_LENGTH, "give a name of 1 to 64 characters", "")
        if value is None:
            return None
        ok = True
        if not 1 <= len(value) <= NAME_MAX:
            self.refuse(path, NAME_LENGTH, f"has {len(value)} characters; use 1 to {NAME_MAX}")
            ok = False
        if not _NAME_CHARS.fullmatch(value):
            bad = sorted({ch for ch in value if not _NAME_CHARS.fullmatch(ch)})
            shown = ", ".join(char_name(ch) for ch in bad[:5]) + (" and more" if len(bad) > 5 else "")
            self.refuse(
                path,
                NAME_CHARS,
                f"contains {shown}; use only {ASCII_SET}",
            )
            ok = False
        elif value.lower().startswith("default"):
            self.refuse(
                path,
                NAME_CHARS,
                f"{show(value)} starts with 'default', which is reserved; choose another name",
                QUOTE,
            )
            ok = False
        return value if ok else None

    def time_zone(self, value: Any) -> tuple[str | None, int | None]:
        """Return (canonical time_zone or None, offset or None when invalid)."""
        if value is MISSING or value is None:
            return None, 0
        path = "time_zone"
        if not isinstance(value, str):
            self.refuse(path, TIME_ZONE, f"must be a string like 'UTC+08:00', not {describe(value)}")
            return None, None
        try:
            offset = parse_offset(value)
        except ValueError as exc:
            self.refuse(path, TIME_ZONE, str(exc), QUOTE)  # it starts with the text quoted
            return None, None
        return format_offset(offset), offset

    def tags(self, value: Any) -> tuple[Tag, ...]:
        if value is MISSING or value is None:
            return ()
        if not isinstance(value, list):
            self.refuse("tags", TAG, f'must be a list of {{"key", "value"}} objects, not {describe(value)}')
            return ()
        if len(value) > MAX_TAGS:
            self.refuse("tags", TAG_COUNT, f"has {len(value)} tags; a policy has at most {MAX_TAGS}")
        tags, seen = [], set()
        for index, item in enumerate(value):
            tag = self.tag(item, f"tags[{index}]")
            if tag is None:
                continue
            if tag.key in seen:
                self.refuse(f"tags[{index}].key", TAG, f"repeats the key {show(tag.key)}; give each key once")
                continue
            seen.add(tag.key)
            tags.append(tag)
        return tuple(tags)

    def tag(self, item: Any, path: str) -> Tag | None:
        if not isinstance(item, Mapping):
            self.refuse(path, TAG, f'must be an object {{"key": ..., "value": ...}}, not {describe(item)}')
            return None
        ok = True
        for name in item:
            if name not in TAG_FIELDS:
                match = difflib.get_close_matches(str(name).lower(), TAG_FIELDS, n=1, cutoff=0.6)
                hint = f"did you mean '{match[0]}'? " if match else ""
                self.refuse(
                    f"{path}.{field_name_shown(name)}",
                    TAG,
                    f"is not a tag field; {hint}a tag has only 'key' and 'value'",
                )
                ok = False
        key = self._tag_text(item.get("key", MISSING), f"{path}.key", 1, TAG_KEY_MAX)
        value = self._tag_text(item.get("value", MISSING), f"{path}.value", 0, TAG_VALUE_MAX)
        if key is None or value is None or not ok:
            return None
        return Tag(key, value)

    def _tag_text(self, value: Any, path: str, low: int, high: int) -> str | None:
        if value is MISSING or value is None:
            hint = " (an empty string is allowed)" if low == 0 else ""
            self.refuse(path, TAG, f"is required{hint}")
            return None
        if not isinstance(value, str):
            self.refuse(path, TAG, f"must be a string, not {describe(value)}")
            return None
        ok = True
        if not low <= len(value) <= high:
            self.refuse(path, TAG, f"has {len(value)} characters; use {low} to {high}")
            ok = False
        if not _NAME_CHARS.fullmatch(value):
            self.refuse(path, TAG, f"{show(value)} may contain only {ASCII_SET}", QUOTE)
            ok = False
        return value if ok else None

    # -- scheduled_policy

    def start_time(self, value: Any) -> tuple[int, ...] | None:
        path = "scheduled_policy.start_time"
        value = self._string(
            value,
            path,
            START_TIME,
            "give UTC full hours like '02:00' or '22:00,00:00'",
            " like '02:00,14:00'",
        )
        if value is None:
            return None
        hours: list[int] = []
        ok = True
        for part in value.split(","):
            text = part.strip(" \t\r\n")
            match = _HOUR.fullmatch(text)
            if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
                what = "an empty time" if not text else show(text)
                self.refuse(
                    path,
                    START_TIME,
                    f"{what} is not a time HH:mm; use two-digit full hours from 00:00 to 23:00, separated by commas",
                    QUOTE if text else STATEMENT,
                )
                ok = False
                continue
            hour, minute = int(match.group(1)), int(match.group(2))
            if minute:
                self.refuse(path, START_TIME, f"{show(text)} is not a full hour; use {hour:02d}:00", QUOTE)
                ok = False
                continue
            if hour in hours:
                self.refuse(path, START_TIME, f"{show(text)} is given twice; list each time once", QUOTE)
                ok = False
                continue
            hours.append(hour)
        return tuple(hours) if ok else None

    def local_order(self, hours: tuple[int, ...], offset: int, time_zone: str | None) -> bool:
        locals_ = [local_minute(hour, offset) for hour in hours]
        for before, after, hour_before, hour in zip(locals_, locals_[1:], hours, hours[1:], strict=False):
            if after <= before:
                zone = f" at {time_zone}" if time_zone else " (no time_zone: local time is UTC)"
                ordered = ",".join(
                    f"{h:02d}:00" for h, _ in sorted(zip(hours, locals_, strict=True), key=lambda p: p[1])
                )
                self.refuse(
                    "scheduled_policy.start_time",
                    START_TIME,
                    f"{hour:02d}:00 UTC (local {format_minutes(after)}) comes after {hour_before:02d}:00 UTC "
                    f"(local {format_minutes(before)}){zone}; list the times in ascending local order: '{ordered}'",
                    STATEMENT,
                )
                return False
        return True

    def choice(
        self, value: Any, path: str, code: str, choices: tuple[str, ...], *, required: bool
    ) -> str | None:
        if value is MISSING or value is None:
            if required:
                self.refuse(path, code, f"is required; use {' or '.join(repr(c) for c in choices)}")
            return None
        if value not in choices or not isinstance(value, str):
            self.refuse(
                path,
                code,
                f"{show(value)} is not allowed; use {' or '.join(repr(c) for c in choices)}",
                kind_of_shown(value),
            )
            return None
        return value

    def integer(self, value: Any, path: str, code: str, bounds: tuple[int, int]) -> int | None:
        low, high = bounds
        if isinstance(value, float) and not math.isfinite(value):
            self.refuse(path, code, f"is a number far out of range; use {low} to {high}")
            return None
        if not is_int(value):
            hint = " (write integers without a fraction)" if isinstance(value, float) else ""
            self.refuse(path, code, f"must be an integer from {low} to {high}, not {describe(value)}{hint}")
            return None
        if not low <= value <= high:
            self.refuse(path, code, f"{show(value)} is out of range; use {low} to {high}", STATEMENT)
            return None
        return value

    def retention_day(self, value: Any) -> int | None:
        path = "scheduled_policy.rentention_day"
        low, high = RETENTION_DAY_RANGE
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.refuse(
                path, RETENTION, f"must be a number of days from {low} to {high}, not {describe(value)}"
            )
            return None
        if isinstance(value, float) and math.isfinite(value):
            # The VBS documentation: a fraction is rounded down first, then range-checked.
            value = math.floor(value)
        return self.integer(value, path, RETENTION, (low, high))

    def week_frequency(self, value: Any) -> tuple[str, ...] | None:
        path = "scheduled_policy.week_frequency"
        allowed = " ".join(WEEKDAYS)
        if not isinstance(value, list) or not value:
            what = "an empty list" if isinstance(value, list) else describe(value)
            self.refuse(path, FREQUENCY, f"must be a non-empty list of days from {allowed}, not {what}")
            return None
        days, ok = set(), True
        for index, day in enumerate(value):
            if not isinstance(day, str) or day not in WEEKDAYS:
                hint = (
                    f"; did you mean {day.upper()[:3]!r}?"
                    if isinstance(day, str) and day.upper()[:3] in WEEKDAYS
                    else ""
                )
                self.refuse(
                    f"{path}[{index}]",
                    FREQUENCY,
                    f"{show(day)} is not a weekday code; use {allowed} (upper case){hint}",
                    kind_of_shown(day),
                )
                ok = False
            elif day in days:
                self.refuse(
                    f"{path}[{index}]", FREQUENCY, f"{day} is given twice; list each day once", STATEMENT
                )
                ok = False
            else:
                days.add(day)
        return tuple(day for day in WEEKDAYS if day in days) if ok else None


def check_tag_text(value: Any, path: str, *, key: bool) -> tuple[str | None, tuple[Problem, ...]]:
    """Check one tag key (``key=True``) or value by the tag rules; return it, or its problems."""
    check = Checker()
    low, high = (1, TAG_KEY_MAX) if key else (0, TAG_VALUE_MAX)
    text = check._tag_text(MISSING if value is None else value, path, low, high)
    return text, tuple(check.problems)
