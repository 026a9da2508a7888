"""The VBS v2 backup-policy endpoints: thin views over the core and the services.

Every view reads through ``selectors``, checks bodies with the core (``domain.parse``), writes through
``services``; a refusal is raised (a ``ContractError`` or a ``services.ServiceError``) and turned
into the envelope, with its status, in one place: ``errors.exception_handler``. The OpenAPI
description of each operation lives in ``schema.py``.
"""

from http import HTTPStatus

from django.utils import timezone
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from policies import audit
from policies.domain.contract import codes, parse, tag_bodies, tag_query

from .. import selectors, services
from ..models import BackupPolicy, Tenant
from . import schema
from .errors import ContractError


def tenant_or_403(request: Request, project_id: str) -> Tenant:
    """Return the caller's tenant; 403 whether or not the project exists (no leaking)."""
    tenant = selectors.tenant_for_api_token(token=request.auth, project_id=project_id)
    if tenant is None:
        shown = project_id if len(project_id) <= 64 else project_id[:63] + "…"
        exc = exceptions.PermissionDenied(
            f"project {shown!r} is not one of the projects of this token; use one of your project IDs"
        )
        exc.contract_code = codes.FORBIDDEN_PROJECT
        raise exc
    return tenant


def policy_or_404(tenant: Tenant, policy_id: str) -> BackupPolicy:
    """Return the tenant's policy; another project's, an unknown or a malformed ID is 0205."""
    policy = selectors.policy_for_tenant(tenant=tenant, policy_id=policy_id)
    if policy is None:
        shown = policy_id if len(policy_id) <= 64 else policy_id[:63] + "…"
        raise ContractError([codes.policy_not_found_problem(shown)], status_code=HTTPStatus.NOT_FOUND)
    return policy


def json_body(request: Request):
    """Return the decoded JSON body; an empty body is the contract's AutoBackup.0000."""
    if request.stream is None:  # DRF's way of saying "no body at all"
        raise ContractError(
            [codes.Problem("body", codes.BODY_EMPTY, "the body is empty; send a JSON object", codes.REQUEST)]
        )
    return request.data


def refuse_problems(problems) -> None:
    if problems:
        raise ContractError(problems)


def actor(request: Request) -> audit.Actor:
    return audit.Actor.api(request.user, request.auth)


def tag_list(tags) -> list[dict[str, str]]:
    return [{"key": tag.key, "value": tag.value} for tag in tags]


def policy_representation(values: dict, tags: list[tuple[str, str]]) -> dict:
    """One policy as the list answers it: what is stored, and only that (read back by the core)."""
    spec = BackupPolicy.spec_from_values(values, tags)
    body: dict = {
        "backup_policy_id": str(values["id"]),
        "backup_policy_name": spec.name,
        "scheduled_policy": spec.scheduled_policy(),
    }
    if spec.time_zone is not None:
        body["time_zone"] = spec.time_zone
    if spec.time_zone_name is not None:
        body["time_zone_name"] = spec.time_zone_name
    body["tags"] = tag_list(spec.tags)
    # Read by the list's query (one query for all policies, not one per policy).
    body["policy_resource_count"] = values["resource_count"]
    return body


class ContractView(APIView):
    """Base of the contract's views: a wrong method is 405 before the token is even looked at."""

    # No OPTIONS: DRF's would describe the view to anyone with a token; the docs do that.
    http_method_names = ["get", "post", "put", "patch", "delete"]

    @classmethod
    def as_view(cls, **initkwargs):
        # Compressed for clients that accept gzip. Safe from BREACH: a page cannot make a browser
        # send the X-Auth-Token header across sites, so no attacker can have answers compressed
        # beside text of their own (a new webhook's secret is the one secret an answer holds).
        return gzip_page(super().as_view(**initkwargs))

    def initial(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            allowed = ", ".join(m for m in self.allowed_methods if m != "OPTIONS")
            raise exceptions.MethodNotAllowed(
                request.method, detail=f"method {request.method} is not allowed on this path; use {allowed}"
            )
        super().initial(request, *args, **kwargs)


class BackupPolicyCollection(ContractView):
    """``/v2/{project_id}/backuppolicy``: list and create."""

    @schema.list_policies
    def get(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        policies = selectors.policy_values_for_tenant(tenant=tenant)
        return Response({"backup_policies": [policy_representation(*policy) for policy in policies]})

    @schema.create_policy
    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        result = parse.parse_policy(json_body(request), now=timezone.now())
        refuse_problems(result.problems)
        policy = services.policy_create(tenant=tenant, spec=result.spec, actor=actor(request))
        return Response({"backup_policy_id": str(policy.pk)}, status=200)


class ProjectTags(ContractView):
    """``/v2/{project_id}/backuppolicy/tags``: every tag key of the project with its values.

    A literal route: it is listed before ``{policy_id}`` so that "tags" is never read as an ID.
    """

    @schema.project_tags
    def get(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        return Response(
            {
                "tags": [
                    {"key": key, "values": values}
                    for key, values in selectors.tag_values_for_tenant(tenant=tenant)
                ]
            }
        )


class ResourceInstances(ContractView):
    """``/v2/{project_id}/backuppolicy/resource_instances/action``: query policies by tag.

    A literal route: listed before ``{policy_id}``. ``filter`` answers one page of the matching
    policies and their number; ``count`` only the number.
    """

    @schema.query_by_tags
    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        query, problems = tag_query.parse_tag_query(json_body(request))
        refuse_problems(problems)
        found = selectors.policy_query_by_tags(tenant=tenant, query=query)
        total = found.count()
        if query.counts_only:
            return Response({"total_count": total})
        page = found[query.offset : query.offset + query.limit] if query.offset < total else []
        resources = [
            {
                "resource_id": str(policy.pk),
                "resource_name": policy.name,
                "resource_detail": None,
                "tags": tag_list(policy.tags.all()),
            }
            for policy in page
        ]
        return Response({"resources": resources, "total_count": total})


class BackupPolicyDetail(ContractView):
    """``/v2/{project_id}/backuppolicy/{policy_id}``: modify and delete."""

    @schema.modify_policy
    def put(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        # The merge runs in the service, under the policy's lock (no lost update).
        services.policy_modify(
            policy=policy, body=json_body(request), actor=actor(request), now=timezone.now()
        )
        return Response({"backup_policy_id": str(policy.pk)}, status=200)

    @schema.delete_policy
    def delete(self, request: Request, project_id: str, policy_id: str) -> Response:
        # No body is read: a DELETE needs none, and one sent is ignored.
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        services.policy_delete(policy=policy, actor=actor(request))
        return Response(status=204)


class PolicyTags(ContractView):
    """``/v2/{project_id}/backuppolicy/{policy_id}/tags``: read the tags, add or replace one."""

    @schema.policy_tags
    def get(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        return Response({"tags": tag_list(policy.tags.all())})

    @schema.put_tag
    def post(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        tag, problems = tag_bodies.parse_tag_body(json_body(request))
        refuse_problems(problems)
        services.policy_tag_put(policy=policy, tag=tag, actor=actor(request))
        return Response(status=204)


def remove_tag(request: Request, project_id: str, policy_id: str, key: str) -> Response:
    policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
    services.policy_tag_remove(policy=policy, key=key, actor=actor(request))
    return Response(status=204)


class PolicyTag(ContractView):
    """``/v2/{project_id}/backuppolicy/{policy_id}/tags/{key}``: remove one tag."""

    @schema.remove_tag
    def delete(self, request: Request, project_id: str, policy_id: str, key: str) -> Response:
        return remove_tag(request, project_id, policy_id, key)


class PolicyTagAction(ContractView):
    """``/v2/{project_id}/backuppolicy/{policy_id}/tags/action``: the batch tag route.

    The literal ``action`` shadows ``tags/{key}`` for the key "action": a DELETE here removes
    that tag, so every key stays removable (docs/api.md).
    """

    @schema.tag_action
    def post(self, request: Request, project_id: str, policy_id: str) -> Response:
        policy = policy_or_404(tenant_or_403(request, project_id), policy_id)
        batch, problems = tag_bodies.parse_tag_action(json_body(request))
        refuse_problems(problems)
        services.policy_tags_batch(policy=policy, batch=batch, actor=actor(request))
        return Response(status=204)

    @schema.remove_action_tag
    def delete(self, request: Request, project_id: str, policy_id: str) -> Response:
        return remove_tag(request, project_id, policy_id, "action")


@extend_schema(exclude=True)
class NotFoundView(APIView):
    """Every other path under /v2/: 404 in the envelope, for any method, without authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        # Skip content negotiation errors too: an unknown path is a 404 whatever Accept says.
        self.format_kwarg = None
        raise exceptions.NotFound(self.not_found_message(request.path))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # DRF names the methods of the view in Allow; this one serves none (not even OPTIONS).
        del response["Allow"]
        return response

    @staticmethod
    def not_found_message(path: str) -> str:
        if path.endswith("/") and path != "/v2/":
            return f"no API route at {path}; paths have no trailing slash: use {path.rstrip('/')}"
        return f"no API route at {path}; see docs/api.md for the routes"
