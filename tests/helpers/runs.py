"""Volumes of the local provider, and policies that hold them, for the tests of runs."""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from policies import audit, volumes
from policies.domain.contract.volumes import ResourceItem
from policies.models import Volume
from policies.runs import inventory
from tests.helpers.payloads import schedule_payload
from tests.helpers.policies import fresh_name, make_policy

# A Monday, 00:00 UTC: the simulated weeks start here.
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def write_volume(project_id: str, name: str, content: bytes) -> Path:
    folder = Path(settings.LOCAL_VOLUME_ROOT) / project_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def make_volumes(tenant, contents: dict[str, bytes]) -> list[Volume]:
    """Write the files, sync the inventory, return the volumes in name order."""
    for name, content in contents.items():
        write_volume(tenant.project_id, name, content)
    inventory.volumes_sync(tenant=tenant)
    return list(Volume.objects.filter(tenant=tenant, name__in=contents).order_by("name"))


def associate(policy, vols) -> None:
    result = volumes.policy_volumes_associate(
        policy=policy,
        items=[ResourceItem(str(v.resource_id), "volume") for v in vols],
        actor=audit.Actor.command(),
        sync_unknown=False,
    )
    assert not result.failures, result.failures


def daily_policy(tenant, *, start_time="00:00,12:00", now=MONDAY, **scheduled) -> object:
    """An ON policy running every day at ``start_time`` (UTC), its next run placed from ``now``."""
    fields = {"start_time": start_time, "frequency": 1, "rentention_num": 3, "status": "ON"}
    fields.update(scheduled)
    fields = {name: value for name, value in fields.items() if value is not None}  # None: leave out
    payload = schedule_payload(**fields)
    payload["backup_policy_name"] = fresh_name()
    payload.pop("time_zone")
    payload["tags"] = []
    policy = make_policy(tenant, payload=payload)

    policy.next_run_at = policy.first_run_from(now)
    policy.save(update_fields=["next_run_at"])
    return policy
