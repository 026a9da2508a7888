"""The OpenAPI description of the forecast routes, our extension (docs/api.md, "Forecasts").

The next runs and the retention simulation of a create body (nothing saved) or of a stored
policy: their query parameters, their answers and their refusals.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from policies.domain.contract import codes
from policies.domain.retention import simulation

from .. import queries
from .builders import POLICY_BODY_CODES, POLICY_PATH, PROJECT_ID, integer_in, operation, ref

FORECASTS = "forecasts (our extension)"
# The years the forecasts answer for, as the start of a date: 1900 to 9000.
assert queries.YEAR_RANGE == (1900, 9000), "restate IN_YEARS for the new range"
IN_YEARS = r"^(?:19[0-9]{2}|[2-8][0-9]{3}|9000)-"
_QUERY = (codes.QUERY_PARAM,)
_BODY_400 = (
    *POLICY_BODY_CODES,
    codes.TAG,
    codes.TAG_COUNT,
    codes.TIME_ZONE,
    codes.QUERY_PARAM,
)
NEXT_RUNS_PARAMETERS = [
    OpenApiParameter(
        "count",
        integer_in(queries.COUNT_RANGE),
        OpenApiParameter.QUERY,
        description=f"How many runs, {queries.COUNT_RANGE[0]} to {queries.COUNT_RANGE[1]} "
        f"(default {queries.DEFAULT_COUNT}).",
    ),
    OpenApiParameter(
        "from",
        {"type": "string", "format": "date-time", "pattern": IN_YEARS},
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
        {"type": "string", "format": "date", "pattern": IN_YEARS},
        OpenApiParameter.QUERY,
        description="The first day (YYYY-MM-DD, local to the policy's offset), in the years "
        f"{queries.YEAR_RANGE[0]} to {queries.YEAR_RANGE[1]}; default: today in UTC.",
    ),
    OpenApiParameter(
        "weeks",
        integer_in(queries.WEEKS_RANGE),
        OpenApiParameter.QUERY,
        description=f"How many weeks, {queries.WEEKS_RANGE[0]} to {queries.WEEKS_RANGE[1]} "
        f"(default {simulation.DEFAULT_WEEKS}).",
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


def _forecast(*, name: str, what: str, preview: str, parameters: list, answer: dict, answered: str):
    """The two routes of one forecast: ``preview`` for a create body (nothing saved), and the
    same for a stored policy of the project (its ``name``, e.g. ``policyNextRuns``)."""
    of_body = operation(
        operation_id=f"preview{name}",
        summary=f"{what} of an unsaved policy",
        description=preview,
        tag=FORECASTS,
        request={"application/json": ref("BackupPolicyCreate")},
        success=(200, answer, answered),
        refusals={400: _BODY_400},
        parameters=[PROJECT_ID, *parameters],
    )
    of_policy = operation(
        operation_id=f"policy{name}",
        summary=f"{what} of a stored policy",
        description="As the preview route, for a policy of the project.",
        tag=FORECASTS,
        success=(200, answer, answered),
        refusals={400: _QUERY},
        parameters=[*POLICY_PATH, *parameters],
    )
    return of_body, of_policy


next_runs_preview, policy_next_runs = _forecast(
    name="NextRuns",
    what="Next runs",
    preview="The next runs of the policy this create body describes, in UTC, at the stored "
    "offset and (with `zone`) in the zone's real local time. Nothing is saved.",
    parameters=NEXT_RUNS_PARAMETERS,
    answer=_NEXT_RUNS_ANSWER,
    answered="The next runs.",
)
retention_preview, policy_retention = _forecast(
    name="Retention",
    what="Retention simulation",
    preview="The backups the policy makes from `start` over `weeks` weeks, when each is "
    "deleted and why, and the steady state. Nothing is saved.",
    parameters=RETENTION_PARAMETERS,
    answer=_RETENTION_ANSWER,
    answered="The simulation.",
)
