"""Fuzz every /v2/ operation against the served OpenAPI description, over real HTTP (schemathesis).

The schema is read from /api/schema/ of a live server (pytest-django's ``live_server``, on the
test database), and schemathesis's engine runs its phases (examples, coverage, fuzzing, stateful)
with a valid token, the real project and an existing policy, checking every answer: no 5xx, a
status the operation documents, the documented content type, and a body that matches the
documented schema (the error envelope included).

Before each request the project is put back as it was (one policy with a fixed ID, two tags, a
volume and one finished backup task) if the previous request changed it, so every example meets
the same world and a failure reproduces. The world also holds a webhook with a fixed ID. An execute is the exception: the run it queues is kept
(no worker runs here), so the next execute meets a run still executing (409) until the world is
put back; execute answers both 204 and 409 against the schema.
The run is bounded (max examples per operation) and deterministic (a fixed seed, derandomized).
"""

import os
import threading
import time
import uuid
from collections import Counter

import pytest
import schemathesis
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection
from django.utils import timezone
from schemathesis.engine import Status, events, from_schema

from policies.api.errors import MAX_DETAILS
from policies.domain.contract import codes
from policies.domain.contract import volumes as volume_rules
from policies.models import BackupPolicy, BackupTask, Volume, WebhookEndpoint
from policies.runs import queue
from tests.helpers.factories import FixedIdPolicyFactory
from tests.helpers.payloads import valid_payload

pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.slow]

POLICY_ID = uuid.UUID("6f1c7a52-3d0e-4b8e-9a51-0c2d4e6f8a10")
VOLUME_ID = uuid.UUID("0b7d2c1e-5a4f-4e3b-8c9d-1f2e3a4b5c6d")
WEBHOOK_ID = uuid.UUID("5e0b1d7a-2c4f-4a3e-9b8d-7f6e5d4c3b2a")
EXECUTE = "POST /v2/{project_id}/backuppolicy/{policy_id}/action"
SEED = 20261127
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
# The phases that run, each of which must run at least one case.
PHASES = ("examples", "coverage", "fuzzing", "stateful")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    # The schema is not stricter than the API: a body it forbids is refused (4xx).
    "negative_data_rejection",
    # ...and not looser: a request it allows is accepted, or refused (400) only for a rule a
    # schema cannot state (UNSTATED_RULES, checked by refused_only_for_unstated_rules).
    "positive_data_acceptance",
    "refused_only_for_unstated_rules",
    # No operation answers without a token; a method the schema does not list is 405.
    "ignored_auth",
    "unsupported_method",
)


# The rules a JSON Schema cannot state: they relate two fields (local order and day shift at the
# time_zone, repeated start times or tag keys), a body to what is stored (the tag limit after a
# change, the quota, the path's policy ID), or need the tz database (zone names). The decision
# and reason of each: docs/api.md, "OpenAPI". (The forecasts' year range is in the schema.)
# (code, field or None for any, the words of the message)
UNSTATED_RULES = (
    (codes.START_TIME, "scheduled_policy.start_time", ("is given twice", "comes after")),
    (codes.TIME_ZONE, None, ("fall on different UTC days",)),
    # A named zone: its name must be in the server's tz database, agree with time_zone at the time
    # of the request, and move its clocks by whole hours; no schema can say that.
    (
        codes.TIME_ZONE,
        "time_zone_name",
        ("disagree", "is not a zone of the tz database", "by part of an hour"),
    ),
    (codes.TAG, None, ("repeats the key",)),
    (codes.TAG_COUNT, None, ("",)),
    (codes.QUOTA, None, ("",)),
    (codes.BAD_FIELD, "backup_policy_id", ("is not the ID of the policy",)),
    (codes.QUERY_PARAM, "zone", ("is not an IANA time zone name",)),
    # Volumes and runs: what the policy holds now, and its tasks.
    (volume_rules.NO_RESOURCES, "policy_id", ("has no volumes to back up",)),
    (volume_rules.RESOURCE_LIMIT, "resources", ("",)),
    (codes.QUERY_PARAM, "marker", ("is not a job_id of this policy's tasks",)),
    # Backups: the marker must be a backup of the project; a new volume's name must be free.
    (codes.QUERY_PARAM, "marker", ("to start after",)),
    (codes.RESTORE_NAME, "restore.name", ("already has a volume",)),
    # Webhooks: what the URL's host resolves to (the network, not the text; a metadata or
    # multicast address is refused whatever the settings), and the project's limit.
    (codes.WEBHOOK_ADDRESS, "webhook.url", ("resolves to",)),
    (codes.WEBHOOK_LIMIT, None, ("",)),
)


def is_unstated_rule(problem: dict) -> bool:
    return any(
        problem["code"] == code
        and field in (None, problem["field"])
        and any(words in problem["message"] for words in phrases)
        for code, field, phrases in UNSTATED_RULES
    )


@schemathesis.check
def refused_only_for_unstated_rules(ctx, response, case):
    """A schema-valid request refused with 400 names only problems of UNSTATED_RULES."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    error = response.json()["error"]
    problems = error.get("details") or [{"field": "", "code": error["code"], "message": error["message"]}]
    # Past MAX_DETAILS the envelope's last entry only counts the problems it leaves out: it names
    # no rule of its own (the listed ones are checked).
    stated = [problem for problem in problems[:MAX_DETAILS] if not is_unstated_rule(problem)]
    if stated:
        raise AssertionError(f"schema-valid request refused for a rule the schema could state: {stated}")
    return None


class World:
    """The project every request meets: one policy with a fixed ID, two tags, a volume and a task."""

    def __init__(self, tenant) -> None:
        self.tenant = tenant
        self.dirty = True
        self.lock = threading.Lock()

    def reset(self) -> None:
        # Runs in schemathesis's worker thread: its own database connection, closed here so
        # that nothing is left open when the test database is dropped. The policies that the
        # stateful phase creates stay (its next steps use them) until the quota comes near.
        try:
            others = BackupPolicy.objects.filter(tenant=self.tenant).exclude(pk=POLICY_ID)
            if others.count() >= 5:
                others.delete()
            BackupPolicy.objects.filter(pk=POLICY_ID).delete()
            # The tasks of the policies deleted meanwhile (each reset's included): a clean slate.
            BackupTask.objects.filter(tenant=self.tenant, policy__isnull=True).delete()
            policy = FixedIdPolicyFactory(
                id=POLICY_ID,
                tenant=self.tenant,
                payload=valid_payload(
                    backup_policy_name="fuzz_world",
                    tags=[{"key": "env", "value": "prod"}, {"key": "action", "value": "x"}],
                ),
            )
            # Its volume (an execute then queues a run) and one finished run, whose job_id the
            # task list's links carry to its marker and job_id parameters.
            volume, _ = Volume.objects.update_or_create(
                tenant=self.tenant,
                resource_id=VOLUME_ID,
                defaults={"name": "fuzz.img", "status": Volume.Status.AVAILABLE, "policy": policy},
            )
            now = timezone.now()
            queue.new_task(
                policy,
                volume,
                now,
                status=BackupTask.Status.EXECUTE_SUCCESS,
                started_at=now,
                finished_at=now,
                attempts=1,
            ).save(force_insert=True)
            # A webhook with a fixed ID (its test and remove operations), and none of those
            # the previous requests added: the project never reaches its limit.
            WebhookEndpoint.objects.filter(tenant=self.tenant).delete()
            WebhookEndpoint.objects.create(
                id=WEBHOOK_ID,
                tenant=self.tenant,
                url="http://127.0.0.1:9/fuzz",
                events=["backup.failed"],
                secret="whsec_" + "A" * 43 + "=",
            )
        finally:
            connection.close()
        self.dirty = False

    def before_call(self, context, case, kwargs) -> None:
        with self.lock:
            if self.dirty:
                self.reset()

    def after_call(self, context, case, response) -> None:
        # A refused request writes nothing (the contract), and reads change nothing. An execute
        # changes only the runs: its queued run is kept, for the next execute's 409.
        executed = f"{case.method.upper()} {case.path}" == EXECUTE
        if case.method.upper() != "GET" and response.status_code < 400 and not executed:
            self.dirty = True


def failures_of(stream) -> tuple[list[str], dict[str, int], dict[str, Counter]]:
    failures: list[str] = []
    counts: dict[str, int] = {}
    statuses: dict[str, Counter] = {}
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            counts[event.phase.value] = counts.get(event.phase.value, 0) + len(event.recorder.cases)
            answered = statuses.setdefault(event.recorder.label, Counter())
            answered.update(
                i.response.status_code for i in event.recorder.interactions.values() if i.response
            )
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(
                            f"{event.recorder.label} [{check.name}] {failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{event.__class__.__name__} in {getattr(event, 'label', '?')}: {event.value!r}")
    return failures, counts, statuses


def test_every_v2_operation_answers_as_its_schema_says(live_server, tenant, token, monkeypatch):
    # The test server writes headers and body apart; with Nagle's algorithm on, every answer on a
    # kept-alive connection waits for the client's delayed ACK (~40 ms). Real servers set this.
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The token always comes from "auth" (ignored_auth still tries without it).
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            },
            "phases": {
                **{name: {"enabled": True} for name in PHASES},
                "stateful": {"enabled": True, "max-steps": 10},
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                # 400 is allowed here because refused_only_for_unstated_rules judges each one.
                "positive_data_acceptance": {
                    "enabled": True,
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409"],
                },
            },
            "auth": {"openapi": {"XAuthToken": {"api_key": token}}},
            "parameters": {
                "project_id": tenant.project_id,
                "policy_id": str(POLICY_ID),
                "webhook_id": str(WEBHOOK_ID),
            },
            "base-url": live_server.url,
            # Show the real keys and bodies of a failure: the token is this test's own.
            "output": {"sanitization": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json", config=config)
    operations = {f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()}
    assert all(label.split(" ")[1].startswith("/v2/") for label in operations)

    world = World(tenant)

    # Global hooks (schemathesis has no per-schema before_call), removed again below.
    @schemathesis.hook
    def before_call(context, case, kwargs):
        world.before_call(context, case, kwargs)

    @schemathesis.hook
    def after_call(context, case, response):
        world.after_call(context, case, response)

    started = time.perf_counter()
    try:
        stream = list(from_schema(schema).execute())
    finally:
        schemathesis.hooks.unregister(before_call)
        schemathesis.hooks.unregister(after_call)
    elapsed = time.perf_counter() - started

    failures, counts, statuses = failures_of(stream)
    print(f"schemathesis: {len(operations)} operations, {counts} cases, {elapsed:.1f} s")
    for label, answered in sorted(statuses.items()):
        print(f"  {label}: {dict(sorted(answered.items()))}")
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:20])
    # A phase can run nothing without an error (links it cannot follow, a skipped phase).
    idle = [phase for phase in PHASES if not counts.get(phase)]
    skipped = {
        event.phase.name.value: event.phase.skip_reason
        for event in stream
        if isinstance(event, events.PhaseFinished) and event.status == Status.SKIP
    }
    assert not idle, f"phases that ran no case: {idle} (cases per phase: {counts}, skipped: {skipped})"
    tested = {event.recorder.label for event in stream if isinstance(event, events.ScenarioFinished)}
    assert operations <= tested, operations - tested
    # The world's policy has a volume: execute queues a run (204), then meets it (409).
    assert {204, 409} <= set(statuses[EXECUTE]), statuses[EXECUTE]
