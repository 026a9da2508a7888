"""Reads of a project's backups and restores: what the API and the dashboard may show of them."""

import uuid

from django.db.models import Prefetch, QuerySet

from .models import Backup, Restore, Tenant


def backup_for_tenant(*, tenant: Tenant, backup_id) -> Backup | None:
    """The tenant's backup; None for another project's, an unknown or a malformed ID."""
    try:
        found = uuid.UUID(str(backup_id))
    except ValueError:
        return None
    return Backup.objects.select_related("tenant", "volume").filter(tenant=tenant, pk=found).first()


_BACKUP_SORT = {"created_at": "created_at", "name": "name", "status": "status", "size": "size_bytes"}


def backups_for_tenant(*, tenant: Tenant, query) -> QuerySet[Backup]:
    """The tenant's backups that the list query's filters keep, in its order (the ID breaks ties)."""
    backups = Backup.objects.select_related("volume").filter(tenant=tenant)
    if query.volume_id is not None:
        backups = backups.filter(resource_id=query.volume_id)
    if query.status is not None:
        backups = backups.filter(status=query.status)
    if query.name is not None:
        backups = backups.filter(name=query.name)
    order = [f"{'-' if descending else ''}{_BACKUP_SORT[key]}" for key, descending in query.order]
    last_descending = query.order[-1][1] if query.order else True
    return backups.order_by(*order, "-id" if last_descending else "id")


def backup_page_for_tenant(*, tenant: Tenant, query) -> tuple[list[Backup] | None, bool]:
    """One page of the list and whether more follow; (None, False) when the marker is not one of them."""
    backups = backups_for_tenant(tenant=tenant, query=query)
    start = query.offset
    if query.marker is not None:
        ids = list(backups.values_list("id", flat=True))
        if query.marker not in ids:
            return None, False
        start += ids.index(query.marker) + 1
    page = list(backups[start : start + query.limit + 1])
    return page[: query.limit], len(page) > query.limit


def backup_list_for_tenant(*, tenant: Tenant, volume_id=None, policy_id=None) -> QuerySet[Backup]:
    """The tenant's backups for the dashboard, newest first, each with its restores still under way."""
    backups = Backup.objects.select_related("volume", "policy").filter(tenant=tenant)
    # By the volume's ID, not its row: the backups of a volume deleted since stay findable.
    if volume_id is not None:
        backups = backups.filter(resource_id=volume_id)
    if policy_id is not None:
        backups = backups.filter(policy_id=policy_id)
    active = Restore.objects.filter(status__in=Restore.ACTIVE).order_by("-created_at")
    return backups.prefetch_related(
        Prefetch("restores", queryset=active, to_attr="active_restores")
    ).order_by("-taken_at", "-created_at", "-id")


def restore_list_for_tenant(*, tenant: Tenant) -> QuerySet[Restore]:
    """The tenant's restores, newest first."""
    return Restore.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def restore_for_tenant(*, tenant: Tenant, restore_id) -> Restore | None:
    """The tenant's restore; None for another project's, an unknown or a malformed ID."""
    try:
        found = uuid.UUID(str(restore_id))
    except ValueError:
        return None
    return Restore.objects.select_related("backup", "volume").filter(tenant=tenant, pk=found).first()
