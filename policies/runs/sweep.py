"""Taking back what stopped workers left: RUNNING tasks past their lease, queue entries left RUNNING."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from policies.models import BackupTask, Restore
from policies.runs.attempts import attempt_name, lease_length
from policies.runs.execution import (
    backup_failed,
    enqueue,
    enqueue_restore,
    finish_task,
    run_backup,
    run_restore,
)
from policies.runs.providers import get_provider
from policies.runs.verify import run_verify

logger = logging.getLogger(__name__)

Status = BackupTask.Status


def sweep_stale_tasks(*, now: datetime | None = None, provider=None) -> int:
    """Take back the RUNNING tasks whose worker died (lease passed); return how many."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        stale = list(
            BackupTask.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("tenant", "volume")
            .filter(status=Status.RUNNING, lease_until__lt=now)[:500]
        )
        for task in stale:
            # Whatever the dead attempt left (a .partial file, or a finished copy never recorded):
            # its own name, so a later attempt's copy is never touched.
            try:
                (provider or get_provider(task.volume.provider if task.volume else None)).discard(
                    task.tenant.project_id, attempt_name(task.backup_name, task.attempts)
                )
            except Exception:
                # One project's provider trouble must not stop the sweep of the others; the
                # attempt's leftover keeps its name, and the next attempt writes under another.
                logger.exception("could not discard what attempt %d of task %s left", task.attempts, task.pk)
            message = f"attempt {task.attempts} stopped: its worker stopped mid-backup (lease expired)"
            if task.attempts < settings.BACKUP_MAX_ATTEMPTS:
                task.status, task.lease_until, task.message = Status.WAITING, None, message + "; queued again"
                task.save(update_fields=["status", "lease_until", "message"])
                enqueue(task)
            else:
                message += f"; gave up after {task.attempts} attempts"
                finish_task(task, Status.EXECUTE_FAIL, message, now)
                backup_failed(task, message, now)
            count += 1
    from policies.runs.restore import sweep_stale_restores

    count += sweep_stale_restores(now=now, provider=provider)
    _recover_queue_rows(now)
    return count


def _recover_queue_rows(now: datetime) -> int:
    """Close the queue entries that a crashed worker left RUNNING; queue again a task they held.

    django-tasks-db has no lease: a worker that dies (or loses its database) mid-task leaves its
    entry RUNNING for ever, and ``prune_db_task_results`` removes only finished entries. An entry
    RUNNING for longer than a lease belongs to no live attempt (the task's own lease has passed),
    so it is marked FAILED (then pruned like any other); if its task is still WAITING (the worker
    died between taking the entry and claiming the task), the task is queued again. A
    verification's entry is only closed: its backup's lease passes and a tick queues it again.
    """
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = now - lease_length() - timedelta(minutes=1)
    with transaction.atomic():
        rows = list(
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .running()
            .filter(
                started_at__lt=cutoff,
                task_path__in=(run_backup.module_path, run_restore.module_path, run_verify.module_path),
            )
            .only("id", "args_kwargs")[:500]
        )
        if not rows:
            return 0
        DBTaskResult.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path="policies.runs.WorkerLost",
            traceback="the worker stopped before it finished this entry; recovered by the sweep",
        )
        job_ids = [row.args_kwargs.get("args", [None])[0] for row in rows]
        job_ids = [j for j in job_ids if j]
        for task in BackupTask.objects.filter(pk__in=job_ids, status=Status.WAITING):
            enqueue(task)
        # The same ids may name restores (a UUID is either): one still WAITING is queued again.
        for restore in Restore.objects.filter(pk__in=job_ids, status=Restore.Status.WAITING):
            enqueue_restore(restore)
    logger.warning("closed %d queue entries left RUNNING by stopped workers", len(rows))
    return len(rows)
