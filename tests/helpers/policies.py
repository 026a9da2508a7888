"""Make policies as the product does: the core reads a create body, the services store it.

``make_policy`` is the one way tests make a policy. It goes through ``services.policy_create``,
so the quota, the unique name (ignoring case), the first run time and the audit record are those
of a real create: a test cannot hold a policy no entrance could have made.
"""

import itertools

from django.utils import timezone

from policies import audit, services
from policies.domain.contract import parse
from policies.models import BackupPolicy
from tests.helpers.payloads import valid_payload

_NAMES = itertools.count(1)


def fresh_name() -> str:
    """A policy name no other call returned in this test process: ``policy_001``, ``policy_002``..."""
    return f"policy_{next(_NAMES):03d}"


def make_policy(
    tenant, name=None, *, payload=None, tags=(), actor=None, now=None, **scheduled
) -> BackupPolicy:
    """Create a policy in ``tenant`` through the core and the service, as an entrance would.

    Give a whole create body as ``payload``, or build one from ``valid_payload()``: ``name``
    (default: a fresh ``policy_NNN``), ``tags`` as (key, value) pairs and, when given, the
    ``scheduled`` fields as the whole ``scheduled_policy``. ``actor`` is who the audit record
    names (default: a management command); ``now`` is the time of the request, at which a
    ``time_zone_name`` is read.
    """
    if payload is None:
        payload = valid_payload(
            backup_policy_name=name or fresh_name(),
            tags=[{"key": key, "value": value} for key, value in tags],
        )
        if scheduled:
            payload["scheduled_policy"] = scheduled
    elif name is not None or tags or scheduled:
        raise TypeError("give a whole payload or its parts, not both")
    result = parse.parse_policy(payload, now=now or timezone.now())
    assert result.ok, result.problems
    return services.policy_create(tenant=tenant, spec=result.spec, actor=actor or audit.Actor.command())


def fill(tenant, count: int, prefix: str = "existing") -> list[BackupPolicy]:
    """Give the tenant ``count`` policies, each with one tag."""
    return [
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"{prefix}_{index}"))
        for index in range(count)
    ]
