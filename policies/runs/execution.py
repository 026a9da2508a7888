"""Executing one backup task: claim it, back the volume up through its provider, settle the outcome.

The task function the worker runs (``run_backup``) is here too, with ``enqueue``, so that a retry is
queued in the transaction that settles the failed attempt.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_tasks import task

from policies import events
from policies.models import Backup, BackupPolicy, BackupTask, Restore, Volume
from policies.runs.attempts import attempt_name, lease_length
from policies.runs.database import with_database_retry
from policies.runs.missed import announce_late_claim
from policies.runs.providers import ProviderError, ProviderTimeout, TransientProviderError, get_provider
from policies.runs.retention import apply_retention, retention_snapshot

logger = logging.getLogger(__name__)

Status = BackupTask.Status


def _claim(job_id, now: datetime) -> BackupTask | None:
    lease = lease_length()
    with transaction.atomic():
        task = (
            BackupTask.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("tenant", "volume", "policy")
            .filter(pk=job_id, status=Status.WAITING)
            .first()
        )
        if task is None:
            return None
        reason = _skip_reason(task)
        if reason:
            finish_task(task, Status.SKIP, reason, now)
            return None
        announce_late_claim(task, now)
        task.status = Status.RUNNING
        task.started_at = task.started_at or now
        task.attempts += 1
        task.lease_until = now + lease
        task.save(update_fields=["status", "started_at", "attempts", "lease_until"])
    return task


def _skip_reason(task: BackupTask) -> str:
    if task.manual:
        return ""
    if task.policy is None:
        return "skipped: the policy was deleted before the run"
    if task.policy.status != BackupPolicy.Status.ON:
        return "skipped: the policy was turned OFF before the run"
    if task.volume is None or task.volume.policy_id != task.policy_id:
        return "skipped: the volume was removed from the policy before the run"
    return ""


def finish_task(task: BackupTask, status: str, message: str, now: datetime) -> None:
    task.status = status
    task.message = message[:2000]
    task.finished_at = now
    task.lease_until = None
    task.save(update_fields=["status", "message", "finished_at", "lease_until"])


def _settle(task: BackupTask, attempt: int, **changes) -> bool:
    """Write the outcome of an attempt, unless the sweep took the task back meanwhile.

    The attempt's number is its fencing token: one conditional UPDATE, which holds the task's
    row lock while it checks, writes the outcome only while the task is RUNNING at that attempt.
    """
    return bool(
        BackupTask.objects.filter(pk=task.pk, status=Status.RUNNING, attempts=attempt).update(**changes)
    )


def execute_task(job_id, *, now=None, provider=None) -> str | None:
    """Run one task's backup through its provider; return the status it ended in (None: not ours)."""
    clock = (lambda: now) if now is not None else timezone.now
    task = with_database_retry(lambda: _claim(job_id, clock()), what=f"claiming task {job_id}")
    if task is None:
        return None
    provider = provider or get_provider(task.volume.provider if task.volume else None)
    volume = task.volume
    attempt = task.attempts
    name = attempt_name(task.backup_name, attempt)
    project_id = task.tenant.project_id
    if volume is None or volume.status not in Volume.BACKUP_STATUSES:
        state = "deleted" if volume is None else volume.status
        message = f"the volume is {state}: it cannot be backed up (AutoBackup.0206)"
        _fail_for_good(task, attempt, Status.EXECUTE_FAIL, message, clock())
        return Status.EXECUTE_FAIL
    refusal = _restore_refusal(volume) or _storage_limit_refusal(task, volume, provider)
    if refusal:
        _fail_for_good(task, attempt, Status.EXECUTE_FAIL, refusal, clock())
        return Status.EXECUTE_FAIL
    deadline = time.monotonic() + settings.BACKUP_TIMEOUT_SECONDS
    try:
        made = provider.create_backup(project_id, volume.locator, name, deadline=deadline)
        if not provider.check_backup(project_id, made.locator):
            # A row is made only for bytes that exist.
            raise TransientProviderError("the backup was written but is gone before it was recorded")
    except ProviderTimeout as exc:
        provider.discard(project_id, name)  # this attempt's name: never another attempt's copy
        _fail_for_good(task, attempt, Status.EXECUTE_TIMEOUT, str(exc), clock())
        return Status.EXECUTE_TIMEOUT
    except ProviderError as exc:
        provider.discard(project_id, name)
        return _failed(task, attempt, str(exc), exc.transient, clock())
    except Exception:
        logger.exception("backup task %s failed unexpectedly", task.pk)
        provider.discard(project_id, name)
        return _failed(
            task, attempt, "the backup failed with an internal error; see the worker's log", False, clock()
        )
    settled = with_database_retry(
        lambda: _record_backup(task, attempt, volume, provider, made, clock()),
        what=f"recording the backup of task {task.pk}",
    )
    if not settled:
        # The sweep gave this attempt up for dead: the task is another attempt's now. What this
        # attempt made carries its own name, so deleting it touches nothing of the other's.
        provider.delete_backup(project_id, made.locator)
        return None
    if task.policy_id is not None and not task.manual:
        with_database_retry(
            lambda: apply_retention(policy_id=task.policy_id, volume=volume, now=clock(), provider=provider),
            what=f"applying the retention of policy {task.policy_id}",
        )
    return Status.EXECUTE_SUCCESS


def _restore_refusal(volume: Volume) -> str:
    """Why the volume is not backed up now (a restore is writing it), or ""."""
    if Restore.objects.filter(volume=volume, status__in=Restore.ACTIVE).exists():
        return f"the volume {volume.name} is being restored: it is not backed up meanwhile (AutoBackup.0243)"
    return ""


def _storage_limit_refusal(task: BackupTask, volume: Volume, provider) -> str:
    """Why the project may not take this backup (its backups would pass its storage limit), or "".

    What the backups occupy is the provider's count when it has one (the local store: its chunks,
    each once), else the sum of their sizes. The new backup is counted at its volume's full size:
    how much of it is new is known only once it is read.
    """
    limit = settings.BACKUP_PROJECT_LIMIT_BYTES
    if not limit:
        return ""
    used = provider.stored_bytes(task.tenant.project_id)
    if used is None:
        used = (
            Backup.objects.filter(tenant_id=task.tenant_id).aggregate(total=Sum("size_bytes"))["total"] or 0
        )
    needed = round(volume.size_gib * 1024**3)
    if used + needed <= limit:
        return ""
    return (
        f"refused: the project's backups hold {used} bytes of its {limit}-byte storage limit, and this "
        f"backup of {volume.name} needs {needed} more; delete backups or shorten retention"
    )


def _record_backup(task: BackupTask, attempt: int, volume: Volume, provider, made, finished) -> bool:
    """Settle a successful attempt and record its backup, if the task is still this attempt's."""
    with transaction.atomic():
        if not _settle(
            task,
            attempt,
            status=Status.EXECUTE_SUCCESS,
            message=made.message,
            finished_at=finished,
            lease_until=None,
        ):
            return False
        fields = {
            "locator": made.locator,
            "size_bytes": made.size_bytes,
            "sha256": made.sha256,
            "status": Backup.Status.AVAILABLE,
        }
        # A backup asked for through the API is already a row, "creating" since it was asked for.
        backup = Backup.objects.filter(task=task).first()
        if backup is not None:
            Backup.objects.filter(pk=backup.pk).update(updated_at=finished, **fields)
        else:
            backup = _create_backup(task, volume, provider, made)
        events.emit_for_task(events.Type.BACKUP_SUCCEEDED, task, finished, made.message, backup)
    return True


def _create_backup(task: BackupTask, volume: Volume, provider, made) -> Backup:
    """The row of a backup the schedule (or "execute now") made, with the retention it was made under."""
    return Backup.objects.create(
        tenant_id=task.tenant_id,
        policy_id=task.policy_id,
        policy_name=task.policy_name,
        volume=volume,
        resource_id=task.resource_id,
        task=task,
        name=task.backup_name,
        provider=provider.name,
        locator=made.locator,
        size_bytes=made.size_bytes,
        sha256=made.sha256,
        taken_at=task.scheduled_at,
        manual=task.manual,
        origin_policy_id=task.policy_id,
        retention=retention_snapshot(task.policy) if task.policy is not None else {},
    )


def backup_failed(task: BackupTask, message: str, now: datetime) -> None:
    """A task failed for good: the backup asked for through the API (a row ``creating``) is ``error``,
    with why, and the failure is announced. Called in the transaction that settles the task."""
    Backup.objects.filter(task_id=task.pk, status=Backup.Status.CREATING).update(
        status=Backup.Status.ERROR, fail_reason=message[:2000]
    )
    events.emit_for_task(events.Type.BACKUP_FAILED, task, now, message[:2000])


def _fail_for_good(task: BackupTask, attempt: int, status: str, message: str, now: datetime) -> bool:
    """Settle an attempt as failed for good (no retry), unless the sweep took the task back meanwhile."""
    with transaction.atomic():
        if not _settle(
            task, attempt, status=status, message=message[:2000], finished_at=now, lease_until=None
        ):
            return False
        backup_failed(task, message, now)
    return True


def _failed(task: BackupTask, attempt: int, message: str, transient: bool, now: datetime) -> str | None:
    """Settle a failed attempt (WAITING for a retry, or EXECUTE_FAIL); None when it was no longer ours."""
    if transient and attempt < settings.BACKUP_MAX_ATTEMPTS:
        retry_at = now + timedelta(seconds=settings.BACKUP_RETRY_DELAY_SECONDS)
        with transaction.atomic():
            if not _settle(
                task,
                attempt,
                status=Status.WAITING,
                lease_until=None,
                message=f"attempt {attempt} of {settings.BACKUP_MAX_ATTEMPTS} failed: {message}; "
                f"trying again at {retry_at:%H:%M:%S} UTC",
            ):
                return None
            enqueue(task, run_after=retry_at)
        return Status.WAITING
    if transient:
        message = f"{message} (gave up after {attempt} attempts)"
    if not _fail_for_good(task, attempt, Status.EXECUTE_FAIL, message, now):
        return None
    return Status.EXECUTE_FAIL


@task()
def run_backup(job_id: str) -> str | None:
    """Make the backup of one backup task (the function the worker runs)."""
    return execute_task(job_id)


def enqueue(task: BackupTask, run_after: datetime | None = None) -> None:
    """Queue the backup of one task, at once or from ``run_after``."""
    queued = run_backup if run_after is None else run_backup.using(run_after=run_after)
    queued.enqueue(str(task.job_id))


@task()
def run_restore(restore_id: str) -> str | None:
    """Restore one backup (the function the worker runs for a restore)."""
    from policies.runs.restore import execute_restore

    return execute_restore(restore_id)


def enqueue_restore(restore: Restore) -> None:
    """Queue one restore, at once."""
    run_restore.enqueue(str(restore.pk))
