"""The inventory: the volumes each project's provider lists, kept as Volume rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from policies.models import Tenant, Volume
from policies.runs.database import DATABASE_DOWN
from policies.runs.providers import Provider, ProviderError, get_provider
from policies.services import lock_tenant

logger = logging.getLogger(__name__)


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
        lock_tenant(tenant)
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
        except DATABASE_DOWN:
            raise  # not this project's trouble: the caller waits for the database
        except Exception:
            # One project's odd volume never stops the sync (nor the runs) of the others.
            logger.exception("volume sync of %s failed", tenant.project_id)
    return results
