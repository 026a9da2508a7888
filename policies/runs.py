"""Runs: due runs become backup tasks, a task becomes one backup, and retention follows.

Nothing here computes a schedule or a retention rule: the core answers (``domain.nextruns.next_run``,
``domain.retention.retention_keeps``). What must happen once is decided by the database: a run of one
volume for one scheduled instant is a row unique on (policy, volume, scheduled_at), created in
the transaction that advances the policy's ``next_run_at`` under a row lock (``SKIP LOCKED`` on
PostgreSQL; SQLite's IMMEDIATE transaction holds the write lock), and the queue entry of the
task (django-tasks-db) is written in that same transaction. Time is an argument (``now``), so a
week of schedule can be played in a second.

The decisions (docs/api.md, "Volumes and runs"):
- A run is fired if it is at most ``BACKUP_MISSED_RUN_WINDOW_MINUTES`` late (360 by default):
  a scheduler that was down fires the latest missed run once, late; every older missed run (at
  most ``SKIP_RECORD_LIMIT`` instants per policy and tick) is recorded as ``SKIP``.
- A task runs through its provider with a deadline (``BACKUP_TIMEOUT_SECONDS``, then
  ``EXECUTE_TIMEOUT``). A transient failure is tried again up to ``BACKUP_MAX_ATTEMPTS``
  attempts in all, ``BACKUP_RETRY_DELAY_SECONDS`` apart; each attempt is counted on the task.
- A RUNNING task holds a lease (its timeout plus ``LEASE_GRACE``). A worker killed mid-backup
  leaves its lease to expire: the sweep (every scheduler tick) discards what the attempt left
  with the provider and queues the task again, or fails it once its attempts are spent.
- A scheduled task whose policy is gone, OFF, or no longer holds the volume when a worker takes
  it is ``SKIP``: delete, disassociate and OFF take effect before the next run.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from policies.domain.retention import simulation
from policies.domain.schedule import nextruns

from .models import Backup, BackupPolicy, BackupTask, Volume
from .providers import ProviderError, ProviderTimeout, get_provider

logger = logging.getLogger(__name__)

LEASE_GRACE = timedelta(minutes=2)
SKIP_RECORD_LIMIT = 24
# At most this many due policies per transaction of a tick; a tick loops until none is due.
TICK_BATCH = 200
# Rows per bulk insert, update or IN (...) list: below SQLite's limit of bound variables.
INSERT_BATCH = 500

Status = BackupTask.Status


def backup_name_for(job_id: uuid.UUID) -> str:
    """Return the name of a task's backup: ``autobk_`` and a short unique suffix."""
    return f"autobk_{job_id.hex[:12]}"


def next_run_after(policy: BackupPolicy, moment: datetime) -> datetime | None:
    """Return the policy's first run strictly after ``moment`` (None while it is OFF)."""
    run = nextruns.next_run(policy.to_spec(tags=()), start=moment + timedelta(microseconds=1))
    return None if run is None else run.utc


def first_run_from(policy: BackupPolicy, moment: datetime) -> datetime | None:
    """Return the policy's first run at or after ``moment``: its next_run_at after a change."""
    run = nextruns.next_run(policy.to_spec(tags=()), start=moment)
    return None if run is None else run.utc


def enqueue(task: BackupTask, run_after: datetime | None = None) -> None:
    from .tasks import run_backup  # the task module imports this one

    queued = run_backup if run_after is None else run_backup.using(run_after=run_after)
    queued.enqueue(str(task.job_id))


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


# --- The scheduler ---------------------------------------------------------------------------


@dataclass
class TickResult:
    policies: int = 0
    queued: int = 0
    skipped: int = 0
    lost_races: int = 0
    swept: int = 0
    rebased: int = 0
    queued_ids: list[uuid.UUID] = field(default_factory=list)


def _missed_window() -> timedelta:
    return timedelta(minutes=settings.BACKUP_MISSED_RUN_WINDOW_MINUTES)


def _plan_policy(policy: BackupPolicy, now: datetime) -> tuple[list[BackupTask], datetime | None]:
    """Return the tasks of the policy's due runs (SKIP records and the one fired) and its next run."""
    spec = policy.to_spec(tags=())
    due: list[datetime] = []
    following = nextruns.next_run(spec, start=policy.next_run_at)
    # Each run at or before now is due; the first one after now is the new next_run_at. (A
    # scheduler down for years still stops: older instants than the window are only counted.)
    while following is not None and following.utc <= now:
        due.append(following.utc)
        if len(due) > SKIP_RECORD_LIMIT + 1:
            del due[0]
        following = nextruns.next_run(spec, start=following.utc + timedelta(minutes=1))
    fire = due[-1] if due and now - due[-1] <= _missed_window() else None
    skip = [moment for moment in due if moment != fire][-SKIP_RECORD_LIMIT:]
    tasks = []
    for volume in policy.volumes.all():  # prefetched with the batch
        for moment in skip:
            tasks.append(
                new_task(
                    policy,
                    volume,
                    moment,
                    status=Status.SKIP,
                    finished_at=now,
                    message=f"missed: no scheduler ran between {moment:%Y-%m-%d %H:%M} UTC and "
                    f"{_missed_window()} after it",
                )
            )
        if fire is not None:
            tasks.append(new_task(policy, volume, fire))
    return tasks, None if following is None else following.utc


def _insert_many(tasks: list[BackupTask]) -> set[uuid.UUID]:
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
    for each. Any other backend gets one ``enqueue`` per task.
    """
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    from .tasks import run_backup

    backend = run_backup.get_backend()
    if not isinstance(backend, DatabaseBackend) or run_backup.run_after is not None:
        for task in tasks:
            enqueue(task)
        return
    backend.validate_task(run_backup)
    rows = [
        DBTaskResult(
            id=backend._get_id(),
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


def _fire_batch(policies: list[BackupPolicy], now: datetime, result: TickResult) -> None:
    """Store the due runs of a batch of locked policies, queue the new ones, move their next runs."""
    tasks: list[BackupTask] = []
    for policy in policies:
        planned, policy.next_run_at = _plan_policy(policy, now)
        tasks += planned
    inserted = _insert_many(tasks)
    fired = []
    for task in tasks:
        if task.job_id not in inserted:
            result.lost_races += 1
        elif task.status == Status.SKIP:
            result.skipped += 1
        else:
            fired.append(task)
    enqueue_many(fired)
    result.queued += len(fired)
    result.queued_ids += [task.job_id for task in fired]
    BackupPolicy.objects.bulk_update(policies, ["next_run_at"], batch_size=INSERT_BATCH)
    result.policies += len(policies)


def scheduler_tick(*, now: datetime | None = None, sweep: bool = True) -> TickResult:
    """Turn every due run of every ON policy into tasks, once; return what was done."""
    now = now or timezone.now()
    result = TickResult()
    if sweep:
        result.swept = sweep_stale_tasks(now=now)
    # A policy with a named zone is re-based before any run is fired, so that what it stores is
    # what runs next (its runs themselves are the zone's, whatever it stores). services imports
    # this module, hence the late import.
    from .services import policies_rebase_zones

    result.rebased = policies_rebase_zones(now=now)
    _place_unscheduled(now)
    while True:
        with transaction.atomic():
            # SKIP LOCKED: two schedulers share the due policies instead of waiting for each other;
            # the policy stays locked until its next_run_at has moved past now.
            due = list(
                BackupPolicy.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=BackupPolicy.Status.ON, next_run_at__lte=now)
                .order_by("next_run_at", "pk")
                .prefetch_related("volumes")[:TICK_BATCH]
            )
            _fire_batch(due, now, result)
        if len(due) < TICK_BATCH:
            return result


def _place_unscheduled(now: datetime) -> None:
    """Give an ON policy without a next run (stored before runs existed) its first run from now."""
    with transaction.atomic():
        policies = list(
            BackupPolicy.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                status=BackupPolicy.Status.ON, next_run_at__isnull=True
            )[:TICK_BATCH]
        )
        for policy in policies:
            policy.next_run_at = first_run_from(policy, now)
        BackupPolicy.objects.bulk_update(policies, ["next_run_at"], batch_size=INSERT_BATCH)


# --- Execution -------------------------------------------------------------------------------


def _claim(job_id, now: datetime) -> BackupTask | None:
    lease = timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS) + LEASE_GRACE
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
            _finish(task, Status.SKIP, reason, now)
            return None
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


def _finish(task: BackupTask, status: str, message: str, now: datetime) -> None:
    task.status = status
    task.message = message[:2000]
    task.finished_at = now
    task.lease_until = None
    task.save(update_fields=["status", "message", "finished_at", "lease_until"])


def _settle(task: BackupTask, attempt: int, **changes) -> bool:
    """Write the outcome of an attempt, unless the sweep took the task back meanwhile."""
    return bool(
        BackupTask.objects.filter(pk=task.pk, status=Status.RUNNING, attempts=attempt).update(**changes)
    )


def execute_task(job_id, *, now=None, provider=None) -> str | None:
    """Run one task's backup through its provider; return the status it ended in (None: not ours)."""
    clock = (lambda: now) if now is not None else timezone.now
    task = _claim(job_id, clock())
    if task is None:
        return None
    provider = provider or get_provider(task.volume.provider if task.volume else None)
    volume = task.volume
    attempt = task.attempts
    project_id = task.tenant.project_id
    if volume is None or volume.status not in Volume.BACKUP_STATUSES:
        state = "deleted" if volume is None else volume.status
        message = f"the volume is {state}: it cannot be backed up (AutoBackup.0206)"
        _settle(
            task, attempt, status=Status.EXECUTE_FAIL, message=message, finished_at=clock(), lease_until=None
        )
        return Status.EXECUTE_FAIL
    deadline = time.monotonic() + settings.BACKUP_TIMEOUT_SECONDS
    try:
        made = provider.create_backup(project_id, volume.locator, task.backup_name, deadline=deadline)
    except ProviderTimeout as exc:
        provider.discard(project_id, task.backup_name)
        _settle(
            task,
            attempt,
            status=Status.EXECUTE_TIMEOUT,
            message=str(exc),
            finished_at=clock(),
            lease_until=None,
        )
        return Status.EXECUTE_TIMEOUT
    except ProviderError as exc:
        provider.discard(project_id, task.backup_name)
        return _failed(task, attempt, str(exc), exc.transient, clock())
    except Exception:
        logger.exception("backup task %s failed unexpectedly", task.pk)
        provider.discard(project_id, task.backup_name)
        return _failed(
            task, attempt, "the backup failed with an internal error; see the worker's log", False, clock()
        )
    finished = clock()
    with transaction.atomic():
        if not _settle(
            task,
            attempt,
            status=Status.EXECUTE_SUCCESS,
            message=made.message,
            finished_at=finished,
            lease_until=None,
        ):
            # The sweep gave this attempt up for dead: the task is another attempt's now.
            provider.delete_backup(project_id, made.locator)
            return None
        Backup.objects.create(
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
        )
    if task.policy_id is not None:
        apply_retention(policy_id=task.policy_id, volume=volume, now=finished, provider=provider)
    return Status.EXECUTE_SUCCESS


def _failed(task: BackupTask, attempt: int, message: str, transient: bool, now: datetime) -> str:
    if transient and attempt < settings.BACKUP_MAX_ATTEMPTS:
        retry_at = now + timedelta(seconds=settings.BACKUP_RETRY_DELAY_SECONDS)
        with transaction.atomic():
            if _settle(
                task,
                attempt,
                status=Status.WAITING,
                lease_until=None,
                message=f"attempt {attempt} of {settings.BACKUP_MAX_ATTEMPTS} failed: {message}; "
                f"trying again at {retry_at:%H:%M:%S} UTC",
            ):
                enqueue(task, run_after=retry_at)
        return Status.WAITING
    if transient:
        message = f"{message} (gave up after {attempt} attempts)"
    _settle(
        task, attempt, status=Status.EXECUTE_FAIL, message=message[:2000], finished_at=now, lease_until=None
    )
    return Status.EXECUTE_FAIL


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
            # Whatever the dead attempt left (a .partial file, or a finished copy never recorded).
            (provider or get_provider(task.volume.provider if task.volume else None)).discard(
                task.tenant.project_id, task.backup_name
            )
            message = f"attempt {task.attempts} stopped: its worker stopped mid-backup (lease expired)"
            if task.attempts < settings.BACKUP_MAX_ATTEMPTS:
                task.status, task.lease_until, task.message = Status.WAITING, None, message + "; queued again"
                task.save(update_fields=["status", "lease_until", "message"])
                enqueue(task)
            else:
                _finish(task, Status.EXECUTE_FAIL, message + f"; gave up after {task.attempts} attempts", now)
            count += 1
    return count


# --- Retention -------------------------------------------------------------------------------


def apply_retention(*, policy_id, volume: Volume, now: datetime, provider=None) -> int:
    """Delete the volume's backups of the policy that its retention no longer keeps; return how many."""
    policy = BackupPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return 0
    backups = list(Backup.objects.filter(policy=policy, volume=volume).order_by("taken_at", "created_at"))
    keeps = simulation.retention_keeps(
        policy.to_spec(tags=()), [backup.taken_at for backup in backups], now=now
    )
    gone = [backup for backup, kept in zip(backups, keeps, strict=True) if not kept]
    provider = provider or get_provider(volume.provider)
    for backup in gone:
        # The file first: a crash between leaves a row whose file is gone (deleted again next
        # time), never a file that no row knows of.
        provider.delete_backup(volume.tenant.project_id, backup.locator)
        backup.delete()
    if gone:
        logger.info("retention of policy %s deleted %d backup(s) of %s", policy.pk, len(gone), volume)
    return len(gone)
