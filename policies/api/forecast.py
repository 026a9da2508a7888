"""Our extension of the API: a policy's next runs and its retention simulation (docs/api.md, "Forecasts").

Thin views: the body is read by ``parse.parse_policy`` (its problems come back exactly as
create's do), the query parameters by ``queries.parse_*_query`` (code AutoBackup.0013), and the
answer is the core's, turned into JSON here.
"""

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from policies.domain import words
from policies.domain.contract import parse, specs
from policies.domain.retention import simulation, steady
from policies.domain.schedule import nextruns, offsets
from policies.domain.schedule.instants import NextRun

from . import queries
from .openapi import forecasts as described
from .views import ContractView, json_body, policy_or_404, refuse_problems, tenant_or_403


def _when(moment) -> str:
    """ISO 8601 with its offset (``+01:00``), ``Z`` for zero."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _params(request: Request) -> dict[str, list[str]]:
    return dict(request.query_params.lists())


def _run_json(run: NextRun) -> dict:
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


def _steady_json(steady: steady.SteadyState | None) -> dict | None:
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
    result = simulation.simulate_retention(spec, start=query.start, weeks=query.weeks)
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


# --- The views ---------------------------------------------------------------------------------


def _payload_spec(request: Request, query_problems) -> specs.PolicySpec:
    """Read the create body; its problems and the query's come back together (body first)."""
    result = parse.parse_policy(json_body(request), now=timezone.now())
    refuse_problems([*result.problems, *query_problems])
    assert result.spec is not None
    return result.spec


class NextRunsPreview(ContractView):
    """``POST /v2/{project_id}/backuppolicy/nextruns``."""

    @described.next_runs_preview
    def post(self, request: Request, project_id: str) -> Response:
        tenant_or_403(request, project_id)
        query, problems = queries.parse_next_runs_query(
            _params(request), now=timezone.now().replace(microsecond=0)
        )
        spec = _payload_spec(request, problems)
        return Response(next_runs_json(spec, query))


class PolicyNextRuns(ContractView):
    """``GET /v2/{project_id}/backuppolicy/{policy_id}/nextruns``."""

    @described.policy_next_runs
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        query, problems = queries.parse_next_runs_query(
            _params(request), now=timezone.now().replace(microsecond=0)
        )
        refuse_problems(problems)
        return Response(next_runs_json(policy.to_spec(), query))


class RetentionPreview(ContractView):
    """``POST /v2/{project_id}/backuppolicy/retention``."""

    @described.retention_preview
    def post(self, request: Request, project_id: str) -> Response:
        tenant_or_403(request, project_id)
        query, problems = queries.parse_retention_query(_params(request), today=timezone.now().date())
        spec = _payload_spec(request, problems)
        refuse_problems(queries.retention_span_problems(spec, query.weeks))
        return Response(retention_json(spec, query))


class PolicyRetention(ContractView):
    """``GET /v2/{project_id}/backuppolicy/{policy_id}/retention``."""

    @described.policy_retention
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        query, problems = queries.parse_retention_query(_params(request), today=timezone.now().date())
        refuse_problems(problems)
        spec = policy.to_spec()
        refuse_problems(queries.retention_span_problems(spec, query.weeks))
        return Response(retention_json(spec, query))
