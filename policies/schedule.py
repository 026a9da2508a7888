"""The backup-policy contract and its schedule maths, in pure Python.

Every rule of section 2 of the contract (``shared/spec/CONTRACT.md``) lives here and only here:
the API, the dashboard form and the admin site all hand a payload to :func:`parse_policy` and
show the problems it returns. Nothing in this module imports Django or reads the clock: callers
pass ``now`` where time matters.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# --- Error codes, in the order of the contract's table (2.4): the first one found decides. -----

BODY_EMPTY = "AutoBackup.0000"
BAD_FIELD = "AutoBackup.0001"  # scheduled_policy missing or not an object; an unknown field
NO_TOKEN = "AutoBackup.0002"
BAD_TOKEN = "AutoBackup.0003"
BAD_JSON = "AutoBackup.0008"
SERVER_ERROR = "AutoBackup.0009"
NAME_LENGTH = "AutoBackup.0101"
NAME_CHARS = "AutoBackup.0102"
START_TIME = "AutoBackup.0103"
STATUS = "AutoBackup.0104"
KEEP_FIRST = "AutoBackup.0105"
FREQUENCY = "AutoBackup.0106"
RETENTION = "AutoBackup.0107"
QUOTA = "AutoBackup.0203"
NAME_TAKEN = "AutoBackup.0204"
POLICY_NOT_FOUND = "AutoBackup.0205"
FORBIDDEN_PROJECT = "AutoBackup.0213"
TAG = "AutoBackup.0214"
TAG_COUNT = "AutoBackup.0215"
TAG_NOT_FOUND = "AutoBackup.0216"
TAG_ACTION = "AutoBackup.0222"
TIME_ZONE = "AutoBackup.0226"
QUERY_PARAM = "AutoBackup.0013"  # ours: a bad query parameter of the forecast routes (docs/api.md)

CODE_ORDER: tuple[str, ...] = (
    BODY_EMPTY,
    BAD_JSON,
    BAD_FIELD,
    NAME_LENGTH,
    NAME_CHARS,
    START_TIME,
    STATUS,
    KEEP_FIRST,
    FREQUENCY,
    RETENTION,
    TAG_ACTION,
    TAG,
    TAG_COUNT,
    TIME_ZONE,
    QUOTA,
    NAME_TAKEN,
)

MAX_POLICIES_PER_TENANT = 10
MAX_TAGS = 10
NAME_MAX = 64
TAG_KEY_MAX = 36
TAG_VALUE_MAX = 43
FREQUENCY_RANGE = (1, 14)
RETENTION_NUM_RANGE = (2, 14)
RETENTION_DAY_RANGE = (2, 99999)
OFFSET_RANGE = (-12 * 60, 14 * 60)
OFFSET_MINUTES = (0, 30, 45)

# Week order is the contract's (SUN first); the index is the local weekday number used below.
WEEKDAYS: tuple[str, ...] = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
WEEKDAY_NAMES: tuple[str, ...] = (
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
)

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

SCHEDULE_FIELDS: tuple[str, ...] = (
    "start_time",
    "frequency",
    "week_frequency",
    "rentention_num",
    "rentention_day",
    "remain_first_backup_of_curMonth",
    "status",
)
TOP_LEVEL_FIELDS: tuple[str, ...] = ("backup_policy_name", "scheduled_policy", "tags", "time_zone")
TAG_FIELDS: tuple[str, ...] = ("key", "value")

# Only ASCII: Python's \w and \d would also accept letters and digits of other scripts.
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_HOUR = re.compile(r"([0-9]{2}):([0-9]{2})")
_OFFSET = re.compile(r"UTC([+-])([0-9]{2}):([0-9]{2})")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (JSON path), which contract code, how to fix it."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Order problems as the contract's table does, keeping discovery order within a code."""
    rank = {code: index for index, code in enumerate(CODE_ORDER)}
    return sorted(problems, key=lambda p: rank.get(p.code, len(rank)))


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class PolicySpec:
    """A policy that satisfies every rule of the contract, in canonical form.

    ``start_hours`` are UTC hours in the order given (ascending local time). Exactly one of
    ``frequency`` / ``week_frequency`` and one of ``retention_num`` / ``retention_day`` is set:
    the member of each pair that runs.
    """

    name: str
    start_hours: tuple[int, ...]
    status: str
    frequency: int | None = None
    week_frequency: tuple[str, ...] | None = None
    retention_num: int | None = None
    retention_day: int | None = None
    keep_first_of_month: bool = False
    time_zone: str | None = None
    tags: tuple[Tag, ...] = field(default_factory=tuple)

    @property
    def start_time(self) -> str:
        return ",".join(f"{hour:02d}:00" for hour in self.start_hours)

    @property
    def offset_minutes(self) -> int:
        return parse_offset(self.time_zone) if self.time_zone else 0

    @property
    def enabled(self) -> bool:
        return self.status == "ON"

    def scheduled_policy(self) -> dict[str, Any]:
        """Return the stored ``scheduled_policy`` object, as the API reads it back."""
        body: dict[str, Any] = {"start_time": self.start_time}
        if self.frequency is not None:
            body["frequency"] = self.frequency
        else:
            body["week_frequency"] = list(self.week_frequency or ())
        if self.retention_num is not None:
            body["rentention_num"] = self.retention_num
        else:
            body["rentention_day"] = self.retention_day
        body["remain_first_backup_of_curMonth"] = "Y" if self.keep_first_of_month else "N"
        body["status"] = self.status
        return body

    def to_payload(self) -> dict[str, Any]:
        """Return the create request body that describes exactly this policy."""
        payload: dict[str, Any] = {
            "backup_policy_name": self.name,
            "scheduled_policy": self.scheduled_policy(),
        }
        if self.tags:
            payload["tags"] = [{"key": tag.key, "value": tag.value} for tag in self.tags]
        if self.time_zone is not None:
            payload["time_zone"] = self.time_zone
        return payload


@dataclass(frozen=True)
class ParseResult:
    """Either a spec (no problems) or every problem found, in the contract's order."""

    spec: PolicySpec | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.spec is not None


# --- Request bodies ------------------------------------------------------------------------


class BodyError(ValueError):
    """The raw request body is not a JSON document the contract can read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode_body(raw: bytes | str) -> Any:
    """Decode a request body as strict JSON; raise :class:`BodyError` with the contract's code.

    ``NaN`` and ``Infinity``, which Python's json module accepts by default, are refused: they are
    not JSON and no other client could read them back.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError(
                Problem("body", BAD_JSON, "the body is not valid UTF-8; send JSON encoded as UTF-8")
            ) from None
    if not raw.strip():
        raise BodyError(Problem("body", BODY_EMPTY, "the body is empty; send a JSON object"))
    try:
        return json.loads(
            raw, parse_constant=_refuse_constant, parse_int=_parse_int, object_pairs_hook=_unique_keys
        )
    except DuplicateKey as exc:
        raise BodyError(
            Problem(
                "body",
                BAD_JSON,
                f"the body gives the key {_show(exc.key)} twice in one object; send each field once",
            )
        ) from None
    except (ValueError, RecursionError) as exc:
        raise BodyError(
            Problem("body", BAD_JSON, f"the body is not valid JSON ({_json_reason(exc)})")
        ) from None


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers disagree on which of two equal keys wins; a client that sends both has a bug
    # we would otherwise hide by silently dropping one of its values.
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise DuplicateKey(key)
        body[key] = value
    return body


# CPython refuses to turn more than 4300 digits into an int (a denial-of-service guard). No field
# takes such a number, so it becomes a float (infinite beyond 1e308): refused as out of range.
_MAX_INT_DIGITS = 4000


def _parse_int(text: str) -> int | float:
    return int(text) if len(text) <= _MAX_INT_DIGITS else float(text)


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


# --- Time zones and hours ------------------------------------------------------------------


def parse_offset(text: str) -> int:
    """Return the offset in minutes of ``UTC+HH:mm`` / ``UTC-HH:mm``; raise ValueError if invalid."""
    match = _OFFSET.fullmatch(text)
    if not match:
        raise ValueError(f"{_show(text)} is not in the form UTC+HH:mm or UTC-HH:mm (e.g. 'UTC+08:00')")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if minutes not in OFFSET_MINUTES:
        raise ValueError(
            f"{_show(text)} has minutes {minutes:02d}; the minutes of an offset are 00, 30 or 45"
        )
    offset = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
    if not OFFSET_RANGE[0] <= offset <= OFFSET_RANGE[1]:
        raise ValueError(f"{_show(text)} is outside the offsets from UTC-12:00 to UTC+14:00")
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


# How a run's UTC day relates to its local day (see utc_day_shift), in words.
DAY_SHIFT_WORDS = {-1: "day before", 0: "same day", 1: "day after"}


def every_n_days(frequency: int) -> str:
    """Return ``every day`` or ``every N days``."""
    return "every day" if frequency == 1 else f"every {frequency} days"


def has_day_shift(start_hours: Iterable[int], offset_minutes: int) -> bool:
    """True when the local times of one run day fall on more than one UTC day."""
    return len({utc_day_shift(hour, offset_minutes) for hour in start_hours}) > 1


# --- Occurrences ---------------------------------------------------------------------------


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

    @property
    def local_label(self) -> str:
        return _label(self.local_weekday, self.local_minute)

    @property
    def utc_label(self) -> str:
        return _label(self.utc_weekday, self.utc_minute)


def _label(weekday: int | None, minute: int) -> str:
    time = format_minutes(minute)
    return f"{WEEKDAY_NAMES[weekday][:3]} {time}" if weekday is not None else time


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


# --- Daylight saving -----------------------------------------------------------------------


@dataclass(frozen=True)
class OffsetChange:
    """A named zone changes its UTC offset at ``at`` (aware UTC)."""

    at: datetime
    before_minutes: int
    after_minutes: int

    @property
    def delta_minutes(self) -> int:
        return self.after_minutes - self.before_minutes


def zone_offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    """Return the zone's UTC offset in minutes at the aware instant ``at``."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    offset = at.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_changes(zone: ZoneInfo, *, now: datetime, days: int = 365) -> list[OffsetChange]:
    """Return the zone's offset changes in the ``days`` after ``now``, to the minute."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    changes = []
    step = timedelta(hours=6)  # shorter than any real gap between two changes
    end = now + timedelta(days=days)
    before, current = now, zone_offset_minutes(zone, now)
    while before < end:
        after = min(before + step, end)
        offset = zone_offset_minutes(zone, after)
        if offset != current:
            low, high = before, after  # the change lies in (low, high]: bisect to the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if zone_offset_minutes(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            changes.append(
                OffsetChange(
                    at=high.replace(second=0, microsecond=0), before_minutes=current, after_minutes=offset
                )
            )
            current = offset
        before = after
    return changes


# --- Parsing -------------------------------------------------------------------------------


_MISSING = object()


def _is_int(value: Any) -> bool:
    # bool is an int in Python, never in the contract.
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_int(value):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _show(value: Any, limit: int = 40) -> str:
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    except ValueError:  # an int too long for CPython to print
        return "a very long number"
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CHAR_WORDS = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


def _char(ch: str) -> str:
    """Name one character so a person can find it: look-alikes and invisible ones by code point."""
    if ch in _CHAR_WORDS:
        return _CHAR_WORDS[ch]
    if ch.isascii() and ch.isprintable():
        return repr(ch)
    shown = f"{ch!r} " if ch.isprintable() else ""
    return f"{shown}(U+{ord(ch):04X})"


ASCII_SET = "ASCII letters A-Z and a-z, digits, '_' and '-'"


def _suggest(path: str, name: str, here: tuple[str, ...], elsewhere: Mapping[str, str]) -> str:
    """Return the message for an unknown field, with the closest known name if there is one."""
    full = f"{path}.{name}" if path else name
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


class _Checker:
    """Collects problems while reading one payload; each ``_field`` method returns a clean value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def refuse(self, field_path: str, code: str, message: str) -> None:
        self.problems.append(Problem(field_path, code, f"{field_path}: {message}"))

    # -- top level

    def unknown_fields(
        self, body: Mapping[str, Any], path: str, here: tuple[str, ...], elsewhere: Mapping[str, str]
    ) -> None:
        for name in body:
            if name not in here:
                full = f"{path}.{name}" if path else name
                self.problems.append(Problem(full, BAD_FIELD, _suggest(path, str(name), here, elsewhere)))

    def name(self, value: Any) -> str | None:
        path = "backup_policy_name"
        if value is _MISSING or value is None:
            self.refuse(path, NAME_LENGTH, "is required; give a name of 1 to 64 characters")
            return None
        if not isinstance(value, str):
            self.refuse(path, NAME_LENGTH, f"must be a string, not {_describe(value)}")
            return None
        ok = True
        if not 1 <= len(value) <= NAME_MAX:
            self.refuse(path, NAME_LENGTH, f"has {len(value)} characters; use 1 to {NAME_MAX}")
            ok = False
        if not _NAME_CHARS.fullmatch(value):
            bad = sorted({ch for ch in value if not _NAME_CHARS.fullmatch(ch)})
            shown = ", ".join(_char(ch) for ch in bad[:5]) + (" and more" if len(bad) > 5 else "")
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
                f"{_show(value)} starts with 'default', which is reserved; choose another name",
            )
            ok = False
        return value if ok else None

    def time_zone(self, value: Any) -> tuple[str | None, int | None]:
        """Return (canonical time_zone or None, offset or None when invalid)."""
        if value is _MISSING or value is None:
            return None, 0
        path = "time_zone"
        if not isinstance(value, str):
            self.refuse(path, TIME_ZONE, f"must be a string like 'UTC+08:00', not {_describe(value)}")
            return None, None
        try:
            offset = parse_offset(value)
        except ValueError as exc:
            self.refuse(path, TIME_ZONE, str(exc))
            return None, None
        return format_offset(offset), offset

    def tags(self, value: Any) -> tuple[Tag, ...]:
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list):
            self.refuse("tags", TAG, f'must be a list of {{"key", "value"}} objects, not {_describe(value)}')
            return ()
        if len(value) > MAX_TAGS:
            self.refuse("tags", TAG_COUNT, f"has {len(value)} tags; a policy has at most {MAX_TAGS}")
        tags, seen = [], set()
        for index, item in enumerate(value):
            tag = self.tag(item, f"tags[{index}]")
            if tag is None:
                continue
            if tag.key in seen:
                self.refuse(
                    f"tags[{index}].key", TAG, f"repeats the key {_show(tag.key)}; give each key once"
                )
                continue
            seen.add(tag.key)
            tags.append(tag)
        return tuple(tags)

    def tag(self, item: Any, path: str) -> Tag | None:
        if not isinstance(item, Mapping):
            self.refuse(path, TAG, f'must be an object {{"key": ..., "value": ...}}, not {_describe(item)}')
            return None
        ok = True
        for name in item:
            if name not in TAG_FIELDS:
                match = difflib.get_close_matches(str(name).lower(), TAG_FIELDS, n=1, cutoff=0.6)
                hint = f"did you mean '{match[0]}'? " if match else ""
                self.refuse(
                    f"{path}.{name}", TAG, f"is not a tag field; {hint}a tag has only 'key' and 'value'"
                )
                ok = False
        key = self._tag_text(item.get("key", _MISSING), f"{path}.key", 1, TAG_KEY_MAX)
        value = self._tag_text(item.get("value", _MISSING), f"{path}.value", 0, TAG_VALUE_MAX)
        if key is None or value is None or not ok:
            return None
        return Tag(key, value)

    def _tag_text(self, value: Any, path: str, low: int, high: int) -> str | None:
        if value is _MISSING or value is None:
            hint = " (an empty string is allowed)" if low == 0 else ""
            self.refuse(path, TAG, f"is required{hint}")
            return None
        if not isinstance(value, str):
            self.refuse(path, TAG, f"must be a string, not {_describe(value)}")
            return None
        ok = True
        if not low <= len(value) <= high:
            self.refuse(path, TAG, f"has {len(value)} characters; use {low} to {high}")
            ok = False
        if not _NAME_CHARS.fullmatch(value):
            self.refuse(path, TAG, f"{_show(value)} may contain only {ASCII_SET}")
            ok = False
        return value if ok else None

    # -- scheduled_policy

    def start_time(self, value: Any) -> tuple[int, ...] | None:
        path = "scheduled_policy.start_time"
        if value is _MISSING or value is None:
            self.refuse(path, START_TIME, "is required; give UTC full hours like '02:00' or '22:00,00:00'")
            return None
        if not isinstance(value, str):
            self.refuse(path, START_TIME, f"must be a string like '02:00,14:00', not {_describe(value)}")
            return None
        hours: list[int] = []
        ok = True
        for part in value.split(","):
            text = part.strip(" \t\r\n")
            match = _HOUR.fullmatch(text)
            if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
                what = "an empty time" if not text else _show(text)
                self.refuse(
                    path,
                    START_TIME,
                    f"{what} is not a time HH:mm; use two-digit full hours from 00:00 to 23:00, separated by commas",
                )
                ok = False
                continue
            hour, minute = int(match.group(1)), int(match.group(2))
            if minute:
                self.refuse(path, START_TIME, f"{_show(text)} is not a full hour; use {hour:02d}:00")
                ok = False
                continue
            if hour in hours:
                self.refuse(path, START_TIME, f"{_show(text)} is given twice; list each time once")
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
                )
                return False
        return True

    def choice(
        self, value: Any, path: str, code: str, choices: tuple[str, ...], *, required: bool
    ) -> str | None:
        if value is _MISSING or value is None:
            if required:
                self.refuse(path, code, f"is required; use {' or '.join(repr(c) for c in choices)}")
            return None
        if value not in choices or not isinstance(value, str):
            self.refuse(
                path, code, f"{_show(value)} is not allowed; use {' or '.join(repr(c) for c in choices)}"
            )
            return None
        return value

    def integer(self, value: Any, path: str, code: str, bounds: tuple[int, int]) -> int | None:
        low, high = bounds
        if isinstance(value, float) and not math.isfinite(value):
            self.refuse(path, code, f"is a number far out of range; use {low} to {high}")
            return None
        if not _is_int(value):
            hint = " (write integers without a fraction)" if isinstance(value, float) else ""
            self.refuse(path, code, f"must be an integer from {low} to {high}, not {_describe(value)}{hint}")
            return None
        if not low <= value <= high:
            self.refuse(path, code, f"{_show(value)} is out of range; use {low} to {high}")
            return None
        return value

    def retention_day(self, value: Any) -> int | None:
        path = "scheduled_policy.rentention_day"
        low, high = RETENTION_DAY_RANGE
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.refuse(
                path, RETENTION, f"must be a number of days from {low} to {high}, not {_describe(value)}"
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
            what = "an empty list" if isinstance(value, list) else _describe(value)
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
                    f"{_show(day)} is not a weekday code; use {allowed} (upper case){hint}",
                )
                ok = False
            elif day in days:
                self.refuse(f"{path}[{index}]", FREQUENCY, f"{day} is given twice; list each day once")
                ok = False
            else:
                days.add(day)
        return tuple(day for day in WEEKDAYS if day in days) if ok else None


def parse_policy(body: Any) -> ParseResult:
    """Read a create request body: return the canonical spec, or every problem in contract order.

    Any value at all may be passed (whatever ``json.loads`` returned); this never raises.
    """
    check = _Checker()
    if not isinstance(body, Mapping):
        what = "empty" if body is None else _describe(body)
        return ParseResult(
            None, (Problem("body", BODY_EMPTY, f"the body must be a JSON object, not {what}"),)
        )

    inner_names = {name: f"'scheduled_policy.{name}'" for name in SCHEDULE_FIELDS}
    check.unknown_fields(body, "", TOP_LEVEL_FIELDS, inner_names)

    name = check.name(body.get("backup_policy_name", _MISSING))
    time_zone, offset = check.time_zone(body.get("time_zone", _MISSING))
    tags = check.tags(body.get("tags", _MISSING))

    schedule = body.get("scheduled_policy", _MISSING)
    fields: dict[str, Any] = {}
    if not isinstance(schedule, Mapping):
        what = "missing" if schedule is _MISSING else f"{_describe(schedule)}, not an object"
        check.refuse(
            "scheduled_policy",
            BAD_FIELD,
            f"is {what}; send an object with start_time, status, frequency or week_frequency, "
            "and rentention_num or rentention_day",
        )
    else:
        check.unknown_fields(
            schedule,
            "scheduled_policy",
            SCHEDULE_FIELDS,
            {"time_zone": "the top-level 'time_zone' (it goes beside scheduled_policy, not inside it)"},
        )
        fields = _parse_schedule(check, schedule, offset, time_zone)

    if check.problems or name is None or not fields:
        return ParseResult(None, tuple(sort_problems(check.problems)))
    spec = PolicySpec(name=name, time_zone=time_zone, tags=tags, **fields)
    return ParseResult(spec, ())


def _parse_schedule(
    check: _Checker, schedule: Mapping[str, Any], offset: int | None, time_zone: str | None
) -> dict[str, Any]:
    def get(key: str) -> Any:
        value = schedule.get(key, _MISSING)
        return _MISSING if value is None else value  # null means absent for every optional field

    hours = check.start_time(schedule.get("start_time", _MISSING))
    status = check.choice(
        schedule.get("status", _MISSING), "scheduled_policy.status", STATUS, ("ON", "OFF"), required=True
    )
    keep_first = check.choice(
        get("remain_first_backup_of_curMonth"),
        "scheduled_policy.remain_first_backup_of_curMonth",
        KEEP_FIRST,
        ("Y", "N"),
        required=False,
    )

    frequency = week = None
    raw_frequency, raw_week = get("frequency"), get("week_frequency")
    if raw_frequency is _MISSING and raw_week is _MISSING:
        check.refuse(
            "scheduled_policy.frequency",
            FREQUENCY,
            'is missing; give frequency (every 1 to 14 days) or week_frequency (a list of days such as ["MON", "THU"])',
        )
    if raw_frequency is not _MISSING:
        frequency = check.integer(raw_frequency, "scheduled_policy.frequency", FREQUENCY, FREQUENCY_RANGE)
    if raw_week is not _MISSING:
        week = check.week_frequency(raw_week)

    retention_num = retention_day = None
    raw_num, raw_day = get("rentention_num"), get("rentention_day")
    if raw_num is _MISSING and raw_day is _MISSING:
        check.refuse(
            "scheduled_policy.rentention_num",
            RETENTION,
            "is missing; give rentention_num (keep 2 to 14 backups) or rentention_day (keep for 2 to 99999 days)",
        )
    if raw_num is not _MISSING:
        retention_num = check.integer(
            raw_num, "scheduled_policy.rentention_num", RETENTION, RETENTION_NUM_RANGE
        )
    if raw_day is not _MISSING:
        retention_day = check.retention_day(raw_day)

    if hours is not None and offset is not None:
        in_order = check.local_order(hours, offset, time_zone)
        if in_order and raw_frequency is not _MISSING and has_day_shift(hours, offset):
            runs = ", ".join(
                f"local {format_minutes(local_minute(h, offset))} is {h:02d}:00 UTC "
                f"the {DAY_SHIFT_WORDS[utc_day_shift(h, offset)]}"
                for h in hours
            )
            also = " (frequency wins when both are given: drop it)" if raw_week is not _MISSING else ""
            check.refuse(
                "scheduled_policy.frequency",
                TIME_ZONE,
                f"the start times fall on different UTC days at {time_zone} ({runs}); "
                f"use week_frequency with the local days instead of frequency{also}",
            )

    if check.problems or hours is None or status is None:
        return {}
    # Of each pair, only the member that runs is kept (frequency and rentention_num win).
    return {
        "start_hours": hours,
        "status": status,
        "frequency": frequency,
        "week_frequency": None if frequency is not None else week,
        "retention_num": retention_num,
        "retention_day": None if retention_num is not None else retention_day,
        "keep_first_of_month": keep_first == "Y",
    }


# --- Modify and the tag routes (CONTRACT.md section 3) --------------------------------------

# Sending one member of a pair to modify replaces the other: the stored one is dropped first.
_PAIR_OF: dict[str, str] = {
    "frequency": "week_frequency",
    "week_frequency": "frequency",
    "rentention_num": "rentention_day",
    "rentention_day": "rentention_num",
}
MODIFY_FIELDS: tuple[str, ...] = ("backup_policy_name", "scheduled_policy", "time_zone")
TAG_ROUTES_HINT = (
    "tags are not changed by modify; use POST .../backuppolicy/{policy_id}/tags, "
    "DELETE .../tags/{key} or POST .../tags/action"
)


def merge_policy_update(body: Mapping[str, Any], current: PolicySpec) -> dict[str, Any]:
    """Return the create body that results from applying a modify ``body`` to ``current``.

    Absent (or null) fields keep their stored values; within ``scheduled_policy`` one member of
    a pair replaces the other. Whatever else the body holds is carried over unchanged, so that
    :func:`parse_policy` refuses it with the create rules' own words.
    """
    merged = current.to_payload()
    merged.pop("tags", None)
    for name, value in body.items():
        if name == "scheduled_policy":
            continue
        if value is not None:
            merged[name] = value
    inner = body.get("scheduled_policy")
    if isinstance(inner, Mapping):
        schedule = dict(merged["scheduled_policy"])
        sent = {name: value for name, value in inner.items() if value is not None}
        for name in sent:
            # Both members sent is like create: both are checked and the winner is kept.
            if name in _PAIR_OF and _PAIR_OF[name] not in sent:
                schedule.pop(_PAIR_OF[name], None)
        schedule.update(sent)
        merged["scheduled_policy"] = schedule
    elif inner is not None:
        merged["scheduled_policy"] = inner
    return merged


def _same_policy_id(value: Any, policy_id: str | None) -> bool:
    if policy_id is None or not isinstance(value, str):
        return False
    try:
        return uuid.UUID(value) == uuid.UUID(str(policy_id))
    except ValueError:
        return False


def parse_policy_update(body: Any, current: PolicySpec, *, policy_id: str | None = None) -> ParseResult:
    """Read a modify body against the stored policy: merge it, then check the whole as create.

    The result keeps ``current``'s tags: modify never changes them. ``policy_id`` is the ID of
    the path: the OpenStack CLI and the OTC SDK repeat it as ``backup_policy_id`` in every
    modify body, which is ignored when it names this policy and refused when it names another.
    """
    if not isinstance(body, Mapping) or not body:
        what = "empty" if body is None or body == {} else _describe(body)
        return ParseResult(
            None,
            (
                Problem(
                    "body",
                    BODY_EMPTY,
                    f"the body must be a JSON object with the fields to change, not {what}",
                ),
            ),
        )
    problems: list[Problem] = []
    if "tags" in body:
        problems.append(
            Problem("tags", BAD_FIELD, f"unknown field 'tags' in a modify body; {TAG_ROUTES_HINT}")
        )
    sent_id = body.get("backup_policy_id")
    if sent_id is not None and not _same_policy_id(sent_id, policy_id):
        problems.append(
            Problem(
                "backup_policy_id",
                BAD_FIELD,
                f"backup_policy_id: {_show(sent_id)} is not the ID of the policy being modified"
                f"{f' ({policy_id})' if policy_id else ''}; leave it out, or send the ID of the path",
            )
        )
    ignored = ("tags", "backup_policy_id")
    result = parse_policy(merge_policy_update({k: v for k, v in body.items() if k not in ignored}, current))
    if problems or not result.ok:
        return ParseResult(None, tuple(sort_problems([*problems, *result.problems])))
    return ParseResult(replace(result.spec, tags=current.tags), ())


@dataclass(frozen=True)
class TagAction:
    """A batch tag request: ``create`` or ``update`` tags (key and value: an upsert each), or
    ``delete`` them (value optional). No tags at all is a valid request that changes nothing."""

    action: str
    tags: tuple[Tag, ...]
    # For delete: the keys whose value was not given, which go whatever their value.
    any_value: frozenset[str] = frozenset()

    @property
    def upserts(self) -> bool:
        """True for ``create`` and ``update``: both add new keys and replace existing values."""
        return self.action != "delete"


TAG_ACTIONS: tuple[str, ...] = ("create", "update", "delete")
_ACTION_WORDS = "'create', 'update' or 'delete'"


def _body_problem(body: Any, shape: str) -> Problem | None:
    if isinstance(body, Mapping) and body:
        return None
    what = "empty" if body is None or body == {} else _describe(body)
    return Problem("body", BODY_EMPTY, f"the body must be a JSON object {shape}, not {what}")


def parse_tag_body(body: Any) -> tuple[Tag | None, tuple[Problem, ...]]:
    """Read ``{"tag": {"key", "value"}}``, the body that adds or replaces one tag."""
    empty = _body_problem(body, '{"tag": {"key": ..., "value": ...}}')
    if empty:
        return None, (empty,)
    check = _Checker()
    check.unknown_fields(body, "", ("tag",), {"key": "'tag.key'", "value": "'tag.value'", "tags": "'tag'"})
    raw = body.get("tag", _MISSING)
    tag = None
    if raw is _MISSING or raw is None:
        check.refuse("tag", TAG, 'is required; send {"tag": {"key": ..., "value": ...}}')
    else:
        tag = check.tag(raw, "tag")
    if check.problems:
        return None, tuple(sort_problems(check.problems))
    return tag, ()


def parse_tag_action(body: Any) -> tuple[TagAction | None, tuple[Problem, ...]]:
    """Read ``{"action": "create" | "update" | "delete", "tags": [...]}``, the batch tag body.

    ``tags`` may be absent, null or empty: the Go SDK and the Terraform provider leave an empty
    list out, and such a request changes nothing.
    """
    empty = _body_problem(body, '{"action": "create", "update" or "delete", "tags": [...]}')
    if empty:
        return None, (empty,)
    check = _Checker()
    check.unknown_fields(body, "", ("action", "tags"), {"key": "'tags[].key'", "value": "'tags[].value'"})
    action = body.get("action", _MISSING)
    if action is _MISSING or action is None:
        check.refuse("action", TAG_ACTION, f"is required; use {_ACTION_WORDS}")
        action = None
    elif action not in TAG_ACTIONS or not isinstance(action, str):
        check.refuse("action", TAG_ACTION, f"{_show(action)} is not an action; use {_ACTION_WORDS}")
        action = None

    raw = body.get("tags", _MISSING)
    tags: tuple[Tag, ...] = ()
    any_value: set[str] = set()
    if raw is _MISSING or raw is None or raw == []:
        pass
    elif action not in ("create", "update") and isinstance(raw, list):
        # Delete names keys; a value, when given, must match the stored one.
        found: list[Tag] = []
        for index, item in enumerate(raw):
            if isinstance(item, Mapping) and item.get("value") is None and "key" in item:
                probe = check.tag({**item, "value": ""}, f"tags[{index}]")
                if probe is not None:
                    any_value.add(probe.key)
                    found.append(probe)
            else:
                tag = check.tag(item, f"tags[{index}]")
                if tag is not None:
                    found.append(tag)
        tags = tuple(found)
    else:
        tags = check.tags(raw)
    if check.problems or action is None:
        return None, tuple(sort_problems(check.problems))
    return TagAction(action, tags, frozenset(any_value)), ()


# A modify keeps the stored time_zone when none (or null) is sent, so a form that shows a policy
# whole sends "no time zone" as the offset that means the same: local time is UTC.
NO_TIME_ZONE = "UTC+00:00"


def parse_policy_edit(payload: Any, current: PolicySpec) -> ParseResult:
    """Read a form's complete payload (tags included) as a change of the stored policy.

    The dashboard's edit form and the admin's change form show every field, so their payload is
    checked with the create rules (an emptied field is refused, not kept), then read as a modify
    of ``current`` with the merge the API uses for a PUT. The tags are the payload's: a form
    replaces the whole list.
    """
    created = parse_policy(payload)
    if not created.ok:
        return created
    body = {name: value for name, value in payload.items() if name != "tags"}
    update = parse_policy_update(body, current)
    if not update.ok:
        return update
    return ParseResult(replace(update.spec, tags=created.spec.tags), ())


_PATH_INDEX = re.compile(r"\[\d+\]")
_TAG_PATH = re.compile(r"tags\[(\d+)\](?:\.(\w+))?")


def path_without_indexes(path: str) -> str:
    """``"scheduled_policy.week_frequency[2]"`` -> ``"scheduled_policy.week_frequency"``."""
    return _PATH_INDEX.sub("", path)


def tag_of_path(path: str) -> tuple[int, str | None] | None:
    """For a problem at ``tags[3]`` or ``tags[3].key``: ``(3, None)`` or ``(3, "key")``."""
    match = _TAG_PATH.fullmatch(path)
    return (int(match.group(1)), match.group(2)) if match else None


def check_tag_text(value: Any, path: str, *, key: bool) -> tuple[str | None, tuple[Problem, ...]]:
    """Check one tag key (``key=True``) or value by the tag rules; return it, or its problems."""
    check = _Checker()
    low, high = (1, TAG_KEY_MAX) if key else (0, TAG_VALUE_MAX)
    text = check._tag_text(_MISSING if value is None else value, path, low, high)
    return text, tuple(check.problems)


# How a message shows a value the client sent, for the other modules of the core.
describe = _describe
show = _show


def suggest_field(path: str, name: str, known: tuple[str, ...]) -> str:
    """The message for an unknown field ``name`` at ``path``: the closest known name, if any."""
    return _suggest(path, name, known, {})


def tag_count_problem(count: int) -> Problem:
    """The refusal of a tag change that would leave a policy with ``count`` (> 10) tags."""
    return Problem(
        "tags",
        TAG_COUNT,
        f"tags: the policy would have {count} tags; a policy has at most {MAX_TAGS}, so remove some first",
    )


def tag_not_found_problem(key: str, known: Iterable[str] = ()) -> Problem:
    """The refusal of removing a tag the policy lacks; names a key that differs only in case."""
    message = f"key: the policy has no tag with the key {_show(key)}"
    same_but_case = [other for other in known if other.lower() == key.lower()]
    if same_but_case:
        message += f"; did you mean {_show(same_but_case[0])}? (tag keys are case-sensitive)"
    return Problem("key", TAG_NOT_FOUND, message)


# --- Named zones and words for people (the dashboard's needs; still pure) ------------------

# The areas of the IANA database whose zones are places people live in; the legacy aliases
# (``US/Eastern``, ``Etc/GMT+5`` with its inverted sign, ``EST5EDT`` ...) would only confuse.
# Backward-compatible names inside these areas (``Asia/Calcutta``) stay: some browsers report them.
NAMED_ZONE_AREAS: tuple[str, ...] = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


_named_zone_cache: list[tuple[str, ...]] = []


def named_zone_names() -> tuple[str, ...]:
    """Return the IANA zone names a person would pick, sorted, with ``UTC`` first."""
    # available_timezones() walks the tz database on every call; the database does not change
    # while the process runs, so the answer is kept.
    if not _named_zone_cache:
        from zoneinfo import available_timezones

        names = sorted(name for name in available_timezones() if name.split("/")[0] in NAMED_ZONE_AREAS)
        _named_zone_cache.append(("UTC", *names))
    return _named_zone_cache[0]


def named_zones(*, now: datetime) -> list[tuple[str, int]]:
    """Return ``(zone name, offset minutes in force at now)`` for every named zone."""
    return [(name, zone_offset_minutes(ZoneInfo(name), now)) for name in named_zone_names()]


def is_named_zone(name: str) -> bool:
    """True for a zone name :func:`named_zone_names` offers (cheap: no tz database scan)."""
    if name != "UTC" and name.split("/")[0] not in NAMED_ZONE_AREAS:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _duration_words(minutes: int) -> str:
    minutes = abs(minutes)
    hours, rest = divmod(minutes, 60)
    if not rest:
        return "one hour" if hours == 1 else f"{hours} hours"
    if not hours:
        return f"{rest} minutes"
    return f"{hours} h {rest} min"


@dataclass(frozen=True)
class DstNote:
    """A named zone's offset change, told against the fixed offset a policy stores."""

    zone_name: str
    change: OffsetChange
    stored_minutes: int

    @property
    def shift_minutes(self) -> int:
        """How much later (positive) or earlier (negative) the runs happen in local time."""
        return self.change.after_minutes - self.stored_minutes

    @property
    def local_date(self) -> str:
        return self.change.at.astimezone(ZoneInfo(self.zone_name)).strftime("%a %d %b %Y")

    @property
    def sentence(self) -> str:
        after = format_offset(self.change.after_minutes)
        when = f"From {self.local_date} ({self.change.at:%H:%M} UTC), {self.zone_name} is at {after}"
        stored = format_offset(self.stored_minutes)
        if self.shift_minutes == 0:
            return f"{when} again: the runs happen at the local times shown."
        direction = "later" if self.shift_minutes > 0 else "earlier"
        return (
            f"{when}, but the policy keeps {stored}: its runs then happen "
            f"{_duration_words(self.shift_minutes)} {direction} in local time than shown "
            "(the UTC times do not change)."
        )


def dst_notes(zone_name: str, *, stored_minutes: int, now: datetime, days: int = 365) -> list[DstNote]:
    """Return the zone's offset changes in the next ``days``, told against the stored offset."""
    zone = ZoneInfo(zone_name)
    return [DstNote(zone_name, change, stored_minutes) for change in offset_changes(zone, now=now, days=days)]


def _join_words(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def schedule_in_words(spec: PolicySpec) -> tuple[str, str]:
    """Return the schedule in plain words: (in local time, in UTC)."""
    zone = spec.time_zone or "UTC"
    runs = runs_of_day(spec)
    local_times = ", ".join(format_minutes(run.local_minute) for run in runs)
    if spec.week_frequency is not None:
        days = _join_words([WEEKDAY_NAMES[WEEKDAYS.index(day)] for day in spec.week_frequency])
        local = f"{days} at {local_times} ({zone})"
        utc = ", ".join(run.utc_label for run in utc_week(spec)) + " UTC"
        return local, utc
    every = every_n_days(spec.frequency or 1)
    local = f"{every.capitalize()} at {local_times} ({zone})"
    utc_times = ", ".join(
        format_minutes(run.utc_minute)
        + (f" ({DAY_SHIFT_WORDS[run.utc_day_shift]})" if run.utc_day_shift else "")
        for run in runs
    )
    return local, f"{every} at {utc_times} UTC"
