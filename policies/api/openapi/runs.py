"""The OpenAPI description of the volume and run operations (docs/api.md, "Volumes and runs").

Associate, disassociate, execute now, a policy's backup tasks and the project's volumes: their
bodies, their in-band results (a volume's failure is reported inside a 200) and their refusals.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from policies.domain.contract import codes
from policies.domain.contract import volumes as volume_rules

from .builders import BODY_CODES, CODE, POLICY_PATH, PROJECT_ID, UUID, components, operation, ref

_TIMESTAMP = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$",
    "description": "UTC, millisecond precision, no zone suffix.",
}
# Not blank: the API strips the ID (Python's str.strip) and refuses an empty one (AutoBackup.0209).
# Its whitespace is listed, not written \s: ECMA-262's \s (the schema's regex dialect) lacks
# U+001C-U+001F and U+0085, which strip() removes, and holds U+FEFF, which strip() keeps.
BLANK = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_RESOURCE_ID = {
    "type": "string",
    "minLength": 1,
    "pattern": rf"[^{BLANK}]",
    "description": "The volume's UUID.",
}
_FAIL_ITEM = {
    "type": "object",
    "required": ["resource_id", "code", "message"],
    "properties": {
        "resource_id": {"type": "string"},
        "resource_type": {"type": "string"},
        "code": CODE,
        "message": {"type": "string", "minLength": 1},
    },
}


def _resources(more: dict) -> dict:
    """A body's ``resources``: one or more volumes, each a ``resource_id`` and ``more``."""
    return {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["resource_id"],
            "properties": {"resource_id": _RESOURCE_ID, **more},
        },
    }


def _results(success: dict, description: str) -> dict:
    """An in-band answer: the volumes done (each with every one of ``success``) and those failed."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["success_resources", "fail_resources"],
        "properties": {
            "success_resources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(success),
                    "properties": success,
                },
            },
            "fail_resources": {"type": "array", "items": _FAIL_ITEM},
        },
        "description": description,
    }


components(
    {
        "AssociateBody": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup_policy_id", "resources"],
            "properties": {
                "backup_policy_id": {"type": "string", "minLength": 1},
                "resources": _resources(
                    {
                        "resource_type": {
                            # Any JSON value: one other than "volume" fails in-band (200).
                            "description": "`volume` (the default); another type fails in-band with "
                            "`AutoBackup.0211`.",
                        },
                    }
                ),
            },
        },
        "AssociateResult": _results(
            {
                "resource_id": UUID,
                "resource_type": {"type": "string", "enum": ["volume"]},
                "availability_zone": {"type": "string"},
                "os_vol_host_attr": {"type": "string"},
            },
            "Partial success is reported here with 200: `AutoBackup.1400` unknown "
            "volume, `AutoBackup.0206` a volume that cannot be backed up, `AutoBackup.0211` a "
            "`resource_type` other than `volume`.",
        ),
        "DisassociateBody": {
            "type": "object",
            "additionalProperties": False,
            "required": ["resources"],
            "properties": {
                "resources": _resources({}),
            },
        },
        "DisassociateResult": _results(
            {"resource_id": {"type": "string"}},
            "A volume the policy does not hold fails in-band with `AutoBackup.0208`.",
        ),
        "ExecuteBody": {
            "type": "object",
            "additionalProperties": False,
            "maxProperties": 0,
            "description": "No body, or an empty object.",
        },
        "BackupTaskList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["tasks", "count"],
            "properties": {
                "tasks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "job_id",
                            "status",
                            "created_at",
                            "backup_name",
                            "resource_id",
                            "resource_type",
                        ],
                        "properties": {
                            "job_id": UUID,
                            "status": {"type": "string", "enum": list(volume_rules.TASK_STATUSES)},
                            "created_at": _TIMESTAMP,
                            "finished_at": _TIMESTAMP,
                            "backup_name": {"type": "string", "pattern": "^autobk_[0-9a-f]+$"},
                            "resource_id": UUID,
                            "resource_type": {"type": "string", "enum": ["volume"]},
                        },
                    },
                },
                "count": {"type": "integer", "minimum": 0, "description": "Tasks matching the filters."},
            },
        },
        "VolumeList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["volumes"],
            "properties": {
                "volumes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "id",
                            "name",
                            "size",
                            "status",
                            "availability_zone",
                            "backup_policy_id",
                            "protection",
                            "last_backup_at",
                        ],
                        "properties": {
                            "id": UUID,
                            "name": {"type": "string"},
                            "size": {
                                "type": "number",
                                "minimum": 0,
                                "description": "GiB; may be fractional.",
                            },
                            "status": {"type": "string"},
                            "availability_zone": {"type": "string"},
                            "backup_policy_id": {**UUID, "nullable": True},
                            "protection": {
                                "type": "string",
                                "enum": ["protected", "at_risk", "unprotected"],
                                "description": "protected: its last good backup is no older than its "
                                "policy's longest gap between runs plus BACKUP_MISSED_RUN_GRACE_MINUTES; "
                                "at_risk: late, its latest run failed, or its newest backup failed "
                                "verification; unprotected: no policy, or its policy is OFF.",
                            },
                            "last_backup_at": {
                                "type": "string",
                                "nullable": True,
                                "description": "When its last good backup was taken (UTC), or null.",
                            },
                        },
                    },
                }
            },
        },
    }
)

RUNS = "volumes and runs"

associate = operation(
    operation_id="associateVolumes",
    summary="Associate volumes with a backup policy",
    description="Each volume is a success or a failure in-band (200). A volume in another policy "
    "of the project moves to this one; one already here is a success that changes nothing; one "
    "listed twice counts once. Past 64 volumes per policy the whole request is refused "
    "(`AutoBackup.0204`) and nothing changes.",
    tag=RUNS,
    request={"application/json": ref("AssociateBody")},
    success=(200, ref("AssociateResult"), "Each volume's outcome."),
    refusals={
        400: (
            *BODY_CODES,
            volume_rules.MISSING_POLICY_ID,
            volume_rules.NO_RESOURCES,
            volume_rules.NO_RESOURCE_ID,
            volume_rules.RESOURCE_LIMIT,
        ),
        404: (codes.POLICY_NOT_FOUND,),
    },
    parameters=[PROJECT_ID],
)

disassociate = operation(
    operation_id="disassociateVolumes",
    summary="Remove volumes from a backup policy",
    description="Each volume is a success or a failure in-band (200); a volume the policy does "
    "not hold fails with `AutoBackup.0208`.",
    tag=RUNS,
    request={"application/json": ref("DisassociateBody")},
    success=(200, ref("DisassociateResult"), "Each volume's outcome."),
    refusals={
        400: (*BODY_CODES, volume_rules.NO_RESOURCES, volume_rules.NO_RESOURCE_ID),
    },
    parameters=POLICY_PATH,
)

execute = operation(
    operation_id="executeBackupPolicy",
    summary="Run a backup policy now",
    description="Queues one backup task per volume of the policy at once, whatever its status. "
    "No body, or `{}`.",
    tag=RUNS,
    request={"application/json": ref("ExecuteBody")},
    # No body at all is the usual call: the body is optional, and `{}` alone is allowed.
    body_optional=True,
    success=(204, None, "Queued; the answer has no body."),
    refusals={
        400: (*BODY_CODES, volume_rules.NO_RESOURCES),
        409: (volume_rules.RUN_IN_PROGRESS,),
    },
    parameters=POLICY_PATH,
)

_TASK_QUERY = [
    OpenApiParameter("sort_dir", {"type": "string", "enum": ["asc", "desc"]}, OpenApiParameter.QUERY),
    OpenApiParameter("sort_key", {"type": "string", "enum": ["created_at"]}, OpenApiParameter.QUERY),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 1000},
        OpenApiParameter.QUERY,
        description="Default 20.",
    ),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, OpenApiParameter.QUERY),
    OpenApiParameter(
        "marker", UUID, OpenApiParameter.QUERY, description="A job_id: the page starts after that task."
    ),
    OpenApiParameter("job_id", UUID, OpenApiParameter.QUERY),
    OpenApiParameter(
        "status", {"type": "string", "enum": list(volume_rules.TASK_STATUSES)}, OpenApiParameter.QUERY
    ),
]

backup_tasks = operation(
    operation_id="listBackupTasks",
    summary="List a policy's backup tasks",
    description="Sorted by `created_at` (`desc` by default); `count` is the number of tasks "
    "matching `job_id` and `status`, whatever the page. A bad or unknown parameter is 400 "
    "`AutoBackup.0013`.",
    tag=RUNS,
    success=(200, ref("BackupTaskList"), "The tasks."),
    refusals={400: (codes.QUERY_PARAM,)},
    parameters=[*POLICY_PATH, *_TASK_QUERY],
)

list_volumes = operation(
    operation_id="listVolumes",
    summary="List the project's volumes",
    description="The inventory as last synced from the provider (by the worker, `manage.py "
    "sync_volumes`, or an associate naming an unknown volume). A volume whose provider no longer "
    "lists it stays, with status `deleted`.",
    tag=RUNS,
    success=(200, ref("VolumeList"), "The volumes."),
    refusals={},
    parameters=[PROJECT_ID],
)
