"""Verifying backups: each one read back through its provider and its digest compared, soon after
it is made (``BACKUP_VERIFY_FIRST_MINUTES``), then every ``BACKUP_VERIFY_EVERY_DAYS``.

A verification is queued by the scheduler (``queue_due_verifications``, a bounded batch per tick)
and run by a worker (``run_verify``). The claim is a lease on the backup's row, taken under
``SKIP LOCKED``: any number of schedulers queue each due backup once, and the lease's value is the
fencing token its outcome is written under. A worker killed mid-verification leaves the backup as
it was (pending or ok) with its lease, and the backup is taken again once the lease has passed. A
verification never starts while its volume is backed up or restored (it is postponed), and it
deletes nothing: a backup whose bytes no longer match becomes ``error`` with why, and a
``backup.verify_failed`` event is written in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tasks import task

from policies import events
from policies.models import Backup, BackupTask, Restore
from policies.runs.attempts import lease_length
from policies.runs.providers import ProviderError, get_provider

logger = logging.getLogger(__name__)

Verify = Backup.Verify

OK, FAILED, POSTPONED = "ok", "failed", "postponed"


@dataclass(frozen=True)
class Claimed:
    backup: Backup
    lease: datetime


def _busy_volume() -> Q:
    """A backup whose volume is being backed up or restored: its verification waits."""
    backing_up = BackupTask.objects.filter(volume_id=OuterRef("volume_id"), status__in=BackupTask.ACTIVE)
    restoring = Restore.objects.filter(volume_id=OuterRef("volume_id"), status__in=Restore.ACTIVE)
    return Q(Exists(backing_up)) | Q(Exists(restoring))


def _free(now: datetime) -> Q:
    return Q(verify_lease_until__isnull=True) | Q(verify_lease_until__lt=now)


def due_for_verification(now: datetime) -> QuerySet[Backup]:
    """The available backups whose first or next verification is due at ``now``, oldest first."""
    first = now - timedelta(minutes=settings.BACKUP_VERIFY_FIRST_MINUTES)
    again = now - timedelta(days=settings.BACKUP_VERIFY_EVERY_DAYS)
    return (
        Backup.objects.filter(status=Backup.Status.AVAILABLE)
        .filter(
            Q(verify_status=Verify.PENDING, created_at__lte=first)
            | Q(verify_status=Verify.OK, verified_at__lte=again)
        )
        .filter(_free(now))
    )


def _claim(candidates: QuerySet[Backup], now: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` of the candidates whose volume is idle; return them with their lease."""
    lease = now + lease_length()
    with transaction.atomic():
        backups = list(
            candidates.select_for_update(skip_locked=True, of=("self",))
            .exclude(_busy_volume())
            .select_related("tenant")
            .order_by("created_at", "pk")[:limit]
        )
        Backup.objects.filter(pk__in=[backup.pk for backup in backups]).update(verify_lease_until=lease)
    return [Claimed(backup, lease) for backup in backups]


def queue_due_verifications(*, now: datetime | None = None) -> int:
    """Claim a batch of due verifications and queue each for a worker; return how many."""
    now = now or timezone.now()
    due = due_for_verification(now)
    # A first look without locks: on most ticks nothing is due, and no transaction is opened.
    if not due.exists():
        return 0
    with transaction.atomic():
        claimed = _claim(due, now, settings.BACKUP_VERIFY_BATCH)
        for item in claimed:
            run_verify.enqueue(str(item.backup.pk), item.lease.isoformat())
    return len(claimed)


def claim_now(backup: Backup, *, now: datetime | None = None) -> Claimed | None:
    """Claim one available backup to verify at once (the command); None while its volume is busy
    or a worker verifies it."""
    now = now or timezone.now()
    candidates = Backup.objects.filter(pk=backup.pk, status=Backup.Status.AVAILABLE).filter(_free(now))
    claimed = _claim(candidates, now, 1)
    return claimed[0] if claimed else None


@dataclass(frozen=True)
class Outcome:
    result: str  # OK, FAILED, POSTPONED, or "" when the backup was no longer this lease's
    detail: str


def execute_verification(backup_id, *, lease: datetime, now=None, provider=None) -> Outcome:
    """Verify one claimed backup through its provider and settle the outcome under its lease."""
    clock = (lambda: now) if now is not None else timezone.now
    backup = (
        Backup.objects.select_related("tenant")
        .filter(pk=backup_id, status=Backup.Status.AVAILABLE, verify_lease_until=lease)
        .first()
    )
    if backup is None:
        return Outcome("", "no longer this verification's: deleted, restored, or taken by another")
    if Backup.objects.filter(pk=backup.pk).filter(_busy_volume()).exists():
        # A backup or a restore of its volume started since the claim: try again at a later tick.
        _release(backup, lease)
        return Outcome(POSTPONED, "its volume is being backed up or restored; verified later")
    try:
        provider = provider or get_provider(backup.provider)
        checked = provider.verify_backup(backup.tenant.project_id, backup.locator, backup.sha256)
    except ProviderError as exc:
        # Not an answer about the bytes (the store cannot be read now): the lease runs out and the
        # backup is taken again, as it was.
        logger.warning("backup %s was not verified: %s", backup.pk, exc)
        return Outcome(POSTPONED, f"not verified now: {exc}")
    except Exception:
        logger.exception("verifying backup %s failed unexpectedly", backup.pk)
        return Outcome(POSTPONED, "not verified now: an internal error; see the worker's log")
    if checked.ok:
        done = Backup.objects.filter(pk=backup.pk, status=Backup.Status.AVAILABLE, verify_lease_until=lease)
        if not done.update(verify_status=Verify.OK, verified_at=clock(), verify_lease_until=None):
            return Outcome("", "settled by another meanwhile")
        return Outcome(OK, checked.detail)
    at = clock()
    reason = (
        f"verification failed at {at:%Y-%m-%d %H:%M} UTC: {checked.detail}. This backup cannot be "
        "restored; the next run makes a new one."
    )
    with transaction.atomic():
        done = Backup.objects.filter(
            pk=backup.pk, status=Backup.Status.AVAILABLE, verify_lease_until=lease
        ).update(verify_lease_until=None, updated_at=at, **Backup.failed_verification(at, reason))
        if not done:
            return Outcome("", "settled by another meanwhile")
        events.emit_for_backup(events.Type.BACKUP_VERIFY_FAILED, backup, at, reason[:2000])
    return Outcome(FAILED, reason)


def _release(backup: Backup, lease: datetime) -> None:
    Backup.objects.filter(pk=backup.pk, verify_lease_until=lease).update(verify_lease_until=None)


@task()
def run_verify(backup_id: str, lease: str) -> str:
    """Verify one backup (the function the worker runs)."""
    return execute_verification(backup_id, lease=datetime.fromisoformat(lease)).result
