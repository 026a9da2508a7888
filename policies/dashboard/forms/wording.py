"""The policy form's words for a problem: the box it is shown at, and what it says there.

Only the wording is the form's: whether something is wrong is always the core's answer (or a
service's). The words depend on a few things the person entered (the name typed, the times
ticked, the kind of repeat and of retention chosen, the zone's offset): :class:`Entered`. The
form shows each :func:`line_for` at its box, the preview lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.dashboard.problem_display import DASHBOARD, TAG_SUBJECTS, sentence, tags_sentence
from policies.domain import words
from policies.domain.contract import codes, limits
from policies.domain.schedule import offsets


@dataclass(frozen=True)
class Entered:
    """What the person entered that the words of a problem depend on."""

    name: str  # the name as typed
    checked_hours: tuple[int, ...]  # the UTC hours of the ticks kept, in local order
    week_days_ticked: bool  # any day of the week ticked
    schedule_kind: str | None  # "week", "daily" or "days"
    retention_kind: str | None  # "num" or "day"
    zone_offset: int  # the zone's offset in minutes (0 when it has none)
    time_zone: str | None  # the time_zone sent ("UTC+02:00"; None: none)


# The form's boxes by name: the preview names a problem's box as the form labels it.
LABELS = {
    "name": "Name",
    "time_zone": "Time zone",
    "schedule_kind": "Repeat",
    "week_days": "Days of the week",
    "frequency": f"Run every N days ({limits.FREQUENCY_RANGE[0]}–{limits.FREQUENCY_RANGE[1]})",
    "hours": "Start times",
    "retention_kind": "Retention",
    "retention_num": f"Backups to keep ({limits.RETENTION_NUM_RANGE[0]}–{limits.RETENTION_NUM_RANGE[1]})",
    "retention_day": f"Days to keep backups ({limits.RETENTION_DAY_RANGE[0]}–{limits.RETENTION_DAY_RANGE[1]})",
    "keep_first": "Also keep the first backup of each month",
    "status": "Status",
    "tags": "Tags",
}


@dataclass(frozen=True)
class Line:
    """A problem as the form shows it: at which box, under which label, in which words."""

    field: str | None  # the form field (None: the whole form; "tag_row_problems": a tag row)
    label: str
    message: str
    code: str
    row: int | None = None  # the tag row, counted among the filled ones
    part: str | None = None  # of that row: "key", "value" or None (the row as a whole)


def line_for(problem: codes.Problem, entered: Entered, tags: Sequence[tuple[str, str]]) -> Line:
    """Where and how the form shows a problem; ``tags``: the (key, value) of each filled tag row."""
    tag = codes.tag_of_path(problem.field)
    if tag and tag[0] < len(tags):
        row, part = tag
        if part == "key" and not tags[row][0]:
            said = f"Enter a key for this tag (1 to {limits.TAG_KEY_MAX} characters)."
        else:
            said = sentence(problem, TAG_SUBJECTS.get(part, TAG_SUBJECTS[None]))
        return Line("tag_row_problems", f"Tag {row + 1}", said, problem.code, row, part)
    if problem.field == "tags":
        return Line("tags", LABELS["tags"], tags_sentence(problem, len(tags)), problem.code)
    name = field_for(problem, entered)
    return Line(name, LABELS[name] if name else "Policy", message(problem, name, entered), problem.code)


def entered_from_payload(payload: Mapping[str, Any], zone_offset: int, time_zone: str | None) -> Entered:
    """What a person would have entered to send ``payload``, for a payload no form built.

    A pair with both members is read as the core reads it: ``frequency`` and ``rentention_num`` win.
    """
    scheduled = payload.get("scheduled_policy")
    scheduled = (
        {key: value for key, value in scheduled.items() if value is not None}
        if isinstance(scheduled, Mapping)
        else {}
    )
    start_time = scheduled.get("start_time")
    parts = [part.strip()[:2] for part in str(start_time or "").split(",")]
    hours = [int(part) for part in parts if part.isdigit()]
    if "frequency" in scheduled:
        kind = "daily" if scheduled["frequency"] == 1 else "days"
    else:
        kind = "week" if "week_frequency" in scheduled else "days"
    name = payload.get("backup_policy_name")
    return Entered(
        name="" if name is None else str(name),
        checked_hours=tuple(sorted(hours, key=lambda hour: offsets.local_minute(hour, zone_offset))),
        week_days_ticked=bool(scheduled.get("week_frequency")),
        schedule_kind=kind,
        retention_kind="day"
        if "rentention_day" in scheduled and "rentention_num" not in scheduled
        else "num",
        zone_offset=zone_offset,
        time_zone=time_zone,
    )


def field_for(problem: codes.Problem, entered: Entered) -> str | None:
    """Return the form field at which a (non-tag) problem is fixed (None: the whole form)."""
    name = DASHBOARD.field_for(problem)
    kind = entered.schedule_kind
    if name == "frequency" and kind != "days":
        name = "schedule_kind"
    if name in ("retention_num", "retention_day"):
        # "Neither member given" is reported at rentention_num: show it at the box in use.
        name = "retention_day" if entered.retention_kind == "day" else "retention_num"
    return name


def day_shift_words(entered: Entered) -> str:
    """Why start times that fall on two UTC days cannot repeat every (N) day(s), and what to choose."""
    offset = entered.zone_offset
    shifted = [
        f"local {offsets.format_minutes(offsets.local_minute(hour, offset))} is "
        f"{hour:02d}:00 UTC the {words.DAY_SHIFT_WORDS[offsets.utc_day_shift(hour, offset)]}"
        for hour in entered.checked_hours
        if offsets.utc_day_shift(hour, offset)
    ]
    why = f" ({'; '.join(shifted)})" if shifted else ""
    zone = entered.time_zone or "UTC"
    every = "every day" if entered.schedule_kind == "daily" else "every N days"
    days = "every day of the week" if every == "every day" else "the local days"
    return (
        f"At {zone} these start times fall on two UTC days{why}, so they cannot repeat {every}. "
        f"Choose “Days of the week” and tick {days} instead."
    )


def message(problem: codes.Problem, name: str | None, entered: Entered) -> str:
    """Say the core's (or a service's) problem in the form's words, chosen by (field, code)."""
    path, code = codes.path_without_indexes(problem.field), problem.code
    indexed = path != problem.field
    if (path, code) == ("backup_policy_name", codes.NAME_LENGTH):
        if not entered.name:
            return f"Enter a name of 1 to {limits.NAME_MAX} characters."
        return f"The name is {len(entered.name)} characters long; shorten it to {limits.NAME_MAX} at most."
    if (path, code) == ("scheduled_policy.start_time", codes.START_TIME) and not entered.checked_hours:
        return "Tick at least one start time."
    week = (path, code) == ("scheduled_policy.week_frequency", codes.FREQUENCY)
    if week and not indexed and not entered.week_days_ticked:
        return "Tick at least one day."
    if (path, code) == ("scheduled_policy.frequency", codes.TIME_ZONE):
        return day_shift_words(entered)
    if code == codes.FREQUENCY and name == "frequency":
        low, high = limits.FREQUENCY_RANGE
        return f"Enter a whole number of days from {low} to {high}."
    if code == codes.RETENTION and name == "retention_num":
        low, high = limits.RETENTION_NUM_RANGE
        return f"Enter how many backups to keep: a whole number from {low} to {high}."
    if code == codes.RETENTION and name == "retention_day":
        low, high = limits.RETENTION_DAY_RANGE
        return f"Enter for how many days to keep backups: {low} to {high}."
    return sentence(problem, DASHBOARD.subjects.get(name, "The value"))
