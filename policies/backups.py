"""Backups given back: a manual backup, a delete, a restore, each in one transaction with its audit record.

The rules of the bodies are the core's (``domain.contract.backups``); what needs the database is
here: a backup being restored is never deleted, a volume being backed up or restored is not
restored over. The restore itself runs on the worker (``runs.restore``).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from policies import audit
from policies.domain.contract import backups as rules
from policies.runs import execution
from policies.runs import restore as restoring
from policies.runs.attempts import backup_name_for, lease_length
from policies.runs.providers import ProviderError, get_provider

from . import services
from .models import AuditEvent, Backup, BackupTask, Restore, Volume

logger = logging.getLogger(__name__)


class BackupNotFound(services.ServiceError):
    pass


class VolumeNotFound(services.ServiceError):
    pass


class BackupBusy(services.ServiceError):
    pass


class BackupStorageFailed(services.ServiceError):
    """The provider could not delete the backup's copy: the backup stays, in status error."""


class VolumeBusy(services.ServiceError):
    pass


class BadVolumeName(services.ServiceError):
    pass


def _audit_actor_fields(actor: audit.Actor) -> dict:
    """Who started a restore, as its row keeps it (the audit record's fields but the token)."""
    fields = audit.actor_fields(actor)
    return {name: fields[name] for name in ("user", "username", "entrance")}


def _volume_busy(volume: Volume) -> str:
    """What keeps a volume from being restored over: "backed up", "restored", or ""."""
    if BackupTask.objects.filter(volume=volume, status__in=BackupTask.ACTIVE).exists():
        return "backed up"
    if Restore.objects.filter(volume=volume, status__in=Restore.ACTIVE).exists():
        return "restored"
    return ""


def _lock_volume(tenant, volume_id: uuid.UUID, field: str) -> Volume:
    volume = (
        Volume.objects.select_for_update()
        .filter(tenant=tenant, resource_id=volume_id)
        .exclude(status=Volume.Status.DELETED)
        .first()
    )
    if volume is None:
        raise VolumeNotFound(rules.volume_not_found_problem(field, volume_id))
    return volume


def backup_create(*, tenant, body: rules.CreateBody, actor: audit.Actor, now=None) -> Backup:
    """Make a manual backup of one volume: a manual task queued at once, and its backup ``creating``."""
    now = now or timezone.now()
    with transaction.atomic():
        services.lock_tenant(tenant)
        volume = _lock_volume(tenant, body.volume_id, "backup.volume_id")
        if volume.status not in Volume.BACKUP_STATUSES:
            raise VolumeBusy(rules.volume_state_problem("backup.volume_id", volume.name, volume.status))
        if Restore.objects.filter(volume=volume, status__in=Restore.ACTIVE).exists():
            raise VolumeBusy(
                rules.volume_busy_problem(
                    volume.name, "restored", field="backup.volume_id", doing="backed up"
                )
            )
        job_id = uuid.uuid4()
        task = BackupTask.objects.create(
            job_id=job_id,
            tenant=tenant,
            policy=None,
            policy_name="",
            volume=volume,
            resource_id=volume.resource_id,
            scheduled_at=now,
            manual=True,
            backup_name=backup_name_for(job_id),
        )
        backup = Backup.objects.create(
            tenant=tenant,
            status=Backup.Status.CREATING,
            name=body.name or task.backup_name,
            description=body.description,
            volume=volume,
            resource_id=volume.resource_id,
            task=task,
            provider=volume.provider,
            locator="",
            taken_at=now,
            manual=True,
        )
        execution.enqueue(task)
        audit.record_backup_event(
            actor,
            AuditEvent.Action.BACKUP_CREATE,
            backup,
            {
                "backup": {"before": None, "after": str(backup.pk)},
                "volume": {"before": None, "after": str(volume.resource_id)},
            },
        )
    return backup


def _lock_backup(backup: Backup) -> Backup:
    current = (
        Backup.objects.select_for_update(of=("self",)).select_related("tenant").filter(pk=backup.pk).first()
    )
    if current is None:
        raise BackupNotFound(rules.backup_not_found_problem(backup.pk))
    return current


def backup_delete(*, backup: Backup, actor: audit.Actor, provider=None) -> None:
    """Delete a backup: refused while it is being made, deleted or restored; the provider's copy, then the row."""
    with transaction.atomic():
        current = _lock_backup(backup)
        if current.status in (Backup.Status.RESTORING, Backup.Status.CREATING, Backup.Status.DELETING):
            raise BackupBusy(rules.backup_busy_problem(current.name, current.status, "deleted"))
        current.status = Backup.Status.DELETING
        current.save(update_fields=["status", "updated_at"])
        audit.record_backup_event(
            actor,
            AuditEvent.Action.BACKUP_DELETE,
            current,
            {
                "backup": {"before": str(current.pk), "after": None},
                "name": {"before": current.name, "after": None},
            },
        )
    if current.locator:
        try:
            (provider or get_provider(current.provider)).delete_backup(
                current.tenant.project_id, current.locator
            )
        except ProviderError as exc:
            Backup.objects.filter(pk=current.pk).update(
                status=Backup.Status.ERROR, fail_reason=f"the delete failed: {exc}"[:2000]
            )
            raise BackupStorageFailed(rules.backup_storage_problem(current.name, str(exc))) from exc
    Backup.objects.filter(pk=current.pk).delete()


def _planned_id(backup: Backup, name: str) -> uuid.UUID | None:
    planned = getattr(get_provider(backup.provider), "new_volume_id", None)
    return planned(backup.tenant.project_id, name) if planned else None


def restore_start(*, backup: Backup, body: rules.RestoreBody, actor: audit.Actor, now=None) -> Restore:
    """Queue a restore of an available backup, over a volume of its project or into a new one."""
    now = now or timezone.now()
    with transaction.atomic():
        services.lock_tenant(backup.tenant)
        current = _lock_backup(backup)
        target = None
        if body.volume_id is not None:
            target = _lock_volume(current.tenant, body.volume_id, "restore.volume_id")
            busy = _volume_busy(target)
            if busy:
                raise VolumeBusy(rules.volume_busy_problem(target.name, busy))
            volume_name = target.name
        else:
            volume_name = body.name or rules.default_volume_name(current.name)
            problem = rules.new_volume_name_problem(volume_name)
            if (
                problem is None
                and Volume.objects.filter(tenant=current.tenant, name=volume_name)
                .exclude(status=Volume.Status.DELETED)
                .exists()
            ):
                problem = rules.new_volume_name_taken_problem(volume_name)
            if problem is not None:
                raise BadVolumeName(problem)
        if current.status != Backup.Status.AVAILABLE:
            raise BackupBusy(rules.backup_busy_problem(current.name, current.status, "restored"))
        restore = Restore.objects.create(
            tenant=current.tenant,
            backup=current,
            backup_name=current.name,
            volume=target,
            volume_name=volume_name,
            new_volume=target is None,
            target_resource_id=target.resource_id
            if target is not None
            else _planned_id(current, volume_name),
            bytes_total=current.size_bytes,
            created_at=now,
            **_audit_actor_fields(actor),
        )
        current.status = Backup.Status.RESTORING
        current.save(update_fields=["status", "updated_at"])
        execution.enqueue_restore(restore)
        audit.record_backup_event(
            actor,
            AuditEvent.Action.RESTORE,
            current,
            {
                "backup": {"before": None, "after": str(current.pk)},
                "target": {
                    "before": None,
                    "after": str(target.resource_id) if target is not None else f"new volume {volume_name}",
                },
                "restore": {"before": None, "after": str(restore.pk)},
            },
        )
    return restore


def restore_to_file(*, backup: Backup, to: Path, actor: audit.Actor, provider=None) -> int:
    """Write a backup out to a file now (``manage.py restore_backup``), recorded like every restore.

    The backup is ``restoring`` meanwhile (never deleted under it); the provider writes aside and
    renames into place only when the digest matches. Return the bytes written; a ProviderError
    says why nothing was.
    """
    now = timezone.now()
    with transaction.atomic():
        current = _lock_backup(backup)
        if current.status != Backup.Status.AVAILABLE:
            raise BackupBusy(rules.backup_busy_problem(current.name, current.status, "restored"))
        restore = Restore.objects.create(
            tenant=current.tenant,
            backup=current,
            backup_name=current.name,
            volume_name=str(to),
            status=Restore.Status.RUNNING,
            bytes_total=current.size_bytes,
            created_at=now,
            started_at=now,
            lease_until=now + lease_length(),
            **_audit_actor_fields(actor),
        )
        current.status = Backup.Status.RESTORING
        current.save(update_fields=["status", "updated_at"])
        audit.record_backup_event(
            actor,
            AuditEvent.Action.RESTORE,
            current,
            {
                "backup": {"before": None, "after": str(current.pk)},
                "target": {"before": None, "after": f"file {to}"},
                "restore": {"before": None, "after": str(restore.pk)},
            },
        )
    provider = provider or get_provider(current.provider)
    project_id = current.tenant.project_id
    try:
        size = provider.restore_backup(project_id, current.locator, to, sha256=current.sha256)
    except ProviderError as exc:
        damaged = not provider.backup_matches(project_id, current.locator, current.sha256)
        verify = Backup.Verify.FAILED if damaged else None
        restoring.settle(restore, Restore.Status.FAILED, str(exc), timezone.now(), verify=verify)
        raise
    except BaseException:
        restoring.settle(restore, Restore.Status.FAILED, "the restore stopped with an error", timezone.now())
        raise
    restoring.settle(
        restore,
        Restore.Status.SUCCEEDED,
        f"restored {size} bytes to {to}; their SHA-256 matches the backup's",
        timezone.now(),
        verify=Backup.Verify.OK,
        bytes_done=size,
    )
    return size
