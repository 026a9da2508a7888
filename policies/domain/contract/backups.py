"""The backup API's rules (docs/api.md, "Backups and restore"): bodies, list queries, refusals.

Pure: what a create or restore body, or a list query, says, and the problems of one that says
it wrong. The services and the views ask here; the database questions are theirs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policies.domain.contract import codes
from policies.domain.contract.query import single_values
from policies.domain.contract.values import show
from policies.domain.contract.volumes import unknown_fields, volume_uuid

BACKUP_STATUSES = ("creating", "available", "deleting", "restoring", "error")
SORT_KEYS = ("created_at", "name", "status", "size")
LIMIT_RANGE = (1, 1000)
DEFAULT_LIMIT = 1000
# What the clients send beside the filters: accepted, and meaningless for a project's own list.
CLIENT_PARAMS = ("all_tenants", "all_projects", "project_id", "with_count")
QUERY_PARAMS = (
    "volume_id",
    "status",
    "name",
    "limit",
    "marker",
    "offset",
    "sort",
    "sort_key",
    "sort_dir",
    *CLIENT_PARAMS,
)
# Cinder's fields that the clients send (container as null, force and incremental as false): read
# and, past the first three, not used.
CREATE_FIELDS = ("volume_id", "name", "description", "incremental", "force", "container", "snapshot_id")
NAME_MAX = 64
DESCRIPTION_MAX = 255
VOLUME_NAME_MAX = 255
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class BackupQuery:
    volume_id: uuid.UUID | None = None
    status: str | None = None
    name: str | None = None
    limit: int = DEFAULT_LIMIT
    marker: uuid.UUID | None = None
    offset: int = 0
    # (key, descending) pairs, the first deciding.
    order: tuple[tuple[str, bool], ...] = (("created_at", True),)


@dataclass(frozen=True)
class CreateBody:
    volume_id: uuid.UUID
    name: str
    description: str


@dataclass(frozen=True)
class RestoreBody:
    volume_id: uuid.UUID | None
    name: str | None


def _problem(field: str, code: str, detail: str) -> codes.Problem:
    return codes.Problem(field, code, detail)


def _envelope(body, key: str, known: tuple[str, ...], problems: list) -> dict | None:
    """The object under ``key`` of a body ``{key: {...}}``, or None with its problems."""
    if not isinstance(body, Mapping):
        problems.append(
            codes.Problem(
                "body", codes.BAD_FIELD, f"the body must be a JSON object {{'{key}': {{...}}}}", codes.REQUEST
            )
        )
        return None
    problems.extend(unknown_fields(body, (key,)))
    inner = body.get(key)
    if not isinstance(inner, Mapping):
        problems.append(_problem(key, codes.BAD_FIELD, "is required and must be a JSON object"))
        return None
    problems.extend(
        codes.Problem(
            f"{key}.{p.field}", p.code, p.detail.replace(f"'{p.field}'", f"'{key}.{p.field}'"), p.kind
        )
        for p in unknown_fields(inner, known)
    )
    return inner


def _text(inner: Mapping, key: str, name: str, limit: int, problems: list) -> str | None:
    value = inner.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        problems.append(
            _problem(f"{key}.{name}", codes.BAD_FIELD, f"must be a string of at most {limit} characters")
        )
        return None
    return value


def _volume_id(inner: Mapping, key: str, problems: list, *, required: bool) -> uuid.UUID | None:
    value = inner.get("volume_id")
    if value is None:
        if required:
            problems.append(
                _problem(f"{key}.volume_id", codes.BAD_FIELD, "is required; give the ID of a volume")
            )
        return None
    found = volume_uuid(value) if isinstance(value, str) else None
    if found is None:
        problems.append(
            _problem(f"{key}.volume_id", codes.BAD_FIELD, f"{show(value)} is not a volume ID (a UUID)")
        )
    return found


def parse_create_body(body) -> tuple[CreateBody | None, list[codes.Problem]]:
    """``{"backup": {"volume_id", "name"?, "description"?}}`` (Cinder's other fields refused by name)."""
    problems: list[codes.Problem] = []
    inner = _envelope(body, "backup", CREATE_FIELDS, problems)
    if inner is None:
        return None, problems
    volume = _volume_id(inner, "backup", problems, required=True)
    name = _text(inner, "backup", "name", NAME_MAX, problems)
    description = _text(inner, "backup", "description", DESCRIPTION_MAX, problems)
    if inner.get("incremental") not in (None, False):
        problems.append(
            _problem("backup.incremental", codes.BAD_FIELD, "must be false: every backup is full")
        )
    if problems:
        return None, problems
    return CreateBody(volume, name or "", description or ""), []


def parse_restore_body(body) -> tuple[RestoreBody | None, list[codes.Problem]]:
    """``{"restore": {"volume_id"?, "name"?}}``: over that volume, or into a new one named ``name``."""
    problems: list[codes.Problem] = []
    inner = _envelope(body, "restore", ("volume_id", "name"), problems)
    if inner is None:
        return None, problems
    volume = _volume_id(inner, "restore", problems, required=False)
    name = _text(inner, "restore", "name", VOLUME_NAME_MAX, problems)
    if problems:
        return None, problems
    return RestoreBody(volume, name), []


def new_volume_name_problem(name: str) -> codes.Problem | None:
    """A new volume's name must be a plain file name: no '/', not hidden, not empty, not too long."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        return codes.Problem(
            "restore.name",
            codes.RESTORE_NAME,
            f"{show(name)} cannot name a new volume; give a plain name without '/' that does not start with '.'",
            codes.QUOTE,
        )
    # A file name holds 255 bytes, and a letter outside ASCII takes two to four of them.
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > VOLUME_NAME_MAX:
        return codes.Problem(
            "restore.name",
            codes.RESTORE_NAME,
            f"the new volume's name takes {size} bytes; give one of at most {VOLUME_NAME_MAX} "
            "(a letter outside A-Z takes 2 to 4)",
            codes.STATEMENT,
        )
    return None


def default_volume_name(backup_name: str) -> str:
    return f"restore-{backup_name}"


def _whole(values: dict, name: str, default: int, problems: list, low: int, high: int) -> int:
    text = values.get(name)
    if text is None:
        return default
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        problems.append(
            _problem(name, codes.QUERY_PARAM, f"{show(text)} is not a whole number from {low} to {high}")
        )
        return default
    return int(text)


def _sort(values: dict, problems: list) -> tuple[tuple[str, bool], ...]:
    """``sort=key[:dir][,key[:dir]]``, or Cinder's ``sort_key``/``sort_dir``."""
    if "sort" in values:
        pairs = [part.partition(":") for part in values["sort"].split(",")]
        given = [(key.strip(), direction.strip() or "desc") for key, _, direction in pairs]
    else:
        given = [(values.get("sort_key", "created_at"), values.get("sort_dir", "desc"))]
    order = []
    for key, direction in given:
        if key not in SORT_KEYS:
            problems.append(
                _problem("sort", codes.QUERY_PARAM, f"{show(key)} is not one of {', '.join(SORT_KEYS)}")
            )
        elif direction not in ("asc", "desc"):
            problems.append(_problem("sort", codes.QUERY_PARAM, f"{show(direction)} is not asc or desc"))
        else:
            order.append((key, direction == "desc"))
    return tuple(order)


def parse_list_query(params: Mapping[str, Sequence[str]]) -> tuple[BackupQuery | None, list[codes.Problem]]:
    """Read the query string of the backup lists (every parameter at most once)."""
    values, problems = single_values(params, QUERY_PARAMS)
    ids = {}
    for name in ("volume_id", "marker"):
        if name in values:
            ids[name] = volume_uuid(values[name])
            if ids[name] is None:
                problems.append(
                    _problem(name, codes.QUERY_PARAM, f"{show(values[name])} is not an ID (a UUID)")
                )
    status = values.get("status")
    if status is not None and status not in BACKUP_STATUSES:
        problems.append(
            _problem(
                "status", codes.QUERY_PARAM, f"{show(status)} is not one of {', '.join(BACKUP_STATUSES)}"
            )
        )
    low, high = LIMIT_RANGE
    limit = _whole(values, "limit", DEFAULT_LIMIT, problems, low, high)
    offset = _whole(values, "offset", 0, problems, 0, 10**9)
    order = _sort(values, problems)
    if problems:
        return None, problems
    return (
        BackupQuery(
            volume_id=ids.get("volume_id"),
            status=status,
            name=values.get("name"),
            limit=limit,
            marker=ids.get("marker"),
            offset=offset,
            order=order,
        ),
        [],
    )


def backup_not_found_problem(backup_id: object) -> codes.Problem:
    shown = str(backup_id) if len(str(backup_id)) <= 64 else str(backup_id)[:63] + "…"
    return codes.Problem(
        "backup_id",
        codes.BACKUP_NOT_FOUND,
        f"the project has no backup {shown!r}; list the project's backups for their IDs",
        codes.STATEMENT,
    )


def volume_not_found_problem(field: str, volume_id: object) -> codes.Problem:
    return codes.Problem(
        field,
        codes.BACKUP_VOLUME_NOT_FOUND,
        f"the project has no volume {str(volume_id)!r}; list its volumes",
        codes.STATEMENT,
    )


def backup_busy_problem(name: str, status: str, doing: str) -> codes.Problem:
    return codes.Problem(
        "backup_id",
        codes.BACKUP_BUSY,
        f"backup {name!r} is {status}: it cannot be {doing} until that finishes; try again later",
        codes.REQUEST,
    )


def backup_storage_problem(name: str, reason: str) -> codes.Problem:
    return codes.Problem(
        "backup_id",
        codes.BACKUP_STORAGE,
        f"backup {name!r} could not be deleted from its storage ({reason}); it is kept, in status "
        "error, and can be deleted again",
        codes.REQUEST,
    )


def volume_busy_problem(
    name: str, what: str, *, field: str = "restore.volume_id", doing: str = "restored over"
) -> codes.Problem:
    return codes.Problem(
        field,
        codes.VOLUME_BUSY,
        f"volume {name!r} is being {what}: it cannot be {doing} until that finishes; try again later",
        codes.REQUEST,
    )


def volume_state_problem(field: str, name: str, status: str) -> codes.Problem:
    return codes.Problem(
        field,
        codes.VOLUME_BUSY,
        f"volume {name!r} is {status}: only an available or in-use volume is backed up or restored over",
        codes.REQUEST,
    )


def new_volume_name_taken_problem(name: str) -> codes.Problem:
    return codes.Problem(
        "restore.name",
        codes.RESTORE_NAME,
        f"the project already has a volume named {name!r}; give another name, or restore over that volume",
        codes.STATEMENT,
    )


def marker_problem(marker: uuid.UUID | None) -> codes.Problem:
    return _problem("marker", codes.QUERY_PARAM, f"the project has no backup {str(marker)!r} to start after")
