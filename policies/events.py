"""Writing events to the outbox: called inside the transaction of the change each one describes.

The worker announces what is written here (webhooks, e-mail); nothing here sends anything, so a
change that rolls back leaves no event behind, and one that commits always has its event.
"""

from __future__ import annotations

from datetime import datetime

from policies.models import Backup, BackupTask, Event, Restore

Type = Event.Type


def emit(
    type: str,
    tenant_id: int,
    *,
    occurred_at: datetime | None = None,
    policy_id=None,
    volume_id=None,
    backup_id=None,
    task_id=None,
    restore_id=None,
    **details,
) -> Event:
    """Write one event; the caller's transaction decides whether it is ever announced."""
    fields = {"occurred_at": occurred_at} if occurred_at is not None else {}
    return Event.objects.create(
        type=type,
        tenant_id=tenant_id,
        policy_id=policy_id,
        volume_id=volume_id,
        backup_id=backup_id,
        task_id=task_id,
        restore_id=restore_id,
        details=details,
        **fields,
    )


def emit_for_task(
    type: str, task: BackupTask, now: datetime, message: str, backup: Backup | None = None
) -> Event:
    """An event about one backup task (its run's outcome), named by the task's ids and names."""
    return emit(
        type,
        task.tenant_id,
        occurred_at=now,
        policy_id=task.policy_id,
        volume_id=task.resource_id,
        backup_id=backup.pk if backup is not None else None,
        task_id=task.pk,
        policy_name=task.policy_name,
        backup_name=task.backup_name,
        scheduled_at=task.scheduled_at.isoformat(),
        manual=task.manual,
        message=message,
    )


def emit_for_backup(type: str, backup: Backup, now: datetime, message: str) -> Event:
    """An event about one backup (its verification), named by the backup's own ids and names."""
    return emit(
        type,
        backup.tenant_id,
        occurred_at=now,
        policy_id=backup.policy_id,
        volume_id=backup.resource_id,
        backup_id=backup.pk,
        task_id=backup.task_id,
        backup_name=backup.name,
        policy_name=backup.policy_name,
        message=message,
    )


def emit_for_restore(type: str, restore: Restore, now: datetime, message: str) -> Event:
    """An event about one restore's outcome."""
    return emit(
        type,
        restore.tenant_id,
        occurred_at=now,
        backup_id=restore.backup_id,
        volume_id=restore.target_resource_id,
        restore_id=restore.pk,
        backup_name=restore.backup_name,
        volume_name=restore.volume_name,
        new_volume=restore.new_volume,
        message=message,
    )
