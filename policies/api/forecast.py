"""Our extension of the API: a policy's next runs and its retention simulation (docs/api.md, "Forecasts").

Thin views: the body is read by ``parse.parse_policy`` (its problems come back exactly as
create's do), the query parameters by ``queries.parse_*_query`` (code AutoBackup.0013), and the
answer is the core's, turned into JSON here.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from ..domain import codes, longrun, nextruns, offsets, parse, retention, specs, words
from . import queries, schema
from .views import ContractView, json_body, policy_or_404, refuse_problems, tenant_or_403


def _when(moment) -> str:
    """ISO 8601 with its offset (``+01:00``), ``Z`` for zero."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _params(request: Request) -> dict[str, list[str]]:
    return dict(request.query_params.lists())


def _run_json(run: nextruns.NextRun) -> dict:
    body = {"utc": _when(run.utc), "local": _when(run.local)}
    if run.zone_local is not None:
        body["zone_local"] = _when(run.zone_local)
        body["offset_stale"] = run.stale
    return body


def next_runs_json(spec: specs.PolicySpec, query: queries.NextRunsQuery) -> dict:
    """The answer of both next-runs routes."""
    body: dict = {
        "status": spec.status,
        "from": _when(query.start),
        "count": query.count,
        "time_zone": spec.time_zone or offsets.format_offset(0),
        "zone": query.zone_name,
        "runs": [
            _run_json(run)
            for run in nextruns.next_runs(spec, start=query.start, count=query.count, zone=query.zone)
        ],
    }
    if query.zone is not None:
        body["local_time_changes"] = [
            {
                "at": _when(change.change.at),
                "zone_offset": offsets.format_offset(change.change.after_minutes),
                "shift_minutes": change.shift_minutes,
                "offset_stale": change.stale,
                "local_times": change.local_times,
                "chosen_local_times": change.chosen_times,
                "first_run": _run_json(change.first_run),
                "message": words.local_time_change_words(change),
            }
            for change in nextruns.local_time_changes(
                spec, query.zone, start=query.start, zone_name=query.zone_name
            )
        ]
    if not spec.enabled:
        body["note"] = words.OFF_NOTE
    return body


def _steady_json(steady: longrun.SteadyState | None) -> dict | None:
    if steady is None:
        return None
    return {
        "measured_from": _when(steady.measured_from),
        "measured_until": _when(steady.measured_until),
        "max_backups": steady.max_backups,
        "min_backups": steady.min_backups,
        "oldest_restore_point": {
            "min_age_minutes": steady.oldest_min_minutes,
            "max_age_minutes": steady.oldest_max_minutes,
            "text": words.steady_oldest_words(steady),
        },
        "longest_gap": {
            "minutes": steady.longest_gap_minutes,
            "from": _when(steady.longest_gap_from),
            "until": _when(steady.longest_gap_until),
            "text": words.steady_gap_words(steady),
        },
    }


def retention_json(spec: specs.PolicySpec, query: queries.RetentionQuery) -> dict:
    """The answer of both retention routes."""
    result = retention.simulate_retention(spec, start=query.start, weeks=query.weeks)
    oldest = result.oldest_kept
    body: dict = {
        "status": spec.status,
        "start": query.start.isoformat(),
        "weeks": query.weeks,
        "from": _when(result.window_from),
        "until": _when(result.window_until),
        "time_zone": spec.time_zone or offsets.format_offset(0),
        "rule": result.rule,
        "backups": [
            {
                "number": backup.number,
                "created_at": _when(backup.created_at),
                "created_local": _when(backup.local_created),
                "first_of_month": backup.first_of_month,
                "kept": backup.kept,
                "deleted_at": None if backup.deleted_at is None else _when(backup.deleted_at),
                "deleted_local": None if backup.local_deleted is None else _when(backup.local_deleted),
                "reason": backup.reason,
                "explanation": backup.explanation,
            }
            for backup in result.backups
        ],
        "days": [
            {
                "date": day.day.isoformat(),
                "created": [backup.number for backup in day.created],
                "deleted": list(day.deleted),
                "exist": day.exist,
            }
            for day in result.days
        ],
        "at_end": {
            "exist": len(result.kept),
            "oldest_created_at": None if oldest is None else _when(oldest.created_at),
        },
        "steady_state": _steady_json(result.steady),
    }
    if not spec.enabled:
        body["note"] = result.note
    return body


# --- The OpenAPI description -------------------------------------------------------------------

FORECASTS = "forecasts (our extension)"
_QUERY = (codes.QUERY_PARAM,)
_BODY_400 = (
    *schema.POLICY_BODY_CODES,
    codes.TAG,
    codes.TAG_COUNT,
    codes.TIME_ZONE,
    codes.QUERY_PARAM,
)
NEXT_RUNS_PARAMETERS = [
    OpenApiParameter(
        "count",
        {"type": "integer", "minimum": queries.COUNT_RANGE[0], "maximum": queries.COUNT_RANGE[1]},
        OpenApiParameter.QUERY,
        description=f"How many runs, {queries.COUNT_RANGE[0]} to {queries.COUNT_RANGE[1]} "
        f"(default {queries.DEFAULT_COUNT}).",
    ),
    OpenApiParameter(
        "from",
        {"type": "string", "format": "date-time"},
        OpenApiParameter.QUERY,
        description="The runs at or after this instant (RFC 3339, with its offset: `Z` or "
        f"`%2B01:00`), in the years {queries.YEAR_RANGE[0]} to {queries.YEAR_RANGE[1]}; default: now.",
    ),
    OpenApiParameter(
        "zone",
        {"type": "string", "pattern": "^[A-Za-z0-9_+/-]{1,64}$"},
        OpenApiParameter.QUERY,
        description="An IANA zone name (`Europe/Berlin`): each run is also told in its real local "
        "time, flagged `offset_stale` when the zone's offset then differs from the stored one.",
    ),
]
RETENTION_PARAMETERS = [
    OpenApiParameter(
        "start",
        {"type": "string", "format": "date"},
        OpenApiParameter.QUERY,
        description="The first day (YYYY-MM-DD, local to the policy's offset), in the years "
        f"{queries.YEAR_RANGE[0]} to {queries.YEAR_RANGE[1]}; default: today in UTC.",
    ),
    OpenApiParameter(
        "weeks",
        {"type": "integer", "minimum": queries.WEEKS_RANGE[0], "maximum": queries.WEEKS_RANGE[1]},
        OpenApiParameter.QUERY,
        description=f"How many weeks, {queries.WEEKS_RANGE[0]} to {queries.WEEKS_RANGE[1]} "
        f"(default {retention.DEFAULT_WEEKS}).",
    ),
]
_NEXT_RUNS_ANSWER = {
    "type": "object",
    "required": ["status", "from", "count", "time_zone", "zone", "runs"],
    "properties": {
        "status": {"type": "string", "enum": ["ON", "OFF"]},
        "from": {"type": "string", "format": "date-time"},
        "count": {"type": "integer"},
        "time_zone": {"type": "string", "description": "The stored offset (UTC+00:00 when none)."},
        "zone": {"type": "string", "nullable": True},
        "runs": {
            "type": "array",
            "description": "Empty for a policy that is OFF (`note` says so).",
            "items": {
                "type": "object",
                "required": ["utc", "local"],
                "properties": {
                    "utc": {"type": "string", "format": "date-time"},
                    "local": {"type": "string", "format": "date-time"},
                    "zone_local": {"type": "string", "format": "date-time"},
                    "offset_stale": {"type": "boolean"},
                },
            },
        },
        "local_time_changes": {"type": "array", "items": {"type": "object"}},
        "note": {"type": "string"},
    },
}
_RETENTION_ANSWER = {
    "type": "object",
    "required": ["status", "start", "weeks", "backups", "days", "steady_state"],
    "properties": {
        "status": {"type": "string", "enum": ["ON", "OFF"]},
        "start": {"type": "string", "format": "date"},
        "weeks": {"type": "integer"},
        "rule": {"type": "string"},
        "backups": {"type": "array", "items": {"type": "object"}},
        "days": {"type": "array", "items": {"type": "object"}},
        "steady_state": {"type": "object", "nullable": True},
        "note": {"type": "string"},
    },
}

_describe_next_runs_payload = schema.operation(
    operation_id="previewNextRuns",
    summary="Next runs of an unsaved policy",
    description="The next runs of the policy this create body describes, in UTC, at the stored "
    "offset and (with `zone`) in the zone's real local time. Nothing is saved.",
    tag=FORECASTS,
    request={"application/json": schema.ref("BackupPolicyCreate")},
    success=(200, _NEXT_RUNS_ANSWER, "The next runs."),
    refusals={400: _BODY_400},
    parameters=[schema.PROJECT_ID, *NEXT_RUNS_PARAMETERS],
)
_describe_next_runs_policy = schema.operation(
    operation_id="policyNextRuns",
    summary="Next runs of a stored policy",
    description="As the preview route, for a policy of the project.",
    tag=FORECASTS,
    success=(200, _NEXT_RUNS_ANSWER, "The next runs."),
    refusals={400: _QUERY, 404: (codes.POLICY_NOT_FOUND,)},
    parameters=[*schema.POLICY_PATH, *NEXT_RUNS_PARAMETERS],
)
_describe_retention_payload = schema.operation(
    operation_id="previewRetention",
    summary="Retention simulation of an unsaved policy",
    description="The backups the policy makes from `start` over `weeks` weeks, when each is "
    "deleted and why, and the steady state. Nothing is saved.",
    tag=FORECASTS,
    request={"application/json": schema.ref("BackupPolicyCreate")},
    success=(200, _RETENTION_ANSWER, "The simulation."),
    refusals={400: _BODY_400},
    parameters=[schema.PROJECT_ID, *RETENTION_PARAMETERS],
)
_describe_retention_policy = schema.operation(
    operation_id="policyRetention",
    summary="Retention simulation of a stored policy",
    description="As the preview route, for a policy of the project.",
    tag=FORECASTS,
    success=(200, _RETENTION_ANSWER, "The simulation."),
    refusals={400: _QUERY, 404: (codes.POLICY_NOT_FOUND,)},
    parameters=[*schema.POLICY_PATH, *RETENTION_PARAMETERS],
)


# --- The views ---------------------------------------------------------------------------------


def _payload_spec(request: Request, query_problems) -> specs.PolicySpec:
    """Read the create body; its problems and the query's come back together (body first)."""
    result = parse.parse_policy(json_body(request), now=timezone.now())
    refuse_problems([*result.problems, *query_problems])
    assert result.spec is not None
    return result.spec


class NextRunsPreview(ContractView):
    """``POST /v2/{project_id}/backuppolicy/nextruns``."""

    @_describe_next_runs_payload
    def post(self, request: Request, project_id: str) -> Response:
        tenant_or_403(request, project_id)
        query, problems = queries.parse_next_runs_query(
            _params(request), now=timezone.now().replace(microsecond=0)
        )
        spec = _payload_spec(request, problems)
        return Response(next_runs_json(spec, query))


class PolicyNextRuns(ContractView):
    """``GET /v2/{project_id}/backuppolicy/{policy_id}/nextruns``."""

    @_describe_next_runs_policy
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        query, problems = queries.parse_next_runs_query(
            _params(request), now=timezone.now().replace(microsecond=0)
        )
        refuse_problems(problems)
        return Response(next_runs_json(policy.to_spec(), query))


class RetentionPreview(ContractView):
    """``POST /v2/{project_id}/backuppolicy/retention``."""

    @_describe_retention_payload
    def post(self, request: Request, project_id: str) -> Response:
        tenant_or_403(request, project_id)
        query, problems = queries.parse_retention_query(_params(request), today=timezone.now().date())
        spec = _payload_spec(request, problems)
        refuse_problems(queries.retention_span_problems(spec, query.weeks))
        return Response(retention_json(spec, query))


class PolicyRetention(ContractView):
    """``GET /v2/{project_id}/backuppolicy/{policy_id}/retention``."""

    @_describe_retention_policy
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        query, problems = queries.parse_retention_query(_params(request), today=timezone.now().date())
        refuse_problems(problems)
        spec = policy.to_spec()
        refuse_problems(queries.retention_span_problems(spec, query.weeks))
        return Response(retention_json(spec, query))
