"""Make policies as the product does."""

from policies import services
from policies.domain import parse
from policies.models import BackupPolicy
from tests.helpers.factories import BackupPolicyFactory
from tests.helpers.payloads import valid_payload


def make_policy(tenant, name="policy_01", *, actor=None, tags=(), **scheduled):
    """Create a policy through the core and the service, as an entrance would."""
    payload = valid_payload(backup_policy_name=name, tags=[{"key": k, "value": v} for k, v in tags])
    if scheduled:
        payload["scheduled_policy"] = scheduled
    result = parse.parse_policy(payload)
    assert result.ok, result.problems
    return services.policy_create(tenant=tenant, spec=result.spec, actor=actor or services.Actor.command())


def fill(tenant, count: int, prefix: str = "existing") -> list[BackupPolicy]:
    """Give the tenant ``count`` policies, each with one tag."""
    return [
        BackupPolicyFactory(tenant=tenant, payload=valid_payload(backup_policy_name=f"{prefix}_{index}"))
        for index in range(count)
    ]
