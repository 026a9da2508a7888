"""The OpenAPI description of the policy operations: list, create, modify (enable, disable), delete.

The create and modify bodies with the contract's spellings, ranges, patterns and enums, and what
the list answers (a policy as stored). The API refuses any body these schemas forbid with a 400
in the envelope; the rules a schema cannot state are in the descriptions (docs/api.md, "OpenAPI").
"""

from __future__ import annotations

from policies.domain.contract import codes, limits

from .builders import (
    NAME,
    POLICY_BODY_CODES,
    POLICY_PATH,
    PROJECT_ID,
    components,
    integer_in,
    nullable,
    operation,
    ref,
)

_HOUR = r"(?:[01][0-9]|2[0-3]):00"
_SPACE = r"[ \t\r\n]*"
START_TIME = rf"^{_SPACE}{_HOUR}{_SPACE}(?:,{_SPACE}{_HOUR}{_SPACE})*$"
TIME_ZONE = r"^UTC(?:\+(?:(?:0[0-9]|1[0-3]):(?:00|30|45)|14:00)|-(?:(?:0[0-9]|1[01]):(?:00|30|45)|12:00))$"


def _policy_name(*, optional: bool = False) -> dict:
    schema = {
        "type": "string",
        "minLength": 1,
        "maxLength": limits.NAME_MAX,
        "pattern": NAME,
        "not": {"pattern": "^[Dd][Ee][Ff][Aa][Uu][Ll][Tt]"},
        "description": "1-64 of `A-Z a-z 0-9 _ -`; must not start with `default` in any case; unique "
        "in the project, ignoring case (else 409 `AutoBackup.0230`).",
        "example": "policy_01",
    }
    return nullable(schema) if optional else schema


_SCHEDULE_FIELDS: dict[str, dict] = {
    "start_time": {
        "type": "string",
        "pattern": START_TIME,
        "description": "UTC full hours `HH:00`, comma-separated, each once, listed in ascending "
        "**local** time (the `time_zone`'s). Spaces around a time are removed.",
        # One UTC day in ascending local order at time_zone's example (UTC+08:00), so that a body
        # made of the examples is accepted with `frequency` as with `week_frequency`.
        "example": "00:00,12:00",
    },
    "frequency": integer_in(
        limits.FREQUENCY_RANGE,
        description="Run every N days (a JSON integer: `2.0` is refused). Wins over "
        "`week_frequency`; refused with `AutoBackup.0226` when the start times fall on different "
        "UTC days (a day shift).",
    ),
    "week_frequency": {
        "type": "array",
        "minItems": 1,
        "maxItems": len(limits.WEEKDAYS),
        "uniqueItems": True,
        "items": {"type": "string", "enum": list(limits.WEEKDAYS)},
        "description": "The **local** weekdays to run on; stored in week order SUN ... SAT.",
    },
    "rentention_num": integer_in(
        limits.RETENTION_NUM_RANGE,
        description="Backups kept (a JSON integer). Wins over `rentention_day`. The misspelling "
        "is the contract's.",
    ),
    "rentention_day": {
        "type": "number",
        "minimum": limits.RETENTION_DAY_RANGE[0],
        "maximum": limits.RETENTION_DAY_RANGE[1] + 1,
        "exclusiveMaximum": True,
        "description": "Days backups are kept, 2-99999; a fraction is rounded down first (`30.9` "
        "is stored as 30, `1.5` is refused). The misspelling is the contract's.",
    },
    "remain_first_backup_of_curMonth": {
        "type": "string",
        "enum": ["Y", "N"],
        "description": "Keep the first backup of each month. Absent means `N`.",
    },
    "status": {"type": "string", "enum": ["ON", "OFF"]},
}
_REQUIRED_SCHEDULE_FIELDS = ("start_time", "status")


def _schedule_fields(*, modify: bool) -> dict[str, dict]:
    """The fields of ``scheduled_policy``: ``null`` means absent (create) or keep (modify)."""
    return {
        name: schema if name in _REQUIRED_SCHEDULE_FIELDS and not modify else nullable(schema)
        for name, schema in _SCHEDULE_FIELDS.items()
    }


_PAIRS = (("frequency", "week_frequency"), ("rentention_num", "rentention_day"))


def _absent(schema: dict) -> dict:
    # The member of a pair not in use: absent, or null (which means absent).
    return {"type": schema["type"], "nullable": True, "enum": [None]}


def _scheduled_policy_variants() -> list[dict]:
    """One complete object schema per way of filling both pairs: at least one member of each.

    Flat variants rather than ``allOf`` of ``anyOf``: a generator that merges the latter can
    produce ``{"frequency": null, "week_frequency": null}``, which the API refuses.
    """
    fields = _schedule_fields(modify=False)
    variants = []
    for first in ((0,), (1,), (0, 1)):
        for second in ((0,), (1,), (0, 1)):
            used = [_PAIRS[0][i] for i in first] + [_PAIRS[1][i] for i in second]
            properties = {
                name: {k: v for k, v in schema.items() if k != "nullable"}
                if name in used
                else (_absent(schema) if name in _PAIRS[0] + _PAIRS[1] else schema)
                for name, schema in fields.items()
            }
            variants.append(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [*_REQUIRED_SCHEDULE_FIELDS, *used],
                    "properties": properties,
                }
            )
    return variants


TIME_ZONE_SCHEMA = {
    "type": "string",
    "pattern": TIME_ZONE,
    "description": "The offset of the local time, `UTC+HH:mm` or `UTC-HH:mm`, from UTC-12:00 to "
    "UTC+14:00, minutes 00, 30 or 45. `UTC-00:00` is stored as `UTC+00:00`. Absent: UTC.",
    "example": "UTC+08:00",
}
TIME_ZONE_NAME_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "Our extension: an IANA zone of the server's tz database (`Europe/Berlin`). The "
    "policy keeps its local times there: when the zone's offset changes, the scheduler re-bases "
    "`time_zone` and `start_time` before the first run the change would move (an audited change, "
    "entrance `scheduler`). Without `time_zone`, the zone's offset at the time of the request is "
    "stored; with it, both must agree then. Sending `time_zone` alone removes the name. Unknown, "
    "or a zone that moves its clocks by part of an hour (`Australia/Lord_Howe`): `AutoBackup.0226`.",
    # At UTC+08:00 all year, as time_zone's example: a body built from the examples agrees.
    "example": "Asia/Shanghai",
}

components(
    {
        "ScheduledPolicy": {
            # Only the variants: shared top-level properties (nullable pair members) would let a
            # generator that reads them alone build a create with no member of a pair.
            "type": "object",
            "anyOf": _scheduled_policy_variants(),
            "description": "One of `frequency`/`week_frequency` and one of `rentention_num`/"
            "`rentention_day` is required; when both members are sent both are checked, "
            "`frequency` and `rentention_num` win, and only the winner is stored. `null` for an "
            "optional field means absent.",
        },
        "BackupPolicyCreate": {
            "type": "object",
            # The founding document's example: local weekdays, a time zone, a tag.
            "example": {
                "backup_policy_name": "policy_01",
                "scheduled_policy": {
                    "remain_first_backup_of_curMonth": "Y",
                    "rentention_day": 30,
                    "week_frequency": ["SUN", "WED"],
                    "start_time": "12:00",
                    "status": "ON",
                },
                "tags": [{"key": "key", "value": "value"}],
                "time_zone": "UTC+08:00",
            },
            "additionalProperties": False,
            "required": ["backup_policy_name", "scheduled_policy"],
            "properties": {
                "backup_policy_name": _policy_name(),
                "scheduled_policy": ref("ScheduledPolicy"),
                "tags": nullable(
                    {
                        "type": "array",
                        "maxItems": limits.MAX_TAGS,
                        "items": ref("Tag"),
                        "description": "At most 10 tags with distinct keys.",
                    }
                ),
                "time_zone": nullable(TIME_ZONE_SCHEMA),
                "time_zone_name": nullable(TIME_ZONE_NAME_SCHEMA),
            },
            "description": "The create body. Unknown fields are refused (`AutoBackup.0001`), at the "
            "top level and in `scheduled_policy`.",
        },
        "ScheduledPolicyUpdate": {
            "type": "object",
            "additionalProperties": False,
            "properties": _schedule_fields(modify=True),
            "description": "The fields to change. An absent or `null` field keeps its stored value; "
            "sending one member of a pair replaces the other (`week_frequency` switches a policy "
            "from `frequency` to weekdays).",
        },
        "BackupPolicyUpdate": {
            "example": {"scheduled_policy": {"status": "OFF"}},
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "backup_policy_id": nullable(
                    {
                        "type": "string",
                        "format": "uuid",
                        "description": "The OpenStack CLI and the OTC SDK repeat the path's ID here: "
                        "ignored when it is the path's `policy_id`, refused (`AutoBackup.0001`) otherwise.",
                    }
                ),
                "backup_policy_name": _policy_name(optional=True),
                "scheduled_policy": nullable(ref("ScheduledPolicyUpdate")),
                "time_zone": nullable(TIME_ZONE_SCHEMA),
                "time_zone_name": nullable(TIME_ZONE_NAME_SCHEMA),
            },
            "description": "The modify body: the create fields, all optional, without `tags` (use the "
            "tag routes). The stored policy merged with the body must satisfy every create rule "
            "(local order, day shift, unique name). `null` keeps the stored value, so `time_zone` "
            "cannot be removed: send `UTC+00:00`. `{}` is refused with `AutoBackup.0000`.",
        },
        "BackupPolicyId": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup_policy_id"],
            "properties": {"backup_policy_id": {"type": "string", "format": "uuid"}},
        },
        "StoredScheduledPolicy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start_time", "remain_first_backup_of_curMonth", "status"],
            "properties": {
                "start_time": {"type": "string", "pattern": rf"^{_HOUR}(?:,{_HOUR})*$"},
                "frequency": _SCHEDULE_FIELDS["frequency"],
                "week_frequency": _SCHEDULE_FIELDS["week_frequency"],
                "rentention_num": _SCHEDULE_FIELDS["rentention_num"],
                "rentention_day": integer_in(limits.RETENTION_DAY_RANGE),
                "remain_first_backup_of_curMonth": {"type": "string", "enum": ["Y", "N"]},
                "status": {"type": "string", "enum": ["ON", "OFF"]},
            },
            "allOf": [
                {"oneOf": [{"required": ["frequency"]}, {"required": ["week_frequency"]}]},
                {"oneOf": [{"required": ["rentention_num"]}, {"required": ["rentention_day"]}]},
            ],
            "description": "What is stored: exactly one member of each pair, the one that runs.",
        },
        "BackupPolicy": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "backup_policy_id",
                "backup_policy_name",
                "scheduled_policy",
                "tags",
                "policy_resource_count",
            ],
            "properties": {
                "backup_policy_id": {"type": "string", "format": "uuid"},
                "backup_policy_name": {"type": "string", "minLength": 1, "maxLength": limits.NAME_MAX},
                "scheduled_policy": ref("StoredScheduledPolicy"),
                "time_zone": {**TIME_ZONE_SCHEMA, "description": "Present only when the policy has one."},
                "time_zone_name": {
                    **TIME_ZONE_NAME_SCHEMA,
                    "description": "Present only when the policy has a named zone (our extension).",
                },
                "tags": {"type": "array", "maxItems": limits.MAX_TAGS, "items": ref("Tag")},
                "policy_resource_count": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 64,
                    "description": "The number of volumes associated with the policy.",
                },
            },
        },
        "BackupPolicyList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup_policies"],
            "properties": {
                "backup_policies": {
                    "type": "array",
                    "maxItems": limits.MAX_POLICIES_PER_TENANT,
                    "items": ref("BackupPolicy"),
                    "description": "In creation order.",
                }
            },
        },
    }
)

POLICIES = "backup policies"

list_policies = operation(
    operation_id="listBackupPolicies",
    summary="List the project's backup policies",
    description="Every policy of the project, in creation order, as stored: `scheduled_policy` "
    "holds only the member of each pair in use; `time_zone` is present only when set.",
    tag=POLICIES,
    success=(200, ref("BackupPolicyList"), "The policies."),
    refusals={},
    parameters=[PROJECT_ID],
)

create_policy = operation(
    operation_id="createBackupPolicy",
    summary="Create a backup policy",
    description="Creates a policy from the body. Success is 200, not 201. A "
    "refused request writes nothing. When a body has several problems, `details` lists them "
    "all and the first in the contract's order decides `code`.",
    tag=POLICIES,
    request={"application/json": ref("BackupPolicyCreate")},
    success=(200, ref("BackupPolicyId"), "Created: the new policy's ID."),
    refusals={
        400: (
            *POLICY_BODY_CODES,
            codes.TAG,
            codes.TAG_COUNT,
            codes.TIME_ZONE,
            codes.QUOTA,
        ),
        409: (codes.NAME_TAKEN,),
    },
    parameters=[PROJECT_ID],
)

modify_policy = operation(
    operation_id="updateBackupPolicy",
    summary="Modify a backup policy (also: enable or disable it)",
    description="Merges the body into the stored policy, then checks the whole with the create "
    "rules. Absent or `null` fields keep their stored values; one member of a pair replaces the "
    'other. Enable or disable with `{"scheduled_policy": {"status": "ON"}}` (or `"OFF"`). Tags '
    "are not changed here. A body that changes nothing answers 200 and writes nothing.",
    tag=POLICIES,
    request={"application/json": ref("BackupPolicyUpdate")},
    success=(200, ref("BackupPolicyId"), "Changed (or nothing to change): the policy's ID."),
    refusals={
        400: (*POLICY_BODY_CODES, codes.TIME_ZONE),
        409: (codes.NAME_TAKEN,),
    },
    parameters=POLICY_PATH,
)

delete_policy = operation(
    operation_id="deleteBackupPolicy",
    summary="Delete a backup policy",
    description="Deletes the policy and its tags. No body is needed; one sent is ignored.",
    tag=POLICIES,
    success=(204, None, "Deleted; the answer has no body."),
    refusals={},
    parameters=POLICY_PATH,
)
