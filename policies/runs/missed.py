"""Missed runs: a scheduled run not started within ``BACKUP_MISSED_RUN_GRACE_MINUTES`` of its instant.

Two ways a run is missed, each announced once with a ``run.missed`` event:

- no scheduler ran at its instant: when one returns, its tick finds the policy's due instants
  and writes one event per policy and instant older than the grace, naming its volumes, in the
  transaction that stores the instant's tasks (the policy's row lock makes it once). The newest
  instant still runs, late, while it is within ``BACKUP_MISSED_RUN_WINDOW_MINUTES``.
- the tick queued the run in time but no worker took it within the grace: the worker that
  claims it writes the event (one per task: its volume), and runs it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings

from policies import events
from policies.models import BackupTask, Event


def grace() -> timedelta:
    return timedelta(minutes=settings.BACKUP_MISSED_RUN_GRACE_MINUTES)


def _late(scheduled_at: datetime, now: datetime) -> bool:
    return now - scheduled_at > grace()


def announce_missed_instants(tasks: list[BackupTask], now: datetime) -> int:
    """Write one run.missed event per policy and instant among ``tasks`` (what a tick stored) that
    is past the grace, in one bulk insert; return how many."""
    runs: dict[tuple, list[BackupTask]] = defaultdict(list)
    for task in tasks:
        if not task.manual and _late(task.scheduled_at, now):
            runs[(task.policy_id, task.scheduled_at)].append(task)
    found = []
    for (policy_id, scheduled_at), missed in runs.items():
        first = missed[0]
        catch_up = any(task.status == BackupTask.Status.WAITING for task in missed)
        late_by = int((now - scheduled_at).total_seconds() // 60)
        message = (
            f"the run of {scheduled_at:%Y-%m-%d %H:%M} UTC did not start: no scheduler ran until "
            f"{late_by} minutes after it; "
            + ("it runs now, late" if catch_up else "it is skipped (a later run is due, or it is too old)")
        )
        found.append(
            Event(
                type=events.Type.RUN_MISSED,
                tenant_id=first.tenant_id,
                occurred_at=now,
                policy_id=policy_id,
                volume_id=first.resource_id if len(missed) == 1 else None,
                details={
                    "policy_name": first.policy_name,
                    "scheduled_at": scheduled_at.isoformat(),
                    "volume_ids": sorted(str(task.resource_id) for task in missed),
                    "catch_up": catch_up,
                    "message": message,
                },
            )
        )
    Event.objects.bulk_create(found, batch_size=500)
    return len(found)


def announce_late_claim(task: BackupTask, now: datetime) -> bool:
    """Write run.missed for a scheduled task a worker takes past the grace, though the tick queued
    it in time (a tick that queued it late announced it already). Call in the claim's transaction."""
    if task.manual or task.attempts or not _late(task.scheduled_at, now):
        return False
    if _late(task.scheduled_at, task.created_at):
        return False
    late_by = int((now - task.scheduled_at).total_seconds() // 60)
    events.emit_for_task(
        events.Type.RUN_MISSED,
        task,
        now,
        f"the run of {task.scheduled_at:%Y-%m-%d %H:%M} UTC waited {late_by} minutes for a worker; it runs now, late",
    )
    return True
