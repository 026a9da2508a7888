"""The query parameters of the forecast endpoints (code AutoBackup.0013)."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from policies.domain.contract.codes import PREDICATE, QUERY_PARAM, QUOTE, STATEMENT, Problem
from policies.domain.contract.query import single_values
from policies.domain.contract.specs import PolicySpec
from policies.domain.contract.values import show
from policies.domain.retention.simulation import (
    DEFAULT_WEEKS,
    MAX_RETENTION_BACKUPS,
    backups_per_week_at_most,
)

# Query parameters of the forecast endpoints (docs/api.md).
COUNT_RANGE = (1, 100)
DEFAULT_COUNT = 10
WEEKS_RANGE = (1, 52)
# Far enough for any real question, and far from the ends of Python's datetime range.
YEAR_RANGE = (1900, 9000)


# --- Query parameters of the forecast endpoints -------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,6}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ZONE_CHARS = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_SPACED_OFFSET = re.compile(r" [0-9]{2}:[0-9]{2}$")
# RFC 3339 (what OpenAPI's date-time means): Python's fromisoformat alone would also take a space
# for the T, no seconds, or the basic format 20260330T000000Z.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class NextRunsQuery:
    count: int
    start: datetime
    zone: ZoneInfo | None
    zone_name: str | None


@dataclass(frozen=True)
class RetentionQuery:
    start: date
    weeks: int


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # Walks the tz database once; it does not change while the process runs.
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _problem(name: str, detail: str, kind: str = PREDICATE) -> Problem:
    return Problem(name, QUERY_PARAM, detail, kind)


def _whole(
    values: dict[str, str], name: str, bounds: tuple[int, int], default: int, problems: list
) -> int | None:
    text = values.get(name)
    if text is None:
        return default
    low, high = bounds
    if not _DIGITS.fullmatch(text):
        problems.append(_problem(name, f"{show(text)} is not a whole number; use {low} to {high}", QUOTE))
        return None
    if not low <= int(text) <= high:
        problems.append(_problem(name, f"{int(text)} is out of range; use {low} to {high}", STATEMENT))
        return None
    return int(text)


def _in_years(moment: date) -> bool:
    return YEAR_RANGE[0] <= moment.year <= YEAR_RANGE[1]


def parse_next_runs_query(
    params: Mapping[str, Sequence[str]], *, now: datetime
) -> tuple[NextRunsQuery | None, tuple[Problem, ...]]:
    """Read ``count``, ``from`` and ``zone``; return the query or every problem (code 0013)."""
    values, problems = single_values(params, ("count", "from", "zone"))
    count = _whole(values, "count", COUNT_RANGE, DEFAULT_COUNT, problems)
    start = now
    if "from" in values:
        start = _instant(values["from"], problems)
    zone = zone_name = None
    if "zone" in values:
        zone_name = values["zone"]
        zone = _zone(zone_name, problems)
    if problems or count is None or start is None:
        return None, tuple(problems)
    return NextRunsQuery(count, start, zone, zone_name), ()


def _instant(text: str, problems: list) -> datetime | None:
    example = "use an ISO-8601 instant such as 2026-03-30T00:00:00Z"
    if not _INSTANT.fullmatch(text) and _INSTANT.fullmatch(text + "Z"):
        problems.append(
            _problem(
                "from", f"{show(text)} has no UTC offset; add 'Z' or one like '+01:00' ({example})", QUOTE
            )
        )
        return None
    try:
        if not _INSTANT.fullmatch(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        hint = " (a '+' in a URL reads as a space: write it as %2B)" if _SPACED_OFFSET.search(text) else ""
        problems.append(_problem("from", f"{show(text)} is not an instant; {example}{hint}", QUOTE))
        return None
    if moment.tzinfo is None:
        problems.append(
            _problem(
                "from", f"{show(text)} has no UTC offset; add 'Z' or one like '+01:00' ({example})", QUOTE
            )
        )
        return None
    if not _in_years(moment):
        problems.append(
            _problem("from", f"{show(text)} is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}", QUOTE)
        )
        return None
    return moment.astimezone(UTC)


def _zone(name: str, problems: list) -> ZoneInfo | None:
    names = _zone_names()
    if _ZONE_CHARS.fullmatch(name) and name in names:
        return ZoneInfo(name)
    folded = {known.lower(): known for known in names}
    match = folded.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.8)), None
    )
    hint = f"; did you mean '{match}'?" if match else ""
    problems.append(
        _problem("zone", f"{show(name)} is not an IANA time zone name such as 'Europe/Berlin'{hint}", QUOTE)
    )
    return None


def parse_retention_query(
    params: Mapping[str, Sequence[str]], *, today: date
) -> tuple[RetentionQuery | None, tuple[Problem, ...]]:
    """Read ``start`` and ``weeks``; return the query or every problem (code 0013)."""
    values, problems = single_values(params, ("start", "weeks"))
    weeks = _whole(values, "weeks", WEEKS_RANGE, DEFAULT_WEEKS, problems)
    start: date | None = today
    if "start" in values:
        text = values["start"]
        try:
            start = date.fromisoformat(text) if _DATE.fullmatch(text) else None
        except ValueError:
            start = None
        if start is None:
            problems.append(
                _problem("start", f"{show(text)} is not a date; use YYYY-MM-DD such as 2026-03-02", QUOTE)
            )
        elif not _in_years(start):
            problems.append(
                _problem(
                    "start", f"{text} is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}", STATEMENT
                )
            )
            start = None
    if problems or weeks is None or start is None:
        return None, tuple(problems)
    return RetentionQuery(start, weeks), ()


def retention_span_problems(spec: PolicySpec, weeks: int) -> tuple[Problem, ...]:
    """Refuse (0013, on ``weeks``) a span in which the policy could make more than MAX_RETENTION_BACKUPS."""
    per_week = backups_per_week_at_most(spec)
    if per_week * weeks <= MAX_RETENTION_BACKUPS:
        return ()
    most = max(1, MAX_RETENTION_BACKUPS // per_week)
    return (
        _problem(
            "weeks",
            f"{weeks} weeks of this policy hold up to {per_week * weeks} backups, and a forecast "
            f"lists at most {MAX_RETENTION_BACKUPS}; ask for at most {most} weeks",
        ),
    )
