"""The VBS v2 backup-policy endpoints: thin views over the core and the services."""

from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import schedule, selectors, services
from ..models import Tenant
from .errors import ContractError


def tenant_or_403(request: Request, project_id: str) -> Tenant:
    """Return the caller's tenant; 403 whether or not the project exists (no leaking)."""
    tenant = selectors.tenant_for_api_user(user=request.user, project_id=project_id)
    if tenant is None:
        shown = project_id if len(project_id) <= 64 else project_id[:63] + "…"
        exc = exceptions.PermissionDenied(
            f"project {shown!r} is not one of the projects of this token; use one of your project IDs"
        )
        exc.contract_code = schedule.FORBIDDEN_PROJECT
        raise exc
    return tenant


def json_body(request: Request):
    """Return the decoded JSON body; an empty body is the contract's AutoBackup.0000."""
    if request.stream is None:  # DRF's way of saying "no body at all"
        raise ContractError(
            [schedule.Problem("body", schedule.BODY_EMPTY, "the body is empty; send a JSON object")]
        )
    return request.data


class ContractView(APIView):
    """Base of the contract's views: a wrong method is 405 before the token is even looked at."""

    # No OPTIONS: DRF's would describe the view to anyone with a token; the docs do that.
    http_method_names = ["get", "post", "put", "patch", "delete"]

    def initial(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            allowed = ", ".join(m for m in self.allowed_methods if m != "OPTIONS")
            raise exceptions.MethodNotAllowed(
                request.method, detail=f"method {request.method} is not allowed on this path; use {allowed}"
            )
        super().initial(request, *args, **kwargs)


class BackupPolicyCollection(ContractView):
    """``/v2/{project_id}/backuppolicy``."""

    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        result = schedule.parse_policy(json_body(request))
        if not result.ok:
            raise ContractError(result.problems)
        policy = services.policy_create(
            tenant=tenant, spec=result.spec, actor=services.Actor.api(request.user, request.auth)
        )
        return Response({"backup_policy_id": str(policy.pk)}, status=200)


class NotFoundView(APIView):
    """Every other path under /v2/: 404 in the envelope, for any method, without authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        # Skip content negotiation errors too: an unknown path is a 404 whatever Accept says.
        self.format_kwarg = None
        raise exceptions.NotFound(self.not_found_message(request.path))

    @staticmethod
    def not_found_message(path: str) -> str:
        if path.endswith("/") and path != "/v2/":
            return f"no API route at {path}; paths have no trailing slash: use {path.rstrip('/')}"
        return f"no API route at {path}; see docs/api.md for the routes"
