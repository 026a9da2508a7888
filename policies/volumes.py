"""Volumes: the inventory a provider lists, their association with policies, and "execute now".

Writes here follow the services' rules (``policies.services``): one transaction each, the tenant
locked before the policy, an audit record in the same transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from policies.domain.contract import volumes as volume_rules
from policies.domain.contract.volumes import ItemFailure, ResourceItem

from . import runs, services
from .models import AuditEvent, BackupPolicy, BackupTask, Tenant, Volume
from .providers import Provider, ProviderError, get_provider

logger = logging.getLogger(__name__)


class VolumeLimitExceeded(services.ServiceError):
    pass


class PolicyHasNoVolumes(services.ServiceError):
    pass


class RunInProgress(services.ServiceError):
    pass


# --- Reads -----------------------------------------------------------------------------------


def volume_list_for_tenant(*, tenant: Tenant) -> QuerySet[Volume]:
    return Volume.objects.filter(tenant=tenant).order_by("name", "resource_id")


def volumes_of_policy(*, policy: BackupPolicy) -> QuerySet[Volume]:
    return Volume.objects.filter(tenant_id=policy.tenant_id, policy=policy).order_by("name", "resource_id")


def policies_with_resource_count(queryset: QuerySet[BackupPolicy]) -> QuerySet[BackupPolicy]:
    """Annotate each policy with ``resource_count``, its number of volumes, in the same query."""
    # An aggregate drops Meta.ordering (Django does not order a GROUP BY by it): keep it explicit.
    return queryset.annotate(resource_count=Count("volumes", distinct=True)).order_by(
        *BackupPolicy._meta.ordering
    )


def policies_with_run_summary(queryset: QuerySet[BackupPolicy]) -> QuerySet[BackupPolicy]:
    """Annotate each policy with its volume count and its last finished task's status (no N+1)."""
    last = BackupTask.objects.filter(policy=OuterRef("pk"), status__in=BackupTask.FINISHED).order_by(
        "-created_at", "-job_id"
    )
    return queryset.annotate(
        resource_count=Count("volumes", distinct=True),
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("finished_at")[:1]),
    ).order_by(*BackupPolicy._meta.ordering)


def tasks_of_policy(*, policy: BackupPolicy) -> QuerySet[BackupTask]:
    return BackupTask.objects.filter(tenant_id=policy.tenant_id, policy=policy)


def run_in_progress(*, policy: BackupPolicy) -> bool:
    return tasks_of_policy(policy=policy).filter(status__in=BackupTask.ACTIVE).exists()


# --- The inventory ---------------------------------------------------------------------------


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    deleted: int = 0


def volumes_sync(
    *, tenant: Tenant, provider: Provider | None = None, now: datetime | None = None
) -> SyncResult:
    """Refresh the tenant's volumes from its provider.

    A volume the provider no longer lists becomes ``deleted`` (its row, its association and its
    history stay: an administrator must see that a protected volume vanished).
    """
    provider = provider or get_provider()
    now = now or timezone.now()
    listed = provider.list_volumes(tenant.project_id)
    result = SyncResult()
    with transaction.atomic():
        services._lock_tenant(tenant)
        known = {
            volume.resource_id: volume
            for volume in Volume.objects.filter(tenant=tenant, provider=provider.name)
        }
        for info in listed:
            fields = {
                "name": info.name,
                "size_gib": info.size_gib,
                "status": info.status,
                "availability_zone": info.availability_zone,
                "host": info.host,
                "locator": info.locator,
            }
            volume = known.pop(info.resource_id, None)
            if volume is None:
                Volume.objects.create(
                    tenant=tenant,
                    resource_id=info.resource_id,
                    provider=provider.name,
                    synced_at=now,
                    **fields,
                )
                result.added += 1
            elif any(getattr(volume, name) != value for name, value in fields.items()):
                Volume.objects.filter(pk=volume.pk).update(synced_at=now, **fields)
                result.updated += 1
        gone = [volume.pk for volume in known.values() if volume.status != Volume.Status.DELETED]
        result.deleted = Volume.objects.filter(pk__in=gone).update(
            status=Volume.Status.DELETED, synced_at=now
        )
    return result


def volumes_sync_all(*, project_ids=None, provider: Provider | None = None) -> dict[str, SyncResult]:
    tenants = Tenant.objects.all()
    if project_ids:
        tenants = tenants.filter(project_id__in=project_ids)
    results = {}
    for tenant in tenants:
        try:
            results[tenant.project_id] = volumes_sync(tenant=tenant, provider=provider)
        except ProviderError as exc:
            logger.warning("volume sync of %s failed: %s", tenant.project_id, exc)
    return results


# --- Association -----------------------------------------------------------------------------


@dataclass
class AssociateResult:
    success: list[Volume] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)


def _volume_ids(volumes) -> list[str]:
    return sorted(str(volume.resource_id) for volume in volumes)


def policy_volumes_associate(
    *, policy: BackupPolicy, items: list[ResourceItem], actor: services.Actor, sync_unknown: bool = True
) -> AssociateResult:
    """Associate volumes with the policy; report each failure in-band (docs/api.md, "Volumes and runs").

    A volume in another policy of the project moves here (both sides audited); one already here
    is a success that changes nothing. Past 64 volumes the whole request is refused, under the
    tenant lock, so two requests at once cannot both pass the cap.
    """
    result = AssociateResult()
    wanted = _well_formed_items(items, result)
    ids = {rid: volume_rules.volume_uuid(rid) for rid in wanted}
    _sync_if_unknown(policy, ids, sync_unknown=sync_unknown)
    with transaction.atomic():
        current = services._lock_policy(policy)
        volumes = _lock_volumes(current, ids)
        plan = _plan_association(current, wanted, ids, volumes, result)
        if plan.added:
            _move_volumes(current, plan, actor)
    return result


@dataclass
class _AssociationPlan:
    """The volumes that join the policy, and those among them leaving another policy (by its id)."""

    added: list[Volume] = field(default_factory=list)
    moved_from: dict[int, tuple[BackupPolicy, list[Volume]]] = field(default_factory=dict)


def _well_formed_items(items: list[ResourceItem], result: AssociateResult) -> dict[str, ResourceItem]:
    """The items whose body is right, by resource id; each other one is a failure in ``result``."""
    wanted: dict[str, ResourceItem] = {}
    for item in items:
        failure = volume_rules.item_failure(item)
        if failure is not None:
            result.failures.append(failure)
        else:
            wanted[item.resource_id] = item
    return wanted


def _sync_if_unknown(policy: BackupPolicy, ids: dict[str, uuid.UUID | None], *, sync_unknown: bool) -> None:
    """A volume made since the last sync: ask the provider once before calling it unknown."""
    known = set(
        Volume.objects.filter(
            tenant_id=policy.tenant_id, resource_id__in=[u for u in ids.values() if u]
        ).values_list("resource_id", flat=True)
    )
    if sync_unknown and any(u is None or u not in known for u in ids.values()) and any(ids.values()):
        try:
            volumes_sync(tenant=policy.tenant)
        except ProviderError as exc:
            logger.warning("volume sync of %s failed: %s", policy.tenant.project_id, exc)


def _lock_volumes(current: BackupPolicy, ids: dict[str, uuid.UUID | None]) -> dict[uuid.UUID, Volume]:
    """The project's volumes named by ``ids``, locked, by resource id, with their policy."""
    return {
        volume.resource_id: volume
        for volume in Volume.objects.select_for_update(of=("self",))
        .select_related("policy")
        .filter(tenant_id=current.tenant_id, resource_id__in=[u for u in ids.values() if u])
    }


def _plan_association(
    current: BackupPolicy,
    wanted: dict[str, ResourceItem],
    ids: dict[str, uuid.UUID | None],
    volumes: dict[uuid.UUID, Volume],
    result: AssociateResult,
) -> _AssociationPlan:
    """Each wanted volume: a failure (unknown, wrong state) or a success, and what must move."""
    plan = _AssociationPlan()
    for rid, item in wanted.items():
        volume = volumes.get(ids[rid]) if ids[rid] else None
        if volume is None:
            result.failures.append(volume_rules.unknown_volume(item))
        elif volume.status not in Volume.BACKUP_STATUSES:
            result.failures.append(volume_rules.volume_state(item, volume.status))
        else:
            result.success.append(volume)
            if volume.policy_id != current.pk:
                plan.added.append(volume)
                if volume.policy_id is not None:
                    plan.moved_from.setdefault(volume.policy_id, (volume.policy, []))[1].append(volume)
    return plan


def _move_volumes(current: BackupPolicy, plan: _AssociationPlan, actor: services.Actor) -> None:
    """Past the cap refuse all; else audit each policy a volume leaves, move them, audit the gain."""
    total = Volume.objects.filter(policy=current).count() + len(plan.added)
    if total > volume_rules.MAX_VOLUMES_PER_POLICY:
        raise VolumeLimitExceeded(volume_rules.resource_limit_problem(total))
    before = _volume_ids(Volume.objects.filter(policy=current))
    for other, moving in plan.moved_from.values():
        _record_moved_away(other, moving, current, actor)
    Volume.objects.filter(pk__in=[volume.pk for volume in plan.added]).update(policy=current)
    services.record_event(
        actor,
        AuditEvent.Action.ASSOCIATE,
        current,
        {
            "resources": {
                "before": before,
                "after": sorted({*before, *(str(v.resource_id) for v in plan.added)}),
            }
        },
    )
    for volume in plan.added:
        volume.policy = current


def _record_moved_away(
    other: BackupPolicy, moving: list[Volume], current: BackupPolicy, actor: services.Actor
) -> None:
    other_before = _volume_ids(Volume.objects.filter(policy=other))
    other.tenant = current.tenant
    services.record_event(
        actor,
        AuditEvent.Action.DISASSOCIATE,
        other,
        {
            "resources": {
                "before": other_before,
                "after": sorted(set(other_before) - {str(v.resource_id) for v in moving}),
            },
            "moved_to": {"before": None, "after": str(current.pk)},
        },
    )


@dataclass
class DisassociateResult:
    success: list[str] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)


def policy_volumes_disassociate(
    *, policy: BackupPolicy, items: list[ResourceItem], actor: services.Actor
) -> DisassociateResult:
    """Remove volumes from the policy; a volume it does not hold fails in-band (docs/api.md, "Volumes and runs")."""
    result = DisassociateResult()
    with transaction.atomic():
        current = services._lock_policy(policy)
        held = {volume.resource_id: volume for volume in Volume.objects.filter(policy=current)}
        before = _volume_ids(held.values())
        removing = []
        for item in items:
            volume = held.get(volume_rules.volume_uuid(item.resource_id))
            if volume is None:
                result.failures.append(volume_rules.not_in_policy(item))
            else:
                removing.append(volume)
                result.success.append(item.resource_id)
        if removing:
            Volume.objects.filter(pk__in=[volume.pk for volume in removing]).update(policy=None)
            services.record_event(
                actor,
                AuditEvent.Action.DISASSOCIATE,
                current,
                {
                    "resources": {
                        "before": before,
                        "after": sorted(set(before) - {str(volume.resource_id) for volume in removing}),
                    }
                },
            )
    return result


def policy_execute(
    *, policy: BackupPolicy, actor: services.Actor, now: datetime | None = None
) -> list[BackupTask]:
    """Queue one backup task per volume of the policy at once, whatever its status (docs/api.md, "Volumes and runs")."""
    now = now or timezone.now()
    with transaction.atomic():
        current = services._lock_policy(policy)
        volumes = list(Volume.objects.filter(policy=current))
        if not volumes:
            raise PolicyHasNoVolumes(volume_rules.no_volumes_problem())
        if run_in_progress(policy=current):
            raise RunInProgress(volume_rules.run_in_progress_problem())
        tasks = []
        for volume in volumes:
            task = runs.new_task(current, volume, now, manual=True)
            task.save(force_insert=True)
            runs.enqueue(task)
            tasks.append(task)
        services.record_event(
            actor,
            AuditEvent.Action.EXECUTE,
            current,
            {"backup_tasks": {"before": None, "after": sorted(str(task.job_id) for task in tasks)}},
        )
    return tasks
