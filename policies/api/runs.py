"""Volumes and runs (docs/api.md, "Volumes and runs": associate, disassociate, execute now, backup tasks, the volume inventory).

Thin views like ``views.py``: bodies and queries are read by the pure rules
(``volume_rules``), writes go through the volume services, reads through their selectors.
"""

from __future__ import annotations

from datetime import UTC

from django.db.models import Q
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from policies.domain.contract import codes
from policies.domain.contract import volumes as volume_rules

from .. import protection, selectors, volumes
from ..models import BackupTask
from .errors import ContractError
from .openapi import runs as described
from .views import ContractView, actor, json_body, policy_or_404, refuse_problems, tenant_or_403


def timestamp(moment) -> str:
    """UTC, millisecond precision, no zone suffix: ``2016-12-02T09:06:46.706``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"


def success_item(volume) -> dict:
    return {
        "resource_id": str(volume.resource_id),
        "resource_type": volume_rules.RESOURCE_TYPE_VOLUME,
        "availability_zone": volume.availability_zone,
        "os_vol_host_attr": volume.host,
    }


class PolicyResources(ContractView):
    """``POST /v2/{project_id}/backuppolicyresources``: associate volumes with a policy."""

    @described.associate
    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        policy_id, items, problems = volume_rules.parse_associate_body(json_body(request))
        refuse_problems(problems)
        policy = policy_or_404(tenant, policy_id)
        result = volumes.policy_volumes_associate(policy=policy, items=items, actor=actor(request))
        return Response(
            {
                "success_resources": [success_item(volume) for volume in result.success],
                "fail_resources": [failure.as_dict() for failure in result.failures],
            }
        )


class DeletedResources(ContractView):
    """``POST /v2/{project_id}/backuppolicyresources/{policy_id}/deleted_resources``."""

    @described.disassociate
    def post(self, request: Request, project_id: str, policy_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        items, problems = volume_rules.parse_disassociate_body(json_body(request))
        refuse_problems(problems)
        policy = policy_or_404(tenant, policy_id)
        result = volumes.policy_volumes_disassociate(policy=policy, items=items, actor=actor(request))
        return Response(
            {
                "success_resources": [{"resource_id": rid} for rid in result.success],
                "fail_resources": [failure.as_dict(with_type=False) for failure in result.failures],
            }
        )


class PolicyAction(ContractView):
    """``POST /v2/{project_id}/backuppolicy/{policy_id}/action``: execute the policy now."""

    @described.execute
    def post(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        if request.stream is not None:  # no body, or an empty JSON object
            body = request.data
            if not isinstance(body, dict):
                raise ContractError(
                    [codes.Problem("body", codes.BODY_EMPTY, "send no body, or an empty JSON object {}")]
                )
            refuse_problems(volume_rules.unknown_fields(body, ()))
        volumes.policy_execute(policy=policy, actor=actor(request))
        return Response(status=204)


def task_item(task: BackupTask) -> dict:
    item = {
        "job_id": str(task.job_id),
        "status": task.status,
        "created_at": timestamp(task.created_at),
    }
    if task.finished_at is not None:
        item["finished_at"] = timestamp(task.finished_at)
    item.update(
        backup_name=task.backup_name,
        resource_id=str(task.resource_id),
        resource_type=volume_rules.RESOURCE_TYPE_VOLUME,
    )
    return item


class BackupTasks(ContractView):
    """``GET /v2/{project_id}/backuppolicy/{policy_id}/backuptasks``: the policy's task history."""

    @described.backup_tasks
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        query, problems = volume_rules.parse_task_query(dict(request.query_params.lists()))
        refuse_problems(problems)
        tasks = selectors.tasks_of_policy(policy=policy)
        if query.job_id is not None:
            tasks = tasks.filter(job_id=query.job_id)
        if query.status is not None:
            tasks = tasks.filter(status=query.status)
        count = tasks.count()
        order = ("-created_at", "-job_id") if query.descending else ("created_at", "job_id")
        tasks = tasks.order_by(*order)
        if query.marker is not None:
            marker = selectors.tasks_of_policy(policy=policy).filter(job_id=query.marker).first()
            if marker is None:
                raise ContractError([volume_rules.marker_problem(query.marker)])
            after = (
                {"created_at__lt": marker.created_at}
                if query.descending
                else {"created_at__gt": marker.created_at}
            )
            same = {
                "created_at": marker.created_at,
                f"job_id__{'lt' if query.descending else 'gt'}": marker.job_id,
            }
            tasks = tasks.filter(Q(**after) | Q(**same))
        page = tasks[query.offset : query.offset + query.limit]
        return Response({"tasks": [task_item(task) for task in page], "count": count})


class VolumeInventory(ContractView):
    """``GET /v2/{project_id}/volumes``: the project's volumes, to find the IDs to associate."""

    @described.list_volumes
    def get(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        found = protection.with_protection_facts(selectors.volume_list_for_tenant(tenant=tenant))
        return Response(
            {
                "volumes": [
                    {
                        "id": str(volume.resource_id),
                        "name": volume.name,
                        "size": volume.size_gib,
                        "status": volume.status,
                        "availability_zone": volume.availability_zone,
                        "backup_policy_id": str(volume.policy_id) if volume.policy_id else None,
                        "protection": state.state.value,
                        "last_backup_at": timestamp(state.last_backup_at) if state.last_backup_at else None,
                    }
                    for volume, state in protection.protections(found, now=timezone.now())
                ]
            }
        )
