"""The scheduler tick: every due run of every ON policy becomes a task, once."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from policies.domain.schedule import nextruns
from policies.models import BackupPolicy, BackupTask
from policies.runs import heartbeat, missed
from policies.runs.queue import INSERT_BATCH, enqueue_many, insert_many, new_task
from policies.runs.sweep import sweep_stale_tasks
from policies.zone_rebase import policies_rebase_zones

logger = logging.getLogger(__name__)

Status = BackupTask.Status


SKIP_RECORD_LIMIT = 24


# At most this many due policies per transaction of a tick; a tick loops until none is due.
TICK_BATCH = 200


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
                    created_at=now,
                    finished_at=now,
                    message=f"missed: no scheduler ran between {moment:%Y-%m-%d %H:%M} UTC and "
                    f"{_missed_window()} after it",
                )
            )
        if fire is not None:
            # Stored at the tick's own time: whether a worker took it late is told from it.
            tasks.append(new_task(policy, volume, fire, created_at=now))
    return tasks, None if following is None else following.utc


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
    inserted = insert_many(tasks)
    missed.announce_missed_instants([task for task in tasks if task.job_id in inserted], now)
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
    # One UPDATE per distinct next run: policies due together mostly move to the same next run,
    # and bulk_update's CASE over every primary key costs more to build than the rows it writes.
    by_next_run: dict[datetime | None, list] = defaultdict(list)
    for policy in policies:
        by_next_run[policy.next_run_at].append(policy.pk)
    for next_run_at, keys in by_next_run.items():
        for at in range(0, len(keys), INSERT_BATCH):
            BackupPolicy.objects.filter(pk__in=keys[at : at + INSERT_BATCH]).update(next_run_at=next_run_at)
    result.policies += len(policies)


def scheduler_tick(*, now: datetime | None = None, sweep: bool = True) -> TickResult:
    """Turn every due run of every ON policy into tasks, once; return what was done."""
    now = now or timezone.now()
    result = TickResult()
    if sweep:
        result.swept = sweep_stale_tasks(now=now)
    # A policy with a named zone is re-based before any run is fired, so that what it stores is
    # what runs next (its runs themselves are the zone's, whatever it stores).
    result.rebased = policies_rebase_zones(now=now)
    # A first look without locks: a tick comes every few seconds and runs start on the hour, so
    # most ticks find nothing to place or fire and open no transaction at all.
    if not _on_policies().filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)).exists():
        heartbeat.record_tick(now)
        return result
    _place_unscheduled(now)
    while True:
        with transaction.atomic():
            # SKIP LOCKED: two schedulers share the due policies instead of waiting for each other;
            # the policy stays locked until its next_run_at has moved past now.
            due = list(
                _on_policies()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(next_run_at__lte=now)
                .exclude(pk__in=result.unplanned)
                .order_by("next_run_at", "pk")
                .prefetch_related("volumes")[:TICK_BATCH]
            )
            _fire_batch(due, now, result)
        if len(due) < TICK_BATCH:
            heartbeat.record_tick(now)
            return result


def _on_policies():
    return BackupPolicy.objects.filter(status=BackupPolicy.Status.ON)


def _place_unscheduled(now: datetime) -> None:
    """Give an ON policy without a next run (stored before runs existed) its first run from now."""
    # A first look without locks: such policies are rare, so a tick mostly takes no lock here.
    unplaced = _on_policies().filter(next_run_at__isnull=True)
    if not unplaced.exists():
        return
    with transaction.atomic():
        policies = list(unplaced.select_for_update(skip_locked=True, of=("self",))[:TICK_BATCH])
        for policy in policies:
            policy.next_run_at = policy.first_run_from(now)
        BackupPolicy.objects.bulk_update(policies, ["next_run_at"], batch_size=INSERT_BATCH)
