"""The one builder of the OpenAPI description: components, codes, the error envelope, operations.

Every part of the description (``policies``, ``tags``, ``forecasts``, ``runs``) registers its
bodies with :func:`components` and describes each operation with :func:`operation`, which adds
the refusals every operation has and one error schema per refusal status naming the codes it
can carry. Nothing here parses or checks a request: the views read bodies with the core.
"""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from policies.domain.contract import codes
from policies.domain.contract import volumes as volume_rules

from .. import errors

# --- The codes -------------------------------------------------------------------------------

# Every code the API answers, with what it means: listed in the generic `Error` and under each
# refusal of each operation.
CODES: dict[str, str] = {
    codes.BODY_EMPTY: "the body is empty, or JSON that is not an object (for modify and the tag routes also `{}`)",
    codes.BAD_FIELD: "an unknown field (the message suggests the known one); `scheduled_policy` missing or not an object; `tags` in a modify body, or a `backup_policy_id` that is not the path's; in a tag query, a bad `matches`, `limit` or `offset`",
    codes.NO_TOKEN: "no `X-Auth-Token` header, or an empty one",
    codes.BAD_TOKEN: "the token is unknown, revoked or expired, or its user is deactivated",
    errors.NOT_FOUND: "no route matches the path (a trailing slash; a path parameter holding `/`)",
    errors.METHOD_NOT_ALLOWED: "the path does not serve this method",
    errors.NOT_ACCEPTABLE: "`Accept` excludes `application/json`",
    errors.UNSUPPORTED_MEDIA_TYPE: "a body whose `Content-Type` is not JSON",
    codes.BAD_JSON: "the body is not valid JSON (`NaN`, `Infinity`, not UTF-8, a key given twice)",
    codes.SERVER_ERROR: "an unexpected server error (a generic message)",
    errors.SERVICE_UNAVAILABLE: "the database cannot be reached or written right now; nothing was written; retry after `Retry-After` seconds",
    errors.BODY_TOO_LARGE: "a body larger than the server's limit (64 KiB by default)",
    errors.BAD_REQUEST: "refused before the API saw it (a `Host` the server does not serve, a malformed request)",
    errors.HTTPS_REQUIRED: "plain HTTP to a deployment that serves the API over HTTPS only (never redirected)",
    codes.QUERY_PARAM: "a query parameter of a forecast route is invalid or unknown",
    codes.NAME_LENGTH: "`backup_policy_name` missing, not a string, or not 1-64 characters",
    codes.NAME_CHARS: "`backup_policy_name` has a character outside `A-Z a-z 0-9 _ -`, or starts with `default` (any case)",
    codes.START_TIME: "`start_time` missing, malformed, not a full hour, repeated, or not ascending in local time",
    codes.STATUS: "`status` missing or not `ON`/`OFF`",
    codes.KEEP_FIRST: "`remain_first_backup_of_curMonth` not `Y`/`N`",
    codes.FREQUENCY: "`frequency`/`week_frequency` invalid, or neither given",
    codes.RETENTION: "`rentention_num`/`rentention_day` invalid, or neither given",
    codes.QUOTA: "the project already holds 10 policies",
    codes.NAME_TAKEN: "the name is already used by another policy of the project (ignoring case)",
    codes.POLICY_NOT_FOUND: "the project has no policy with this ID (another project's, a deleted one, or not a UUID)",
    codes.FORBIDDEN_PROJECT: "the project is not one of the token's projects (whether or not it exists)",
    codes.TAG: "a tag is invalid (shape, key, value, a repeated key); in a tag query, a tag list that is empty, too long or malformed",
    codes.TAG_COUNT: "the policy would have more than 10 tags",
    codes.TAG_NOT_FOUND: "the policy has no tag with this key",
    codes.TAG_ACTION: "`action` missing or not one the route serves (`create`, `update`, `delete`; for a tag query `filter`, `count`)",
    codes.TIME_ZONE: "`time_zone` invalid; `time_zone_name` unknown, moving its clocks by part of an hour, "
    "or disagreeing with `time_zone`; or start times on different UTC days with `frequency` (a day "
    "shift, also at any offset the named zone takes in the next 366 days)",
    volume_rules.MISSING_POLICY_ID: "`backup_policy_id` missing or not a string",
    volume_rules.RESOURCE_LIMIT: "the policy would hold more than 64 volumes",
    volume_rules.NO_RESOURCES: "`resources` missing or empty; or (execute) the policy has no volumes",
    volume_rules.NO_RESOURCE_ID: "an item of `resources` without a `resource_id` string",
    volume_rules.RUN_IN_PROGRESS: "a run of the policy is still executing (tasks WAITING or RUNNING)",
    codes.BACKUP_NOT_FOUND: "the project has no backup with this ID (another project's, a deleted one, or not a UUID)",
    codes.BACKUP_VOLUME_NOT_FOUND: "the project has no volume with the `volume_id` given",
    codes.BACKUP_BUSY: "the backup is being made, deleted or restored",
    codes.VOLUME_BUSY: "the volume is being backed up or restored, or is not `available`/`in-use`",
    codes.RESTORE_NAME: "the new volume's name is not a plain file name, or the project has a volume of that name",
    codes.WEBHOOK_NOT_FOUND: "the project has no webhook with this ID (another project's, a deleted one, or not a UUID)",
    codes.WEBHOOK_URL: "`url` missing, not an absolute http(s) URL, with credentials in it, or plain http where https is required",
    codes.WEBHOOK_EVENTS: "`events` missing, empty, repeating a type, or naming an unknown event type",
    codes.WEBHOOK_DESCRIPTION: "`description` not a string of at most 255 characters",
    codes.WEBHOOK_ADDRESS: "the URL's host does not resolve, or resolves to a loopback, private, link-local, metadata, multicast or reserved address",
    codes.WEBHOOK_LIMIT: "the project already has 10 webhooks",
}

# The create rules, in the order of the error table (docs/api.md, "Statuses and codes").
POLICY_BODY_CODES = (
    codes.BODY_EMPTY,
    codes.BAD_JSON,
    codes.BAD_FIELD,
    codes.NAME_LENGTH,
    codes.NAME_CHARS,
    codes.START_TIME,
    codes.STATUS,
    codes.KEEP_FIRST,
    codes.FREQUENCY,
    codes.RETENTION,
)
# The body codes of every other route that reads a body.
BODY_CODES = (codes.BODY_EMPTY, codes.BAD_JSON, codes.BAD_FIELD)


# --- Components --------------------------------------------------------------------------------

# The hand-written schemas, added to the document by the finishing hook (``links.finish``).
COMPONENTS: dict[str, dict] = {}


def components(schemas: dict[str, dict]) -> None:
    """Register schemas under ``#/components/schemas``; a name is registered once."""
    clash = set(schemas) & set(COMPONENTS)
    assert not clash, f"components registered twice: {sorted(clash)}"
    COMPONENTS.update(schemas)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """``schema`` or ``null`` (which the API reads as absent)."""
    # OpenAPI 3.0: with an enum, "nullable" alone does not admit null; null must be listed.
    if "enum" in schema:
        return {**schema, "nullable": True, "enum": [*schema["enum"], None]}
    return {**schema, "nullable": True}


def integer_in(bounds: tuple[int, int], **more) -> dict:
    """An integer from ``bounds[0]`` to ``bounds[1]``, both included (a range of the contract)."""
    return {"type": "integer", "minimum": bounds[0], "maximum": bounds[1], **more}


UUID = {"type": "string", "format": "uuid"}
CODE = {"type": "string", "pattern": r"^AutoBackup\.[0-9]{4}$"}
# A policy's name and a tag's key; a tag's value may be empty.
NAME = r"^[A-Za-z0-9_-]+$"
TAG_VALUE = r"^[A-Za-z0-9_-]*$"


# --- The error envelope ------------------------------------------------------------------------

components(
    {
        "ErrorDetail": {
            "type": "object",
            "additionalProperties": False,
            "required": ["field", "code", "message"],
            "properties": {
                "field": {"type": "string", "description": "JSON path of the field, e.g. `tags[2].key`."},
                "code": CODE,
                "message": {"type": "string", "minLength": 1},
            },
        }
    }
)
_ERROR_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "message"],
    "properties": {
        "code": CODE,
        "message": {"type": "string", "minLength": 1},
        "details": {"type": "array", "items": ref("ErrorDetail")},
    },
}


def error_envelope() -> dict:
    """The generic ``Error``: the envelope of every error answer, describing every code.

    Built when the document is finished, so that it lists the codes of every part.
    """
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {"error": _ERROR_BODY},
        "description": "The envelope of every error answer under /v2/. `details` (one entry per "
        "problem found) comes with refused bodies; `code` and `message` then repeat its first "
        "entry. Codes:\n\n" + "\n".join(f"- `{code}`: {text}" for code, text in CODES.items()),
    }


def error_schema(codes: Iterable[str]) -> dict:
    """The envelope whose ``code`` is one of ``codes``: what one status of one operation answers."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {
            "error": {
                **_ERROR_BODY,
                "properties": {**_ERROR_BODY["properties"], "code": {"type": "string", "enum": list(codes)}},
            }
        },
    }


def _error_response(codes: tuple[str, ...], name: str) -> OpenApiResponse:
    """A refusal answer whose schema is the component ``name`` (registered here, or shared)."""
    schema = error_schema(codes)
    assert COMPONENTS.setdefault(name, schema) == schema, f"two error schemas named {name}"
    lines = "\n".join(f"- `{code}`: {CODES.get(code, 'see docs/api.md')}" for code in codes)
    return OpenApiResponse(
        response=ref(name), description=f"In the error envelope, with one of these codes:\n\n{lines}"
    )


# --- Operations --------------------------------------------------------------------------------

PROJECT_ID = OpenApiParameter(
    "project_id",
    str,
    OpenApiParameter.PATH,
    description="A project of the token's user; any other is 403 `AutoBackup.0213`.",
)
POLICY_ID = OpenApiParameter(
    "policy_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The ID create returned. Another project's policy, an unknown ID or one that is "
    "not a UUID is 404 `AutoBackup.0205`.",
)
POLICY_PATH = [PROJECT_ID, POLICY_ID]
# What every operation with ``policy_id`` in its path adds to its own 404 codes (see POLICY_ID).
_UNKNOWN_POLICY = (codes.POLICY_NOT_FOUND,)

# Every operation: the gate (401, 403), the protocol (404 for a path that matches no route,
# 406, and 400 for what Django refuses before the API), 500, and 503 in an outage.
_COMMON = {
    400: (errors.BAD_REQUEST,),
    401: (codes.NO_TOKEN, codes.BAD_TOKEN),
    403: (codes.FORBIDDEN_PROJECT, errors.HTTPS_REQUIRED),
    404: (errors.NOT_FOUND,),
    406: (errors.NOT_ACCEPTABLE,),
    500: (codes.SERVER_ERROR,),
    503: (errors.SERVICE_UNAVAILABLE,),
}
# The operations whose body may be left out (``operation(body_optional=True)``); every other
# body is required (``finish``).
OPTIONAL_BODIES: set[str] = set()
# Operations that read a body.
_WITH_BODY = {
    413: (errors.BODY_TOO_LARGE,),
    415: (errors.UNSUPPORTED_MEDIA_TYPE,),
}


def operation(
    *,
    operation_id: str,
    summary: str,
    description: str,
    tag: str,
    success: tuple[int, dict | None, str],
    refusals: dict[int, tuple[str, ...]],
    parameters: list[OpenApiParameter],
    request: dict | None = None,
    body_optional: bool = False,
):
    """``extend_schema`` for one operation: its success and every refusal with its codes."""
    if body_optional:
        OPTIONAL_BODIES.add(operation_id)
    if POLICY_ID in parameters:
        refusals = {**refusals, 404: (*refusals.get(404, ()), *_UNKNOWN_POLICY)}
    status, body, success_description = success
    codes: dict[int, tuple[str, ...]] = {status: tuple(c) for status, c in _COMMON.items()}
    if request is not None:
        codes.update(_WITH_BODY)
    for refusal_status, refusal_codes in refusals.items():
        codes[refusal_status] = (*refusal_codes, *codes.get(refusal_status, ()))
    responses: dict = {status: OpenApiResponse(response=body, description=success_description)}
    for refusal_status in sorted(codes):
        # Shared components for the refusals every operation has; one of its own otherwise.
        shared = codes[refusal_status] == (
            *_COMMON.get(refusal_status, ()),
            *_WITH_BODY.get(refusal_status, ()),
        )
        name = f"{operation_id[0].upper()}{operation_id[1:]}" if not shared else ""
        responses[refusal_status] = _error_response(codes[refusal_status], f"{name}Error{refusal_status}")
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=[tag],
        parameters=parameters,
        request=request,
        responses=responses,
    )
