"""Retention as executed: the backups a rule no longer keeps are deleted, file first.

Which backups a rule counts (docs/operations.md, "Retention"):
- A policy's automatic backups of a volume it holds: its rule as it is now, after each of them.
- Manual backups ("execute now"): never counted and never deleted by retention; a person
  deletes them. They count toward the project's storage limit.
- The automatic backups of a deleted policy, or of a volume that left the policy (moved,
  removed): the rule stored with the newest of them (the policy's rule as it stood when it made
  that backup), applied by the scheduler (``retain_orphaned_backups``).
- A backup whose file or provider copy is gone is never counted as kept: it is left out, logged,
  and the rule keeps as many of the backups that exist.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db.models import F, Q
from django.utils import timezone

from policies.domain.retention import simulation
from policies.models import Backup, BackupPolicy, Tenant, Volume
from policies.runs.providers import get_provider

logger = logging.getLogger(__name__)

# What retention may delete: never a backup being made, restored or deleted by a person.
_RETAINABLE = (Backup.Status.AVAILABLE, Backup.Status.ERROR, Backup.Status.DELETING)


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
        # A backup that failed verification is no restore point: not counted (nor deleted here),
        # so the rule keeps one more good backup in its place.
        usable = backup.verify_status != Backup.Verify.FAILED
        if usable and provider.check_backup(backup.tenant.project_id, backup.locator):
            present.append(backup)
        else:
            missing.append(backup)
    for backup in missing:
        logger.warning(
            "backup %s (%s) has no good data at its provider: retention does not count it",
            backup.pk,
            backup.locator,
        )
    keeps = simulation.retention_keeps(spec, [backup.taken_at for backup in present], now=now)
    gone = [backup for backup, kept in zip(present, keeps, strict=True) if not kept]
    deleted = []
    for backup in gone:
        # Claimed first: a backup being restored (or deleted by a person) is never deleted here,
        # and a restore asked for from now on finds it "deleting" and is refused.
        if not Backup.objects.filter(pk=backup.pk, status__in=_RETAINABLE).update(
            status=Backup.Status.DELETING
        ):
            logger.info("retention spares backup %s: it is %s", backup.pk, backup.status)
            continue
        # The file first: a crash between leaves a row whose file is gone (deleted again next
        # time), never a file that no row knows of.
        provider.delete_backup(backup.tenant.project_id, backup.locator)
        backup.delete()
        deleted.append(backup)
    gone = deleted
    if gone:
        logger.info("retention of %s deleted %d backup(s)", spec.name, len(gone))
        _collect(provider, gone[0].tenant.project_id)
    return len(gone)


def _collect(provider, project_id: str, *, period: str = "") -> bool:
    """Free what the project's deleted backups held; a failure is logged (the next collection retries)."""
    try:
        return provider.collect_garbage(project_id, period=period) is not None
    except Exception:
        logger.exception("collecting the unreferenced data of project %s failed", project_id)
        return False


def collect_hourly(*, now: datetime | None = None) -> int:
    """Collect each project's unreferenced backup data at most once per hour; return how many ran.

    Once per project and hour whatever the number of schedulers: the provider records the hour
    of its last collection under a lock. It is safe beside backups being written (the store
    never removes a chunk a running writer may name).
    """
    period = (now or timezone.now()).astimezone(UTC).strftime("%Y-%m-%dT%H")
    provider = get_provider()
    ran = 0
    for project_id in Tenant.objects.order_by("project_id").values_list("project_id", flat=True):
        ran += _collect(provider, project_id, period=period)
    return ran


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
