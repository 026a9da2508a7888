"""The OpenAPI description of the backup routes (docs/api.md, "Backups and restore").

Described under /v2/ only: the same views answer under /volume/v3/ (the OpenStack clients' block
storage API v3), which the description leaves out (``only_v2``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from policies.domain.contract import backups as rules
from policies.domain.contract import codes

from .builders import BODY_CODES, PROJECT_ID, UUID, components, nullable, operation, ref

BACKUPS = "Backups"

_LINKS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["rel", "href"],
        "properties": {"rel": {"type": "string"}, "href": {"type": "string"}},
    },
}
# Cinder's snapshot_id: a backup here is always of a volume, never of a snapshot.
_ALWAYS_NULL = {"type": "string", "nullable": True, "enum": [None]}
_STAMP = {"type": "string", "description": "ISO 8601, UTC, no zone suffix (`2026-03-02T00:00:00.000000`)."}

components(
    {
        "BackupSummary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "name", "links"],
            "properties": {"id": UUID, "name": {"type": "string"}, "links": _LINKS},
        },
        "Backup": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "name", "status", "volume_id", "size", "links", "os-bpc:sha256"],
            "properties": {
                "id": UUID,
                "name": {"type": "string"},
                "description": {"type": "string"},
                "status": {"type": "string", "enum": list(rules.BACKUP_STATUSES)},
                "volume_id": UUID,
                "size": {"type": "integer", "minimum": 0, "description": "GiB, rounded up."},
                "object_count": {"type": "integer", "minimum": 0},
                "container": {"type": "string"},
                "availability_zone": nullable({"type": "string"}),
                "created_at": _STAMP,
                "updated_at": _STAMP,
                "data_timestamp": _STAMP,
                "fail_reason": nullable({"type": "string"}),
                "is_incremental": {"type": "boolean"},
                "has_dependent_backups": {"type": "boolean"},
                "snapshot_id": _ALWAYS_NULL,
                "links": _LINKS,
                "os-bpc:sha256": nullable({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
                "os-bpc:policy_id": nullable(UUID),
                "os-bpc:verified_at": nullable(_STAMP),
                "os-bpc:verify_status": {"type": "string", "enum": ["pending", "ok", "failed"]},
            },
        },
        "BackupSummaryList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backups"],
            "properties": {
                "backups": {"type": "array", "items": ref("BackupSummary")},
                "backups_links": _LINKS,
            },
        },
        "BackupDetailList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backups"],
            "properties": {"backups": {"type": "array", "items": ref("Backup")}, "backups_links": _LINKS},
        },
        "BackupShown": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup"],
            "properties": {"backup": ref("Backup")},
        },
        "BackupCreated": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup"],
            "properties": {"backup": ref("BackupSummary")},
        },
        "BackupCreateBody": {
            "type": "object",
            "additionalProperties": False,
            "required": ["backup"],
            "properties": {
                "backup": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["volume_id"],
                    "properties": {
                        "volume_id": UUID,
                        "name": nullable({"type": "string", "maxLength": rules.NAME_MAX}),
                        "description": nullable({"type": "string", "maxLength": rules.DESCRIPTION_MAX}),
                        "incremental": nullable({"type": "boolean", "enum": [False]}),
                        "force": nullable({"type": "boolean"}),
                        "container": nullable({"type": "string"}),
                        "snapshot_id": _ALWAYS_NULL,
                    },
                }
            },
        },
        "RestoreBody": {
            "type": "object",
            "additionalProperties": False,
            "required": ["restore"],
            "properties": {
                "restore": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "volume_id": nullable(UUID),
                        "name": nullable(
                            {
                                "type": "string",
                                "maxLength": rules.VOLUME_NAME_MAX,
                                # A plain file name: not hidden, no folder (AutoBackup.0244).
                                "pattern": r"^[^./\\\u0000][^/\\\u0000]*$",
                            }
                        ),
                    },
                }
            },
        },
        "RestoreStarted": {
            "type": "object",
            "additionalProperties": False,
            "required": ["restore"],
            "properties": {
                "restore": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["backup_id", "volume_id", "volume_name"],
                    "properties": {
                        "backup_id": UUID,
                        "volume_id": nullable(UUID),
                        "volume_name": {"type": "string"},
                    },
                }
            },
        },
    }
)

BACKUP_ID = OpenApiParameter(
    "backup_id",
    str,
    OpenApiParameter.PATH,
    description="A backup of the project; another project's, an unknown ID or one that is not a UUID "
    "is 404 `AutoBackup.0240`.",
)
_SORT_ITEM = rf"({'|'.join(rules.SORT_KEYS)})(:(asc|desc))?"
_LIST_QUERY = [
    OpenApiParameter("volume_id", UUID, OpenApiParameter.QUERY),
    OpenApiParameter(
        "status", {"type": "string", "enum": list(rules.BACKUP_STATUSES)}, OpenApiParameter.QUERY
    ),
    OpenApiParameter("name", str, OpenApiParameter.QUERY),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, OpenApiParameter.QUERY),
    OpenApiParameter(
        "marker", UUID, OpenApiParameter.QUERY, description="A backup ID: the page starts after it."
    ),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, OpenApiParameter.QUERY),
    OpenApiParameter(
        "sort",
        {"type": "string", "pattern": rf"^{_SORT_ITEM}(,{_SORT_ITEM})*$"},
        OpenApiParameter.QUERY,
        description="`key[:asc|desc]`, comma-separated; keys `created_at` (default, `desc`), `name`, "
        "`status`, `size`. Cinder's `sort_key`/`sort_dir` too.",
    ),
]
_LIST_REFUSALS = {400: (codes.QUERY_PARAM,)}

list_backups = operation(
    operation_id="listBackups",
    summary="List the project's backups (ID, name, links)",
    description="Filtered by `volume_id`, `status`, `name`; a page that stops short of the end "
    "carries `backups_links` with `rel: next`.",
    tag=BACKUPS,
    success=(200, ref("BackupSummaryList"), "The backups."),
    refusals=_LIST_REFUSALS,
    parameters=[PROJECT_ID, *_LIST_QUERY],
)
list_backup_details = operation(
    operation_id="listBackupDetails",
    summary="List the project's backups in full",
    description="As the list, each backup in full.",
    tag=BACKUPS,
    success=(200, ref("BackupDetailList"), "The backups."),
    refusals=_LIST_REFUSALS,
    parameters=[PROJECT_ID, *_LIST_QUERY],
)
create_backup = operation(
    operation_id="createBackup",
    summary="Back a volume up now",
    description="Queued on the worker; the backup is `creating`, then `available` (or `error`, "
    "with `fail_reason`).",
    tag=BACKUPS,
    request={"application/json": ref("BackupCreateBody")},
    success=(202, ref("BackupCreated"), "Queued."),
    refusals={400: BODY_CODES, 404: (codes.BACKUP_VOLUME_NOT_FOUND,), 409: (codes.VOLUME_BUSY,)},
    parameters=[PROJECT_ID],
)
show_backup = operation(
    operation_id="showBackup",
    summary="Show one backup",
    description="With its digest and verification state.",
    tag=BACKUPS,
    success=(200, ref("BackupShown"), "The backup."),
    refusals={404: (codes.BACKUP_NOT_FOUND,)},
    parameters=[PROJECT_ID, BACKUP_ID],
)
delete_backup = operation(
    operation_id="deleteBackup",
    summary="Delete one backup",
    description="The provider's copy, then the record. Refused while the backup is being made, "
    "deleted or restored. When the provider cannot delete the copy, 503: the backup stays, "
    "`error`, and can be deleted again.",
    tag=BACKUPS,
    success=(202, None, "Deleted; no body."),
    refusals={404: (codes.BACKUP_NOT_FOUND,), 409: (codes.BACKUP_BUSY,), 503: (codes.BACKUP_STORAGE,)},
    parameters=[PROJECT_ID, BACKUP_ID],
)
restore_backup = operation(
    operation_id="restoreBackup",
    summary="Restore a backup",
    description="Without `volume_id`, into a new volume named `name` (default `restore-<backup "
    "name>`); with it, over that volume. Runs on the worker; the restored bytes must have the "
    "backup's SHA-256, or the target is left as it was.",
    tag=BACKUPS,
    request={"application/json": ref("RestoreBody")},
    success=(202, ref("RestoreStarted"), "Queued."),
    refusals={
        400: (*BODY_CODES, codes.RESTORE_NAME),
        404: (codes.BACKUP_NOT_FOUND, codes.BACKUP_VOLUME_NOT_FOUND),
        409: (codes.BACKUP_BUSY, codes.VOLUME_BUSY),
    },
    parameters=[PROJECT_ID, BACKUP_ID],
)


def only_v2(endpoints):
    """PREPROCESSING_HOOKS: describe /v2/ alone (the /volume/ routes are the same views)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/v2/")]
