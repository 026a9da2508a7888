"""Volumes of the local provider, and policies that hold them, for the tests of runs; what its backups hold."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from policies import audit, volumes
from policies.domain.contract.volumes import ResourceItem
from policies.models import Volume
from policies.runs import inventory
from policies.runs.providers import chunkstore
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


def daily_policy(tenant, *, start_time="00:00,12:00", now=MONDAY, time_zone_name=None, **scheduled) -> object:
    """An ON policy running every day at ``start_time`` (UTC), its next run placed from ``now``.

    With ``time_zone_name`` the policy keeps that zone's local times, read at ``now``.
    """
    fields = {"start_time": start_time, "frequency": 1, "rentention_num": 3, "status": "ON"}
    fields.update(scheduled)
    fields = {name: value for name, value in fields.items() if value is not None}  # None: leave out
    payload = schedule_payload(**fields)
    payload["backup_policy_name"] = fresh_name()
    payload.pop("time_zone")
    payload["tags"] = []
    if time_zone_name is not None:
        payload["time_zone_name"] = time_zone_name
    policy = make_policy(tenant, payload=payload, now=now)

    policy.next_run_at = policy.first_run_from(now)
    policy.save(update_fields=["next_run_at"])
    return policy


_CHUNK_NAME = re.compile(r"[0-9a-f]{64}")


def backup_root() -> Path:
    return Path(settings.LOCAL_BACKUP_ROOT)


def is_chunk(path: Path) -> bool:
    return path.parent.parent.name == "chunks" and _CHUNK_NAME.fullmatch(path.name) is not None


def _is_bookkeeping(path: Path) -> bool:
    """The store's lock, the hour of its last collection, and each volume's latest backup."""
    if path.parent.name == "parents":
        return _CHUNK_NAME.fullmatch(path.name) is not None
    return path.name in ("lock", "collected")


def backup_files() -> list[Path]:
    """The local provider's backups (indexes, full copies) and whatever a backup left behind.

    Every file under the backup root but the chunks (which only the garbage collection removes,
    once no index names them) and the store's own bookkeeping: a temporary file, a writer's lease
    or a partial copy shows here.
    """
    return sorted(
        path
        for path in backup_root().rglob("*")
        if path.is_file() and not is_chunk(path) and not _is_bookkeeping(path)
    )


def chunk_files(project_id: str) -> list[Path]:
    return sorted(
        path for path in (backup_root() / project_id).rglob("*") if path.is_file() and is_chunk(path)
    )


def backup_content(locator: str) -> bytes:
    """What one backup holds: its chunks, read through the store (or a full copy's bytes)."""
    path = backup_root() / locator
    if path.suffix != chunkstore.INDEX_SUFFIX:
        return path.read_bytes()
    out = io.BytesIO()
    chunkstore.read_backup(path, out, store_root=path.parent)
    return out.getvalue()


def backup_midway(project_id: str) -> bool:
    """True once a backup of the project is being written and has stored a chunk.

    Its writer holds a lease in the store; a throttled one (``LOCAL_COPY_BYTES_PER_SECOND``) then
    waits in its progress hook, with nothing half-written, before it reads on.
    """
    writing = any((backup_root() / project_id / ".store" / "writers").glob("*.lease"))
    return writing and bool(chunk_files(project_id))


def flip_one_byte(project_id: str) -> Path:
    """Flip one byte of the project's first stored chunk, as a failing disk would; return the chunk."""
    chunk = chunk_files(project_id)[0]
    damaged = bytearray(chunk.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    chunk.write_bytes(bytes(damaged))
    return chunk


def run_queued_verifications(*, now=None) -> list[str]:
    """Run the verifications the scheduler queued, as a worker would; return their results."""
    from django_tasks_db.models import DBTaskResult

    from policies.runs import verify

    rows = list(DBTaskResult.objects.filter(task_path=verify.run_verify.module_path).order_by("enqueued_at"))
    results = []
    for row in rows:
        backup_id, lease = row.args_kwargs["args"]
        outcome = verify.execute_verification(backup_id, lease=datetime.fromisoformat(lease), now=now)
        results.append(outcome.result)
    DBTaskResult.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return results
