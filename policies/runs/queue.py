"""Queueing backup tasks in bulk: the scheduler's runs as task rows and queue entries in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction

from policies.models import BackupPolicy, BackupTask, Volume
from policies.runs.attempts import backup_name_for
from policies.runs.execution import enqueue, run_backup

# Rows per bulk insert, update or IN (...) list: below SQLite's limit of bound variables.
INSERT_BATCH = 500


def _insert(task: BackupTask) -> bool:
    """Insert the task; False when another scheduler inserted the same run first."""
    try:
        with transaction.atomic():  # a savepoint: the loser's insert rolls back alone
            task.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def new_task(policy: BackupPolicy, volume: Volume, scheduled_at: datetime, **fields) -> BackupTask:
    job_id = uuid.uuid4()
    return BackupTask(
        job_id=job_id,
        tenant_id=policy.tenant_id,
        policy=policy,
        policy_name=policy.name,
        volume=volume,
        resource_id=volume.resource_id,
        scheduled_at=scheduled_at,
        backup_name=backup_name_for(job_id),
        **fields,
    )


def insert_many(tasks: list[BackupTask]) -> set[uuid.UUID]:
    """Insert the tasks in bulk, skipping runs already stored; return the job ids really inserted.

    ``ignore_conflicts`` (SQLite's INSERT OR IGNORE, PostgreSQL's ON CONFLICT DO NOTHING) lets a
    run another scheduler stored first fall out of the insert without aborting the transaction,
    but does not say which rows did. Each job id is a fresh uuid4 made here, so a row carrying
    one of them, read back in this transaction, is one this insert wrote: a lost race has the
    other scheduler's job id and is neither counted nor queued.
    """
    if not tasks:
        return set()
    # In key order, so two transactions inserting overlapping runs take their locks alike.
    tasks = sorted(tasks, key=lambda task: (task.policy_id, task.volume_id, task.scheduled_at))
    BackupTask.objects.bulk_create(tasks, ignore_conflicts=True, batch_size=INSERT_BATCH)
    ids = [task.job_id for task in tasks]
    inserted: set[uuid.UUID] = set()
    for at in range(0, len(ids), INSERT_BATCH):
        inserted.update(
            BackupTask.objects.filter(job_id__in=ids[at : at + INSERT_BATCH]).values_list("job_id", flat=True)
        )
    return inserted


def enqueue_many(tasks: list[BackupTask]) -> None:
    """Queue the tasks (run at once) with one bulk insert of django-tasks-db's queue entries.

    The rows are those ``DatabaseBackend.enqueue`` writes one at a time (``run_after`` as its
    pre_save handler sets it, which a bulk insert does not call), and ``task_enqueued`` is sent
    for each. Any other backend gets one ``enqueue`` per task. Each row's ID is the model's default
    (a uuid4), which is what the backend gives a row when no ID function is configured (none is:
    config/settings.py), so no private method of the backend is called.
    """
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = run_backup.get_backend()
    if not isinstance(backend, DatabaseBackend) or run_backup.run_after is not None:
        for task in tasks:
            enqueue(task)
        return
    backend.validate_task(run_backup)
    rows = [
        DBTaskResult(
            args_kwargs={"args": [str(task.job_id)], "kwargs": {}},
            priority=run_backup.priority,
            task_path=run_backup.module_path,
            queue_name=run_backup.queue_name,
            run_after=get_date_max(),
            backend_name=backend.alias,
        )
        for task in tasks
    ]
    DBTaskResult.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)
