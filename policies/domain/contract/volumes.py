"""The contract rules of volumes and runs (docs/api.md, "Volumes and runs"): bodies, queries and codes.

Pure Python like the rest of :mod:`policies.domain` (no Django, no clock): the API reads bodies and query
strings through these functions and shows their problems; the services apply the rules that
need the database (the 64-volume cap, a run in progress).
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policies.domain.contract import codes
from policies.domain.contract.query import single_values
from policies.domain.contract.values import field_name_shown, show

MISSING_POLICY_ID = "AutoBackup.0006"
RESOURCE_LIMIT = "AutoBackup.0204"
VOLUME_STATE = "AutoBackup.0206"
NO_RESOURCES = "AutoBackup.0207"
NOT_IN_POLICY = "AutoBackup.0208"  # ours: disassociating a volume the policy does not hold
NO_RESOURCE_ID = "AutoBackup.0209"
RESOURCE_TYPE = "AutoBackup.0211"
RUN_IN_PROGRESS = "AutoBackup.0225"
UNKNOWN_VOLUME = "AutoBackup.1400"
QUERY_PARAM = codes.QUERY_PARAM

MAX_VOLUMES_PER_POLICY = 64
RESOURCE_TYPE_VOLUME = "volume"

TASK_STATUSES = ("WAITING", "RUNNING", "EXECUTE_SUCCESS", "EXECUTE_FAIL", "EXECUTE_TIMEOUT", "SKIP")
TASK_LIMIT_RANGE = (1, 1000)
TASK_DEFAULT_LIMIT = 20
TASK_QUERY_PARAMS = ("sort_dir", "sort_key", "limit", "offset", "marker", "job_id", "status")

_DIGITS = re.compile(r"[0-9]{1,10}")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def volume_uuid(text: str) -> uuid.UUID | None:
    """Return the UUID a resource_id names, or None for anything else."""
    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return None


@dataclass(frozen=True)
class ResourceItem:
    resource_id: str
    resource_type: str


@dataclass(frozen=True)
class ItemFailure:
    resource_id: str
    resource_type: str
    code: str
    message: str

    def as_dict(self, *, with_type: bool = True) -> dict[str, str]:
        body = {"resource_id": self.resource_id}
        if with_type:
            body["resource_type"] = self.resource_type
        body.update(code=self.code, message=self.message)
        return body


def unknown_fields(body: Mapping, known: tuple[str, ...]) -> list[codes.Problem]:
    problems = []
    for name in body:
        if name not in known:
            match = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            if match:
                hint = f"; did you mean '{match[0]}'?"
            else:
                hint = f"; the fields are {', '.join(known)}" if known else "; this request takes no fields"
            shown = field_name_shown(name)  # a client's name, escaped: a lone surrogate cannot be echoed raw
            # A detail that names its own subject (REQUEST): the message does not repeat the field.
            problems.append(
                codes.Problem(shown, codes.BAD_FIELD, f"unknown field '{shown}'{hint}", codes.REQUEST)
            )
    return problems


def _resources(body: Mapping, problems: list, *, need_type: bool) -> list[ResourceItem]:
    resources = body.get("resources")
    if not isinstance(resources, list) or not resources:
        problems.append(
            codes.Problem(
                "resources",
                NO_RESOURCES,
                'give a non-empty list of volumes, [{"resource_id": "<volume uuid>"'
                + (', "resource_type": "volume"' if need_type else "")
                + "}]",
            )
        )
        return []
    items, seen = [], set()
    for index, item in enumerate(resources):
        where = f"resources[{index}].resource_id"
        rid = item.get("resource_id") if isinstance(item, dict) else None
        if not isinstance(rid, str) or not rid.strip():
            problems.append(
                codes.Problem(where, NO_RESOURCE_ID, "each item needs the volume's UUID as a string")
            )
            continue
        rtype = item.get("resource_type", RESOURCE_TYPE_VOLUME)
        if not _encodable(rid):
            # A lone surrogate is valid JSON but no UUID and no UTF-8: it could not be echoed back.
            problems.append(
                codes.Problem(
                    where,
                    NO_RESOURCE_ID,
                    f"'{field_name_shown(rid)}' is not a volume's UUID; each item needs the volume's UUID as a string",
                )
            )
            continue
        if isinstance(rtype, str) and not _encodable(rtype):
            problems.append(
                codes.Problem(
                    f"resources[{index}].resource_type",
                    RESOURCE_TYPE,
                    f"'{field_name_shown(rtype)}' is not a resource type; the only one is '{RESOURCE_TYPE_VOLUME}'",
                )
            )
            continue
        # A volume listed twice counts once (the first mention decides its type).
        parsed = volume_uuid(rid.strip())
        key = str(parsed) if parsed else rid.strip()
        if key in seen:
            continue
        seen.add(key)
        items.append(ResourceItem(key, rtype if isinstance(rtype, str) else repr(rtype)))
    return items


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_associate_body(body) -> tuple[str | None, list[ResourceItem], list[codes.Problem]]:
    """Read ``{"backup_policy_id", "resources": [{"resource_id", "resource_type"}]}``."""
    if not isinstance(body, dict):
        return None, [], [codes.Problem("body", codes.BODY_EMPTY, "the body must be a JSON object")]
    problems = unknown_fields(body, ("backup_policy_id", "resources"))
    policy_id = body.get("backup_policy_id")
    if not isinstance(policy_id, str) or not policy_id:
        problems.append(
            codes.Problem(
                "backup_policy_id",
                MISSING_POLICY_ID,
                "give the ID of the policy to associate the volumes with",
            )
        )
        policy_id = None
    items = _resources(body, problems, need_type=True)
    return policy_id, items, problems


def parse_disassociate_body(body) -> tuple[list[ResourceItem], list[codes.Problem]]:
    """Read ``{"resources": [{"resource_id"}]}``."""
    if not isinstance(body, dict):
        return [], [codes.Problem("body", codes.BODY_EMPTY, "the body must be a JSON object")]
    problems = unknown_fields(body, ("resources",))
    return _resources(body, problems, need_type=False), problems


def item_failure(item: ResourceItem) -> ItemFailure | None:
    """Return why an associate item fails before any volume is looked up (its type), or None."""
    if item.resource_type != RESOURCE_TYPE_VOLUME:
        return ItemFailure(
            item.resource_id,
            item.resource_type,
            RESOURCE_TYPE,
            f"resource_type {show(item.resource_type)} is not supported; only 'volume' is",
        )
    return None


def unknown_volume(item: ResourceItem) -> ItemFailure:
    return ItemFailure(
        item.resource_id,
        item.resource_type,
        UNKNOWN_VOLUME,
        f"the project has no volume {show(item.resource_id)}; list GET /v2/{{project_id}}/volumes for the IDs",
    )


def volume_state(item: ResourceItem, status: str) -> ItemFailure:
    return ItemFailure(
        item.resource_id,
        item.resource_type,
        VOLUME_STATE,
        f"the volume is {status!r}: only an available or in-use volume can be backed up",
    )


def not_in_policy(item: ResourceItem) -> ItemFailure:
    return ItemFailure(
        item.resource_id, item.resource_type, NOT_IN_POLICY, "the volume is not associated with this policy"
    )


def resource_limit_problem(count: int) -> codes.Problem:
    return codes.Problem(
        "resources",
        RESOURCE_LIMIT,
        f"the policy would hold {count} volumes; a policy holds at most "
        f"{MAX_VOLUMES_PER_POLICY}: remove some first or use another policy",
    )


def no_volumes_problem() -> codes.Problem:
    return codes.Problem(
        "policy_id",
        NO_RESOURCES,
        "the policy has no volumes to back up; associate volumes first "
        "(POST /v2/{project_id}/backuppolicyresources)",
    )


def run_in_progress_problem() -> codes.Problem:
    return codes.Problem(
        "policy_id",
        RUN_IN_PROGRESS,
        "a run of this policy is still executing (tasks WAITING or RUNNING); wait until it ends "
        "(GET .../backuptasks)",
    )


# --- The backup tasks query ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskQuery:
    descending: bool = True
    limit: int = TASK_DEFAULT_LIMIT
    offset: int = 0
    marker: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    status: str | None = None


def _query_problem(name: str, message: str) -> codes.Problem:
    return codes.Problem(name, QUERY_PARAM, message)


def parse_task_query(params: Mapping[str, Sequence[str]]) -> tuple[TaskQuery | None, list[codes.Problem]]:
    """Read the query string of GET .../backuptasks (every parameter at most once)."""
    values, problems = single_values(params, TASK_QUERY_PARAMS)
    sort_dir = values.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        problems.append(_query_problem("sort_dir", f"{show(sort_dir)} is not asc or desc"))
    sort_key = values.get("sort_key", "created_at")
    if sort_key != "created_at":
        problems.append(_query_problem("sort_key", f"{show(sort_key)}: tasks sort only by created_at"))
    low, high = TASK_LIMIT_RANGE
    limit = _whole(values, "limit", TASK_DEFAULT_LIMIT, problems, low, high)
    offset = _whole(values, "offset", 0, problems, 0, 10**9)
    ids = {}
    for name in ("marker", "job_id"):
        if name in values:
            # The canonical form only (what the API answers as job_id), as the OpenAPI format says.
            ids[name] = volume_uuid(values[name]) if _CANONICAL_UUID.fullmatch(values[name]) else None
            if ids[name] is None:
                problems.append(_query_problem(name, f"{show(values[name])} is not a job_id (a UUID)"))
    status = values.get("status")
    if status is not None and status not in TASK_STATUSES:
        problems.append(_query_problem("status", f"{show(status)} is not one of {', '.join(TASK_STATUSES)}"))
    if problems:
        return None, problems
    return (
        TaskQuery(
            descending=sort_dir == "desc",
            limit=limit,
            offset=offset,
            marker=ids.get("marker"),
            job_id=ids.get("job_id"),
            status=status,
        ),
        [],
    )


def _whole(values: dict, name: str, default: int, problems: list, low: int, high: int) -> int:
    text = values.get(name)
    if text is None:
        return default
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        problems.append(_query_problem(name, f"{show(text)} is not a whole number from {low} to {high}"))
        return default
    return int(text)


def marker_problem(marker: uuid.UUID) -> codes.Problem:
    return _query_problem("marker", f"'{marker}' is not a job_id of this policy's tasks")
