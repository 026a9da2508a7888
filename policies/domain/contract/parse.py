"""The request bodies of the contract: create, modify, a form's edit, and the tag routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from policies.domain.contract import check, tag_bodies
from policies.domain.contract.check import MISSING, Checked, collect
from policies.domain.contract.codes import (
    BAD_FIELD,
    BODY_EMPTY,
    FREQUENCY,
    KEEP_FIRST,
    REQUEST,
    RETENTION,
    STATEMENT,
    STATUS,
    TIME_ZONE,
    Problem,
    kind_of_shown,
    sort_problems,
)
from policies.domain.contract.limits import (
    FREQUENCY_RANGE,
    MINUTES_PER_DAY,
    RETENTION_NUM_RANGE,
    SCHEDULE_FIELDS,
    TOP_LEVEL_FIELDS,
)
from policies.domain.contract.specs import ParseResult, PolicySpec
from policies.domain.contract.values import describe, show
from policies.domain.schedule.localtimes import zone_offsets_ahead
from policies.domain.schedule.offsets import (
    format_minutes,
    format_offset,
    has_day_shift,
    local_minute,
    utc_day_shift,
)
from policies.domain.words import DAY_SHIFT_WORDS


def parse_policy(body: Any, *, now: datetime | None = None, stored_zone: bool = False) -> ParseResult:
    """Read a create request body: return the canonical spec, or every problem in contract order.

    Any value at all may be passed (whatever ``json.loads`` returned); this never raises.
    ``now`` is the time of the request, which a ``time_zone_name`` needs (its offset then).
    ``stored_zone``: the body's zone is the stored policy's (a modify that sent none), so
    ``time_zone`` is not checked against the zone's offset now.
    """
    if not isinstance(body, Mapping):
        what = "empty" if body is None else describe(body)
        return ParseResult(
            None, (Problem("body", BODY_EMPTY, f"the body must be a JSON object, not {what}", REQUEST),)
        )

    inner_names = {name: f"'scheduled_policy.{name}'" for name in SCHEDULE_FIELDS}
    problems = check.unknown_fields(body, "", TOP_LEVEL_FIELDS, inner_names)

    name = collect(problems, check.policy_name(body.get("backup_policy_name", MISSING)))
    time_zone, offset = collect(problems, check.time_zone(body.get("time_zone", MISSING)))
    sent_offset = body.get("time_zone") is not None and not stored_zone
    zone_name, time_zone, offset = collect(
        problems,
        check.time_zone_name(
            body.get("time_zone_name", MISSING),
            time_zone,
            sent_offset=sent_offset,
            now=now,
            offset_refused=offset is None,
        ),
    )
    tags = collect(problems, tag_bodies.check_tags(body.get("tags", MISSING)))

    schedule = body.get("scheduled_policy", MISSING)
    fields: dict[str, Any] = {}
    if not isinstance(schedule, Mapping):
        what = "missing" if schedule is MISSING else f"{describe(schedule)}, not an object"
        problems.append(
            Problem(
                "scheduled_policy",
                BAD_FIELD,
                f"is {what}; send an object with start_time, status, frequency or week_frequency, "
                "and rentention_num or rentention_day",
            )
        )
    else:
        problems += check.unknown_fields(
            schedule,
            "scheduled_policy",
            SCHEDULE_FIELDS,
            {"time_zone": "the top-level 'time_zone' (it goes beside scheduled_policy, not inside it)"},
        )
        fields = collect(problems, _parse_schedule(schedule, offset, time_zone))
        # The fields of a schedule are checked against the zone's changes only when all else is sound.
        if not problems and zone_name is not None and fields["frequency"] is not None and now is not None:
            problems += _zone_day_shift(fields["start_hours"], offset, zone_name, now)

    if problems or name is None or not fields:
        return ParseResult(None, tuple(sort_problems(problems)))
    spec = PolicySpec(name=name, time_zone=time_zone, tags=tags, time_zone_name=zone_name, **fields)
    return ParseResult(spec, ())


def _zone_day_shift(hours: tuple[int, ...], offset: int, zone_name: str, now: datetime) -> list[Problem]:
    """Every N days needs the local times on one UTC day at every offset the zone will take."""
    minutes = [local_minute(hour, offset) for hour in hours]
    for other in zone_offsets_ahead(zone_name, now=now)[1:]:
        moved = [((minute - other) % MINUTES_PER_DAY) // 60 for minute in minutes]
        if has_day_shift(moved, other):
            return [
                Problem(
                    "scheduled_policy.frequency",
                    TIME_ZONE,
                    f"when {zone_name} moves to {format_offset(other)} these local times fall on different "
                    "UTC days; use week_frequency with the local days instead of frequency",
                    STATEMENT,
                )
            ]
    return []


def _parse_schedule(
    schedule: Mapping[str, Any], offset: int | None, time_zone: str | None
) -> Checked[dict[str, Any]]:
    """Check the fields of ``scheduled_policy``; the fields of the spec, or ``{}`` when refused."""

    def get(key: str) -> Any:
        value = schedule.get(key, MISSING)
        return MISSING if value is None else value  # null means absent for every optional field

    problems: list[Problem] = []
    hours = collect(problems, check.start_time(schedule.get("start_time", MISSING)))
    status = collect(
        problems,
        check.choice(
            schedule.get("status", MISSING), "scheduled_policy.status", STATUS, ("ON", "OFF"), required=True
        ),
    )
    keep_first = collect(
        problems,
        check.choice(
            get("remain_first_backup_of_curMonth"),
            "scheduled_policy.remain_first_backup_of_curMonth",
            KEEP_FIRST,
            ("Y", "N"),
            required=False,
        ),
    )

    raw_frequency, raw_week = get("frequency"), get("week_frequency")
    frequency, week = collect(
        problems,
        _pair(
            (raw_frequency, raw_week),
            (
                lambda raw: check.integer(raw, "scheduled_policy.frequency", FREQUENCY, FREQUENCY_RANGE),
                check.week_frequency,
            ),
            "scheduled_policy.frequency",
            FREQUENCY,
            'is missing; give frequency (every 1 to 14 days) or week_frequency (a list of days such as ["MON", "THU"])',
        ),
    )
    retention_num, retention_day = collect(
        problems,
        _pair(
            (get("rentention_num"), get("rentention_day")),
            (
                lambda raw: check.integer(
                    raw, "scheduled_policy.rentention_num", RETENTION, RETENTION_NUM_RANGE
                ),
                check.retention_day,
            ),
            "scheduled_policy.rentention_num",
            RETENTION,
            "is missing; give rentention_num (keep 2 to 14 backups) or rentention_day (keep for 2 to 99999 days)",
        ),
    )
    if hours is not None and offset is not None:
        disorder = check.local_order(hours, offset, time_zone)
        if disorder is not None:
            problems.append(disorder)
        elif raw_frequency is not MISSING and has_day_shift(hours, offset):
            problems.append(_day_shift_problem(hours, offset, time_zone, both=raw_week is not MISSING))

    if problems or hours is None or status is None:
        return Checked({}, tuple(problems))
    # Of each pair, only the member that runs is kept (frequency and rentention_num win).
    fields = {
        "start_hours": hours,
        "status": status,
        "frequency": frequency,
        "week_frequency": None if frequency is not None else week,
        "retention_num": retention_num,
        "retention_day": None if retention_num is not None else retention_day,
        "keep_first_of_month": keep_first == "Y",
    }
    return Checked(fields)


def _pair(
    raws: tuple[Any, Any],
    readers: tuple[Callable[[Any], Checked[Any]], ...],
    path: str,
    code: str,
    detail: str,
) -> Checked[tuple[Any, Any]]:
    """Check a pair of which one member must be given (each member checked when it is)."""
    problems = [Problem(path, code, detail)] if all(raw is MISSING for raw in raws) else []
    first, second = (
        None if raw is MISSING else collect(problems, read(raw))
        for raw, read in zip(raws, readers, strict=True)
    )
    return Checked((first, second), tuple(problems))


def _day_shift_problem(hours: tuple[int, ...], offset: int, time_zone: str | None, *, both: bool) -> Problem:
    """Refuse frequency for start times that fall on two UTC days: only weekdays can say which."""
    runs = ", ".join(
        f"local {format_minutes(local_minute(h, offset))} is {h:02d}:00 UTC "
        f"the {DAY_SHIFT_WORDS[utc_day_shift(h, offset)]}"
        for h in hours
    )
    also = " (frequency wins when both are given: drop it)" if both else ""
    return Problem(
        "scheduled_policy.frequency",
        TIME_ZONE,
        f"the start times fall on different UTC days at {time_zone} ({runs}); "
        f"use week_frequency with the local days instead of frequency{also}",
        STATEMENT,
    )


# --- Modify and the tag routes (docs/api.md, "The policy lifecycle") ------------------------

# Sending one member of a pair to modify replaces the other: the stored one is dropped first.
_PAIR_OF: dict[str, str] = {
    "frequency": "week_frequency",
    "week_frequency": "frequency",
    "rentention_num": "rentention_day",
    "rentention_day": "rentention_num",
}
MODIFY_FIELDS: tuple[str, ...] = ("backup_policy_name", "scheduled_policy", "time_zone", "time_zone_name")
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
    # The zone is a pair too: a name alone takes its offset now; an offset alone removes the name.
    if body.get("time_zone_name") is not None and body.get("time_zone") is None:
        merged.pop("time_zone", None)
    if body.get("time_zone") is not None and body.get("time_zone_name") is None:
        merged.pop("time_zone_name", None)
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


def parse_policy_update(
    body: Any, current: PolicySpec, *, policy_id: str | None = None, now: datetime | None = None
) -> ParseResult:
    """Read a modify body against the stored policy: merge it, then check the whole as create.

    The result keeps ``current``'s tags: modify never changes them. ``policy_id`` is the ID of
    the path: the OpenStack CLI and the OTC SDK repeat it as ``backup_policy_id`` in every
    modify body, which is ignored when it names this policy and refused when it names another.
    """
    if not isinstance(body, Mapping) or not body:
        what = "empty" if body is None or body == {} else describe(body)
        return ParseResult(
            None,
            (
                Problem(
                    "body",
                    BODY_EMPTY,
                    f"the body must be a JSON object with the fields to change, not {what}",
                    REQUEST,
                ),
            ),
        )
    problems: list[Problem] = []
    if "tags" in body:
        problems.append(
            Problem("tags", BAD_FIELD, f"unknown field 'tags' in a modify body; {TAG_ROUTES_HINT}", REQUEST)
        )
    sent_id = body.get("backup_policy_id")
    if sent_id is not None and not _same_policy_id(sent_id, policy_id):
        problems.append(
            Problem(
                "backup_policy_id",
                BAD_FIELD,
                f"{show(sent_id)} is not the ID of the policy being modified"
                f"{f' ({policy_id})' if policy_id else ''}; leave it out, or send the ID of the path",
                kind_of_shown(sent_id),
            )
        )
    ignored = ("tags", "backup_policy_id")
    stored_zone = (body.get("time_zone") is None and body.get("time_zone_name") is None) or sends_stored_zone(
        body, current
    )
    result = parse_policy(
        merge_policy_update({k: v for k, v in body.items() if k not in ignored}, current),
        now=now,
        stored_zone=stored_zone,
    )
    if problems or not result.ok:
        return ParseResult(None, tuple(sort_problems([*problems, *result.problems])))
    return ParseResult(replace(result.spec, tags=current.tags), ())


def sends_stored_zone(body: Mapping[str, Any], current: PolicySpec) -> bool:
    """True when a body sends back the stored named zone with its stored offset, both unchanged.

    That pair is what a client reads back and what a form shows: it keeps the policy's zone as
    stored, like a body that sends neither. The stored offset may differ from the zone's offset
    now (a re-base that is due, or one made before the change it prepares for); it is the
    scheduler's re-base that moves it, never a save that changed nothing.
    """
    return (
        current.time_zone_name is not None
        and body.get("time_zone_name") == current.time_zone_name
        and body.get("time_zone") == current.time_zone
    )


def parse_status_change(status: Any, current: PolicySpec, *, now: datetime) -> ParseResult:
    """Read a switch of the status (the dashboard's toggle, the admin's actions) as the modify an
    API client sends for it, ``{"scheduled_policy": {"status": ...}}``: the same merge, the same refusals.

    ``now`` is the time of the request: a policy with a named zone is checked against its zone then.
    """
    return parse_policy_update({"scheduled_policy": {"status": status}}, current, now=now)


# A modify keeps the stored time_zone when none (or null) is sent, so a form that shows a policy
# whole sends "no time zone" as the offset that means the same: local time is UTC.
NO_TIME_ZONE = "UTC+00:00"


def parse_policy_edit(payload: Any, current: PolicySpec, *, now: datetime | None = None) -> ParseResult:
    """Read a form's complete payload (tags included) as a change of the stored policy.

    The dashboard's edit form and the admin's change form show every field, so their payload is
    checked with the create rules (an emptied field is refused, not kept), then read as a modify
    of ``current`` with the merge the API uses for a PUT. The tags are the payload's: a form
    replaces the whole list.
    """
    kept = isinstance(payload, Mapping) and sends_stored_zone(payload, current)
    created = parse_policy(payload, now=now, stored_zone=kept)
    if not created.ok:
        return created
    body = {name: value for name, value in payload.items() if name != "tags"}
    update = parse_policy_update(body, current, now=now)
    if not update.ok:
        return update
    return ParseResult(replace(update.spec, tags=created.spec.tags), ())
