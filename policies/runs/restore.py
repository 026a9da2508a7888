"""Executing one restore: claim it, write the backup through its provider, settle the backup and the target.

The provider writes aside and renames into place only when the restored bytes' SHA-256 equals the
backup's: a failed restore leaves the target as it was. The backup is ``restoring`` from the
request until the restore settles, then ``available`` again; a restore whose bytes do not match
marks the backup as failing verification. A restore whose worker died is settled by the sweep
(``sweep_stale_restores``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from policies import events
from policies.domain.words import bytes_words
from policies.models import Backup, Restore, Volume
from policies.runs.attempts import lease_length
from policies.runs.database import with_database_retry
from policies.runs.inventory import volumes_sync
from policies.runs.providers import ProviderError, get_provider

logger = logging.getLogger(__name__)

Status = Restore.Status
Type = events.Type


def _claim(restore_id, now: datetime) -> Restore | None:
    with transaction.atomic():
        restore = (
            Restore.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("tenant", "backup", "volume")
            .filter(pk=restore_id, status=Status.WAITING)
            .first()
        )
        if restore is None:
            return None
        restore.status = Status.RUNNING
        restore.started_at = now
        restore.lease_until = now + lease_length()
        restore.save(update_fields=["status", "started_at", "lease_until"])
    return restore


def settle(
    restore: Restore, status: str, message: str, now: datetime, *, verify: str | None = None, **fields
) -> bool:
    """Settle a RUNNING (or WAITING) restore and give its backup back; False if it was settled already."""
    with transaction.atomic():
        done = Restore.objects.filter(pk=restore.pk, status__in=Restore.ACTIVE).update(
            status=status, message=message[:2000], finished_at=now, lease_until=None, **fields
        )
        if not done:
            return False
        changes: dict = {"status": Backup.Status.AVAILABLE}
        if verify == Backup.Verify.FAILED:
            changes.update(Backup.failed_verification(now, message))
        elif verify == Backup.Verify.OK:
            changes.update(verify_status=verify, verified_at=now, fail_reason="")
        if restore.backup_id is not None:
            still = Restore.objects.filter(backup_id=restore.backup_id, status__in=Restore.ACTIVE).exists()
            if still:
                changes.pop("status")
            Backup.objects.filter(pk=restore.backup_id).update(updated_at=now, **changes)
        damaged = (
            Backup.objects.filter(pk=restore.backup_id).first() if verify == Backup.Verify.FAILED else None
        )
        if damaged is not None:
            events.emit_for_backup(Type.BACKUP_VERIFY_FAILED, damaged, now, message[:2000])
        outcome = Type.RESTORE_SUCCEEDED if status == Status.SUCCEEDED else Type.RESTORE_FAILED
        events.emit_for_restore(outcome, restore, now, message[:2000])
    return True


def _progress_recorder(restore: Restore, *, every: float = 1.0, clock=time.monotonic):
    """A provider's progress function for ``restore``: writes ``bytes_done`` at most once a second.

    Only while the restore is still this worker's (RUNNING at its start time): a restore the
    sweep has taken back keeps what the sweep wrote.
    """
    last = [float("-inf")]

    def record(done: int) -> None:
        if clock() - last[0] < every:
            return
        last[0] = clock()
        try:
            Restore.objects.filter(
                pk=restore.pk, status=Status.RUNNING, started_at=restore.started_at
            ).update(bytes_done=done)
        except DatabaseError:  # progress is for a person watching; the restore itself goes on
            logger.warning("could not record the progress of restore %s", restore.pk, exc_info=True)

    return record


def execute_restore(restore_id, *, now=None, provider=None) -> str | None:
    """Run one restore; return the status it ended in (None: not ours to run)."""
    clock = (lambda: now) if now is not None else timezone.now
    restore = with_database_retry(lambda: _claim(restore_id, clock()), what=f"claiming restore {restore_id}")
    if restore is None:
        return None
    backup = restore.backup
    if backup is None:
        settle(restore, Status.FAILED, "the backup was deleted before the restore started", clock())
        return Status.FAILED
    provider = provider or get_provider(backup.provider)
    project_id = restore.tenant.project_id
    progress = _progress_recorder(restore)
    try:
        if restore.new_volume:
            info, written = provider.restore_to_new_volume(
                project_id, backup.locator, restore.volume_name, sha256=backup.sha256, progress=progress
            )
        else:
            target = restore.volume
            if target is None or target.status == Volume.Status.DELETED:
                raise ProviderError(f"the target volume {restore.volume_name} is gone: nothing was restored")
            written = provider.restore_over_volume(
                project_id, backup.locator, target.locator, sha256=backup.sha256, progress=progress
            )
            info = None
    except ProviderError as exc:
        damaged = bool(backup.sha256) and not provider.backup_matches(
            project_id, backup.locator, backup.sha256
        )
        message = str(exc)
        if damaged:
            message = (
                f"backup {backup.name} failed verification: its bytes no longer have the SHA-256 recorded "
                f"when it was taken ({backup.sha256[:12]}…); the target {restore.volume_name} is untouched"
            )
        settle(restore, Status.FAILED, message, clock(), verify=Backup.Verify.FAILED if damaged else None)
        return Status.FAILED
    except Exception:
        logger.exception("restore %s failed unexpectedly", restore.pk)
        settle(
            restore, Status.FAILED, "the restore failed with an internal error; see the worker's log", clock()
        )
        return Status.FAILED
    # The restored file is a new file (a new inode): the inventory lists it again.
    try:
        volumes_sync(tenant=restore.tenant, provider=provider)
    except Exception:
        logger.exception("the inventory of %s was not refreshed after restore %s", project_id, restore.pk)
    fields = {"bytes_done": written, "bytes_total": written}
    if info is not None:
        made = Volume.objects.filter(tenant=restore.tenant, resource_id=info.resource_id).first()
        if made is not None:
            fields["volume_id"] = made.pk
    settle(
        restore,
        Status.SUCCEEDED,
        f"restored {bytes_words(written)} into {restore.volume_name}; "
        + (
            "their SHA-256 matches the backup's"
            if backup.sha256
            else "the provider checked its own copy (no SHA-256 is recorded here for this backup)"
        ),
        clock(),
        verify=Backup.Verify.OK if backup.sha256 else None,
        **fields,
    )
    return Status.SUCCEEDED


def sweep_stale_restores(*, now: datetime | None = None, provider=None) -> int:
    """Settle the RUNNING restores whose worker died (lease passed): target untouched, backup available."""
    now = now or timezone.now()
    stale = list(
        Restore.objects.select_related("tenant", "backup").filter(status=Status.RUNNING, lease_until__lt=now)[
            :500
        ]
    )
    for restore in stale:
        try:
            chosen = provider or get_provider(restore.backup.provider if restore.backup else None)
            chosen.discard_restore(restore.tenant.project_id, restore.volume_name)
        except Exception:
            logger.exception("could not discard what restore %s left", restore.pk)
        settle(
            restore,
            Status.FAILED,
            "the worker stopped mid-restore (lease expired): the target is as it was; restore again",
            now,
        )
    return len(stale)
