"""Volume operations: a volume's association with a policy, and "execute now" (runs queued at once).

They sit above ``runs`` (they queue its tasks and refresh its inventory) and follow the services'
rules: one transaction each, the tenant locked before the policy, an audit record in the same
transaction. The reads are in ``selectors``, the inventory in ``runs.inventory``.

Writes here follow the services' rules (``policies.services``): one transaction each, the tenant
locked before the policy, an audit record in the same transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from policies import audit, selectors
from policies.domain.contract import volumes as volume_rules
from policies.domain.contract.volumes import ItemFailure, ResourceItem
from policies.runs import database, execution, inventory, queue

from . import services
from .models import AuditEvent, BackupPolicy, BackupTask, Volume
from .runs.providers import ProviderError

logger = logging.getLogger(__name__)


class VolumeLimitExceeded(services.ServiceError):
    pass


class PolicyHasNoVolumes(services.ServiceError):
    pass


class RunInProgress(services.ServiceError):
    pass


# --- Association -----------------------------------------------------------------------------


@dataclass
class AssociateResult:
    success: list[Volume] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)


def _volume_ids(volumes) -> list[str]:
    return sorted(str(volume.resource_id) for volume in volumes)


def policy_volumes_associate(
    *, policy: BackupPolicy, items: list[ResourceItem], actor: audit.Actor, sync_unknown: bool = True
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
        current = services.lock_policy(policy)
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
            inventory.volumes_sync(tenant=policy.tenant)
        except ProviderError as exc:
            logger.warning("volume sync of %s failed: %s", policy.tenant.project_id, exc)
        except database.DATABASE_DOWN:
            raise
        except Exception:
            # The volumes already known still answer; an unknown one is reported as unknown.
            logger.exception("volume sync of %s failed", policy.tenant.project_id)


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


def _move_volumes(current: BackupPolicy, plan: _AssociationPlan, actor: audit.Actor) -> None:
    """Past the cap refuse all; else audit each policy a volume leaves, move them, audit the gain."""
    total = Volume.objects.filter(policy=current).count() + len(plan.added)
    if total > volume_rules.MAX_VOLUMES_PER_POLICY:
        raise VolumeLimitExceeded(volume_rules.resource_limit_problem(total))
    before = _volume_ids(Volume.objects.filter(policy=current))
    for other, moving in plan.moved_from.values():
        _record_moved_away(other, moving, current, actor)
    Volume.objects.filter(pk__in=[volume.pk for volume in plan.added]).update(
        policy=current, policy_since=timezone.now()
    )
    audit.record_event(
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
    other: BackupPolicy, moving: list[Volume], current: BackupPolicy, actor: audit.Actor
) -> None:
    other_before = _volume_ids(Volume.objects.filter(policy=other))
    other.tenant = current.tenant
    audit.record_event(
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
    *, policy: BackupPolicy, items: list[ResourceItem], actor: audit.Actor
) -> DisassociateResult:
    """Remove volumes from the policy; a volume it does not hold fails in-band (docs/api.md, "Volumes and runs")."""
    result = DisassociateResult()
    with transaction.atomic():
        current = services.lock_policy(policy)
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
            Volume.objects.filter(pk__in=[volume.pk for volume in removing]).update(
                policy=None, policy_since=None
            )
            audit.record_event(
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
    *, policy: BackupPolicy, actor: audit.Actor, now: datetime | None = None
) -> list[BackupTask]:
    """Queue one backup task per volume of the policy at once, whatever its status (docs/api.md, "Volumes and runs")."""
    now = now or timezone.now()
    with transaction.atomic():
        current = services.lock_policy(policy)
        volumes = list(Volume.objects.filter(policy=current))
        if not volumes:
            raise PolicyHasNoVolumes(volume_rules.no_volumes_problem())
        if selectors.run_in_progress(policy=current):
            raise RunInProgress(volume_rules.run_in_progress_problem())
        tasks = []
        for volume in volumes:
            task = queue.new_task(current, volume, now, manual=True)
            task.save(force_insert=True)
            execution.enqueue(task)
            tasks.append(task)
        audit.record_event(
            actor,
            AuditEvent.Action.EXECUTE,
            current,
            {"backup_tasks": {"before": None, "after": sorted(str(task.job_id) for task in tasks)}},
        )
    return tasks
