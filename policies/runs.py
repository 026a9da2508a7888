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
- A RUNNING task holds a lease (its timeout plus ``BACKUP_LEASE_GRACE_SECONDS``). A worker killed
  mid-backup leaves its lease to expire: the sweep (every scheduler tick) discards what the
  attempt left with the provider and queues the task again, or fails it once its attempts are
  spent.
- Fencing: each attempt writes under its own name (``attempt_name``: the task's backup name and
  the attempt's number), and the attempt's number is its token. An attempt settles (a Backup row,
  a status) only while the task, locked, is still RUNNING at its number, and it deletes only what
  carries its own name. A worker that was paused past its lease and resumes therefore finds the
  task taken, removes its own copy, and never touches the copy of the attempt that replaced it.
- A database outage does not lose a finished copy: the claim and the settle are tried again,
  with backoff, for up to ``BACKUP_DB_RETRY_SECONDS``; a copy never settled carries its attempt's
  name, which the sweep discards when it takes the task back.
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
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from policies.domain.retention import simulation
from policies.domain.schedule import nextruns

from .models import Backup, BackupPolicy, BackupTask, Volume
from .providers import ProviderError, ProviderTimeout, TransientProviderError, get_provider

logger = logging.getLogger(__name__)

SKIP_RECORD_LIMIT = 24
# At most this many due policies per transaction of a tick; a tick loops until none is due.
TICK_BATCH = 200
# Rows per bulk insert, update or IN (...) list: below SQLite's limit of bound variables.
INSERT_BATCH = 500

Status = BackupTask.Status


def backup_name_for(job_id: uuid.UUID) -> str:
    """Return the name of a task's backup: ``autobk_`` and a short unique suffix."""
    return f"autobk_{job_id.hex[:12]}"


def attempt_name(backup_name: str, attempt: int) -> str:
    """Return the provider-side name of one attempt of a task: what that attempt alone may delete."""
    return f"{backup_name}-{attempt}"


def lease_length() -> timedelta:
    """How long a RUNNING attempt is trusted before the sweep takes its task back."""
    return timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS + settings.BACKUP_LEASE_GRACE_SECONDS)


# The database errors that mean "not reachable now" (a restart, a failover, a cut connection).
DATABASE_DOWN = (OperationalError, InterfaceError)


def with_database_retry(action, *, what: str, sleep=None):
    """Run ``action()``; while the database is unreachable, try again with backoff, then give up.

    Between tries the broken connection is closed, so that the next try opens a fresh one. Only
    for work outside any transaction: a transaction cannot outlive its connection.
    """
    give_up = time.monotonic() + settings.BACKUP_DB_RETRY_SECONDS
    pause = 0.5
    while True:
        try:
            return action()
        except DATABASE_DOWN as exc:
            if time.monotonic() + pause > give_up:
                raise
            logger.warning("database unreachable while %s (%s); trying again in %.1f s", what, exc, pause)
            connection.close()
            (sleep or time.sleep)(pause)
            pause = min(pause * 2, 10.0)


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
    unplanned: list[uuid.UUID] = field(default_factory=list)


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
    planned_policies = []
    for policy in policies:
        try:
            planned, next_run_at = _plan_policy(policy, now)
        except Exception:
            # One policy that cannot be planned (a stored value no reading accepts) waits, logged
            # at each tick; the other policies' runs go on.
            logger.exception("the runs of policy %s could not be planned; it is left due", policy.pk)
            result.unplanned.append(policy.pk)
            continue
        policy.next_run_at = next_run_at
        planned_policies.append(policy)
        tasks += planned
    policies = planned_policies
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
                .exclude(pk__in=result.unplanned)
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
        _settle(
            task, attempt, status=Status.EXECUTE_FAIL, message=message, finished_at=clock(), lease_until=None
        )
        return Status.EXECUTE_FAIL
    refusal = _storage_limit_refusal(task, volume)
    if refusal:
        _settle(
            task, attempt, status=Status.EXECUTE_FAIL, message=refusal, finished_at=clock(), lease_until=None
        )
        return Status.EXECUTE_FAIL
    deadline = time.monotonic() + settings.BACKUP_TIMEOUT_SECONDS
    try:
        made = provider.create_backup(project_id, volume.locator, name, deadline=deadline)
        if not provider.check_backup(project_id, made.locator):
            # A row is made only for bytes that exist.
            raise TransientProviderError("the backup was written but is gone before it was recorded")
    except ProviderTimeout as exc:
        provider.discard(project_id, name)  # this attempt's name: never another attempt's copy
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


def _storage_limit_refusal(task: BackupTask, volume: Volume) -> str:
    """Why the project may not take this backup (its backups would pass its storage limit), or ""."""
    limit = settings.BACKUP_PROJECT_LIMIT_BYTES
    if not limit:
        return ""
    used = Backup.objects.filter(tenant_id=task.tenant_id).aggregate(total=Sum("size_bytes"))["total"] or 0
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
            manual=task.manual,
            origin_policy_id=task.policy_id,
            retention=retention_snapshot(task.policy) if task.policy is not None else {},
        )
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
    if not _settle(
        task, attempt, status=Status.EXECUTE_FAIL, message=message[:2000], finished_at=now, lease_until=None
    ):
        return None
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
                _finish(task, Status.EXECUTE_FAIL, message + f"; gave up after {task.attempts} attempts", now)
            count += 1
    _recover_queue_rows(now)
    return count


def _recover_queue_rows(now: datetime) -> int:
    """Close the queue entries that a crashed worker left RUNNING; queue again a task they held.

    django-tasks-db has no lease: a worker that dies (or loses its database) mid-task leaves its
    entry RUNNING for ever, and ``prune_db_task_results`` removes only finished entries. An entry
    RUNNING for longer than a lease belongs to no live attempt (the task's own lease has passed),
    so it is marked FAILED (then pruned like any other); if its task is still WAITING (the worker
    died between taking the entry and claiming the task), the task is queued again.
    """
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import run_backup

    cutoff = now - lease_length() - timedelta(minutes=1)
    with transaction.atomic():
        rows = list(
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .running()
            .filter(started_at__lt=cutoff, task_path=run_backup.module_path)
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
        for task in BackupTask.objects.filter(pk__in=[j for j in job_ids if j], status=Status.WAITING):
            enqueue(task)
    logger.warning("closed %d queue entries left RUNNING by stopped workers", len(rows))
    return len(rows)


# --- Retention -------------------------------------------------------------------------------
#
# Which backups a rule counts (docs/operations.md, "Retention"):
# - A policy's automatic backups of a volume it holds: its rule as it is now, after each of them.
# - Manual backups ("execute now"): never counted and never deleted by retention; a person
#   deletes them. They count toward the project's storage limit.
# - The automatic backups of a deleted policy, or of a volume that left the policy (moved,
#   removed): the rule stored with the newest of them (the policy's rule as it stood when it made
#   that backup), applied by the scheduler (``retain_orphaned_backups``).
# - A backup whose file or provider copy is gone is never counted as kept: it is left out, logged,
#   and the rule keeps as many of the backups that exist.


def retention_snapshot(policy: BackupPolicy) -> dict:
    """The policy's stored fields that its retention reads, to keep with each backup it makes."""
    return {name: getattr(policy, name) for name in BackupPolicy.SPEC_FIELDS}


def apply_retention(*, policy_id, volume: Volume, now: datetime, provider=None) -> int:
    """Delete the volume's backups of the policy that its retention no longer keeps; return how many."""
    policy = BackupPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return 0
    backups = Backup.objects.filter(policy=policy, volume=volume, manual=False)
    return _retain(
        backups, policy.to_spec(tags=()), now=now, provider=provider or get_provider(volume.provider)
    )


def _retain(backups, spec, *, now: datetime, provider) -> int:
    """Delete the backups (one policy's, of one volume) that ``spec``'s rule no longer keeps."""
    present, missing = [], []
    for backup in backups.select_related("tenant").order_by("taken_at", "created_at"):
        (present if provider.check_backup(backup.tenant.project_id, backup.locator) else missing).append(
            backup
        )
    for backup in missing:
        logger.warning(
            "backup %s (%s) has no data at its provider: retention does not count it",
            backup.pk,
            backup.locator,
        )
    keeps = simulation.retention_keeps(spec, [backup.taken_at for backup in present], now=now)
    gone = [backup for backup, kept in zip(present, keeps, strict=True) if not kept]
    for backup in gone:
        # The file first: a crash between leaves a row whose file is gone (deleted again next
        # time), never a file that no row knows of.
        provider.delete_backup(backup.tenant.project_id, backup.locator)
        backup.delete()
    if gone:
        logger.info("retention of %s deleted %d backup(s)", spec.name, len(gone))
    return len(gone)


def retain_orphaned_backups(*, now: datetime | None = None, provider=None) -> int:
    """Apply, to the automatic backups no policy holds any more, the rule stored with the newest."""
    now = now or timezone.now()
    orphaned = Backup.objects.filter(manual=False).filter(
        Q(policy__isnull=True)
        | Q(volume__isnull=True)
        | Q(volume__policy__isnull=True)
        | ~Q(volume__policy=F("policy"))
    )
    groups = orphaned.values_list("tenant_id", "origin_policy_id", "resource_id", "provider").distinct()
    deleted = 0
    for tenant_id, origin, resource_id, provider_name in groups:
        group = orphaned.filter(tenant_id=tenant_id, origin_policy_id=origin, resource_id=resource_id)
        newest = group.exclude(retention={}).order_by("-taken_at", "-created_at").first()
        if origin is None or newest is None:
            continue  # made before backups carried their rule: kept until a person deletes them
        try:
            spec = BackupPolicy.spec_from_values(newest.retention, ())
            deleted += _retain(group, spec, now=now, provider=provider or get_provider(provider_name))
        except Exception:
            logger.exception("retention of the orphaned backups of policy %s failed", origin)
    return deleted
