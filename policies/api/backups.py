"""The backups of a project, as the OpenStack block-storage backup API serves them (docs/api.md, "Backups and restore").

The same views answer under ``/v2/{project_id}`` and ``/volume/v3/{project_id}``; the links they
answer point under the prefix asked. ``/volume/`` answers the version document the clients
(openstacksdk, python-openstackclient) discover the API by, and ``/volume/v3/{project_id}/volumes``
the volumes they find a backup's volume among, in Cinder's shape.
"""

from __future__ import annotations

import math
from datetime import UTC
from http import HTTPStatus
from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from policies.domain.contract import backups as rules

from .. import backup_selectors, backups, selectors
from ..models import Backup, Restore, Volume
from .errors import ContractError
from .openapi import backups as described
from .views import ContractView, actor, json_body, refuse_problems, tenant_or_403

_GIB = 1024**3


def _stamp(moment) -> str | None:
    """Cinder's timestamps: UTC, microseconds, no zone suffix (``2026-03-02T00:00:00.000000``)."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _base(request: Request, project_id: str) -> str:
    """The absolute URL of the project's endpoint as asked: ``.../v2/{id}`` or ``.../volume/v3/{id}``."""
    path = request.path
    root = path[: path.index(f"/{project_id}/") + len(project_id) + 1]
    return request.build_absolute_uri(root)


def _links(request: Request, project_id: str, kind: str, item_id) -> list[dict]:
    href = f"{_base(request, project_id)}/{kind}/{item_id}"
    return [{"rel": "self", "href": href}, {"rel": "bookmark", "href": href}]


def summary(request: Request, project_id: str, backup: Backup) -> dict:
    return {
        "id": str(backup.pk),
        "name": backup.name,
        "links": _links(request, project_id, "backups", backup.pk),
    }


def representation(request: Request, project_id: str, backup: Backup) -> dict:
    """One backup: Cinder's fields and ours (``os-bpc:``)."""
    return {
        "id": str(backup.pk),
        "name": backup.name,
        "description": backup.description,
        "status": backup.status,
        "volume_id": str(backup.resource_id),
        "size": math.ceil(backup.size_bytes / _GIB),
        "object_count": 1 if backup.locator else 0,
        "container": backup.provider,
        "availability_zone": backup.volume.availability_zone if backup.volume else None,
        "created_at": _stamp(backup.created_at),
        "updated_at": _stamp(backup.updated_at),
        "data_timestamp": _stamp(backup.taken_at),
        "fail_reason": backup.fail_reason or None,
        "is_incremental": False,
        "has_dependent_backups": False,
        "snapshot_id": None,
        "links": _links(request, project_id, "backups", backup.pk),
        "os-bpc:sha256": backup.sha256 or None,
        "os-bpc:policy_id": str(backup.policy_id) if backup.policy_id else None,
        "os-bpc:verified_at": _stamp(backup.verified_at),
        "os-bpc:verify_status": backup.verify_status,
    }


def backup_or_404(tenant, backup_id: str) -> Backup:
    backup = backup_selectors.backup_for_tenant(tenant=tenant, backup_id=backup_id)
    if backup is None:
        raise ContractError([rules.backup_not_found_problem(backup_id)], status_code=HTTPStatus.NOT_FOUND)
    return backup


def _page(request: Request, project_id: str, tenant, *, detail: bool) -> Response:
    query, problems = rules.parse_list_query(dict(request.query_params.lists()))
    refuse_problems(problems)
    page, more = backup_selectors.backup_page_for_tenant(tenant=tenant, query=query)
    if page is None:
        raise ContractError([rules.marker_problem(query.marker)])
    shown = representation if detail else summary
    body: dict = {"backups": [shown(request, project_id, backup) for backup in page]}
    if more and page:
        params = {k: v for k, v in request.query_params.items() if k not in ("marker", "offset")}
        params.update(marker=str(page[-1].pk), limit=str(query.limit))
        body["backups_links"] = [
            {"rel": "next", "href": f"{request.build_absolute_uri(request.path)}?{urlencode(params)}"}
        ]
    return Response(body)


class BackupCollection(ContractView):
    """``/backups``: the list (id, name, links) and a manual backup."""

    @described.list_backups
    def get(self, request: Request, project_id: str) -> Response:
        return _page(request, project_id, tenant_or_403(request, project_id), detail=False)

    @described.create_backup
    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        body, problems = rules.parse_create_body(json_body(request))
        refuse_problems(problems)
        backup = backups.backup_create(tenant=tenant, body=body, actor=actor(request))
        return Response({"backup": summary(request, project_id, backup)}, status=HTTPStatus.ACCEPTED)


class BackupDetailList(ContractView):
    """``/backups/detail``: the list, each backup in full."""

    @described.list_backup_details
    def get(self, request: Request, project_id: str) -> Response:
        return _page(request, project_id, tenant_or_403(request, project_id), detail=True)


class BackupItem(ContractView):
    """``/backups/{backup_id}``: show and delete."""

    @described.show_backup
    def get(self, request: Request, project_id: str, backup_id: str) -> Response:
        backup = backup_or_404(tenant_or_403(request, project_id), backup_id)
        return Response({"backup": representation(request, project_id, backup)})

    @described.delete_backup
    def delete(self, request: Request, project_id: str, backup_id: str) -> Response:
        backup = backup_or_404(tenant_or_403(request, project_id), backup_id)
        backups.backup_delete(backup=backup, actor=actor(request))
        return Response(status=HTTPStatus.ACCEPTED)


class BackupRestore(ContractView):
    """``/backups/{backup_id}/restore``: over a volume of the project, or into a new one."""

    @described.restore_backup
    def post(self, request: Request, project_id: str, backup_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        body, problems = rules.parse_restore_body(json_body(request))
        refuse_problems(problems)
        backup = backup_or_404(tenant, backup_id)
        restore = backups.restore_start(backup=backup, body=body, actor=actor(request))
        return Response({"restore": restore_representation(restore)}, status=HTTPStatus.ACCEPTED)


def restore_representation(restore: Restore) -> dict:
    target = restore.volume.resource_id if restore.volume else restore.target_resource_id
    return {
        "backup_id": str(restore.backup_id),
        "volume_id": str(target) if target else None,
        "volume_name": restore.volume_name,
    }


# --- What the block-storage clients ask beside the backups -----------------------------------


def volume_representation(request: Request, project_id: str, volume: Volume) -> dict:
    """A volume as Cinder shows one, enough for the clients to find it by name or ID."""
    return {
        "id": str(volume.resource_id),
        "name": volume.name,
        "description": None,
        "status": volume.status,
        "size": math.ceil(volume.size_gib),
        "availability_zone": volume.availability_zone,
        "created_at": _stamp(volume.created_at),
        "updated_at": _stamp(volume.synced_at),
        "bootable": "false",
        "encrypted": False,
        "multiattach": False,
        "attachments": [],
        "metadata": {},
        "volume_type": None,
        "snapshot_id": None,
        "source_volid": None,
        "links": _links(request, project_id, "volumes", volume.resource_id),
        "os-bpc:backup_policy_id": str(volume.policy_id) if volume.policy_id else None,
    }


class CinderVolumes(ContractView):
    """``/volume/v3/{project_id}/volumes`` and ``.../volumes/detail``: the project's volumes, filtered by name."""

    def get(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        volumes = selectors.volume_list_for_tenant(tenant=tenant).exclude(status=Volume.Status.DELETED)
        name = request.query_params.get("name")
        if name is not None:
            volumes = volumes.filter(name=name)
        return Response({"volumes": [volume_representation(request, project_id, v) for v in volumes]})


class CinderVolume(ContractView):
    """``/volume/v3/{project_id}/volumes/{volume_id}``."""

    def get(self, request: Request, project_id: str, volume_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        volume = selectors.volume_for_tenant(tenant=tenant, volume_id=volume_id)
        if volume is None:
            raise ContractError(
                [rules.volume_not_found_problem("volume_id", volume_id)], status_code=HTTPStatus.NOT_FOUND
            )
        return Response({"volume": volume_representation(request, project_id, volume)})


def _version(request: Request, path: str, version_id: str, status: str, microversion: str) -> dict:
    return {
        "id": version_id,
        "status": status,
        "version": microversion,
        "min_version": microversion,
        "updated": "2026-01-01T00:00:00Z",
        "links": [{"rel": "self", "href": request.build_absolute_uri(path)}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


class Versions(ContractView):
    """``/volume/``: the versions served, v3 (``/volume/v3/``) and v2 (``/v2/``), public like Cinder's."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(
            {
                "versions": [
                    _version(request, "/volume/v3/", "v3.0", "CURRENT", "3.0"),
                    _version(request, "/v2/", "v2.0", "SUPPORTED", ""),
                ]
            }
        )


class VersionV3(Versions):
    """``/volume/v3/``: the v3 version alone."""

    def get(self, request: Request) -> Response:
        return Response({"version": _version(request, "/volume/v3/", "v3.0", "CURRENT", "3.0")})


class VersionV2(Versions):
    """``/v2/``: the v2 version alone, where a client's discovery of ``volumev2`` looks for it."""

    # A discovery document, not an operation of the API: the OpenAPI description leaves it out.
    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"version": _version(request, "/v2/", "v2.0", "SUPPORTED", "")})
