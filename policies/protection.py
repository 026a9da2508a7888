"""Reading each volume's protection in bulk: the facts from the database, the rule from the core.

One query reads the facts of any number of volumes (its last good backup, its newest backup's
verification, its latest run's outcome, its policy); ``domain.protection`` decides. The API's
inventory, the dashboard and the admin all read it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from policies.domain.protection import VolumeFacts, VolumeProtection, volume_protection
from policies.models import Backup, BackupTask, Volume

GOOD = (Backup.Status.AVAILABLE, Backup.Status.RESTORING)
FAILED_RUNS = (BackupTask.Status.EXECUTE_FAIL, BackupTask.Status.EXECUTE_TIMEOUT)


def grace() -> timedelta:
    return timedelta(minutes=settings.BACKUP_MISSED_RUN_GRACE_MINUTES)


def with_protection_facts(volumes: QuerySet[Volume]) -> QuerySet[Volume]:
    """Annotate each volume with what its protection is decided from, in the same query."""
    backups = Backup.objects.filter(volume=OuterRef("pk"))
    good = backups.filter(status__in=GOOD).exclude(verify_status=Backup.Verify.FAILED)
    runs = BackupTask.objects.filter(
        volume=OuterRef("pk"), status__in=(BackupTask.Status.EXECUTE_SUCCESS, *FAILED_RUNS)
    )
    return volumes.select_related("tenant", "policy").annotate(
        last_good_backup_at=Subquery(good.order_by("-taken_at").values("taken_at")[:1]),
        newest_backup_verify=Subquery(
            backups.exclude(status=Backup.Status.DELETING).order_by("-taken_at").values("verify_status")[:1]
        ),
        latest_run_status=Subquery(runs.order_by("-finished_at", "-created_at").values("status")[:1]),
    )


def protections(volumes: Iterable[Volume], *, now: datetime) -> list[tuple[Volume, VolumeProtection]]:
    """Each volume (read through ``with_protection_facts``) with its protection at ``now``."""
    specs: dict = {}
    found = []
    for volume in volumes:
        policy = volume.policy
        if policy is not None and policy.pk not in specs:
            specs[policy.pk] = policy.to_spec(tags=())
        facts = VolumeFacts(
            spec=specs[policy.pk] if policy is not None else None,
            policy_since=volume.policy_since,
            last_good_backup_at=volume.last_good_backup_at,
            latest_task_failed=volume.latest_run_status in FAILED_RUNS,
            newest_backup_failed_verification=volume.newest_backup_verify == Backup.Verify.FAILED,
        )
        found.append((volume, volume_protection(facts, now=now, grace=grace())))
    return found
