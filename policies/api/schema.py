"""The OpenAPI description served: /api/schema/ (YAML, or JSON with ``?format=json``) and /api/docs/.

The description itself is built in ``openapi/`` (one builder, one module per concern). This
module serves it, Swagger UI's assets coming from drf-spectacular-sidecar through the static
files, never from a CDN, and names the policy and tag operations the API views wear
(``@schema.create_policy``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation

from .openapi.policies import create_policy, delete_policy, list_policies, modify_policy
from .openapi.tags import (
    policy_tags,
    project_tags,
    put_tag,
    query_by_tags,
    remove_action_tag,
    remove_tag,
    tag_action,
)

__all__ = [
    "SchemaView",
    "SwaggerView",
    "create_policy",
    "delete_policy",
    "list_policies",
    "modify_policy",
    "policy_tags",
    "project_tags",
    "put_tag",
    "query_by_tags",
    "remove_action_tag",
    "remove_tag",
    "tag_action",
]


class _PublicPage:
    # Public pages: no token (the API's authentication refuses a request without one) and
    # ordinary content negotiation (the API's answers 406 to an Accept without JSON, which a
    # YAML or HTML client sends).
    authentication_classes: list = []
    content_negotiation_class = DefaultContentNegotiation


class SchemaView(_PublicPage, SpectacularAPIView):
    pass


class SwaggerView(_PublicPage, SpectacularSwaggerSplitView):
    """Swagger UI, with its start-up script served as a file (``?script``) and no inline style.

    The split view and our template (``templates/api/swagger_ui.html``) let the page live under
    the site's strict Content-Security-Policy without an exception.
    """

    url_name = "api-schema"
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        # The page would embed a CSRF token (and set its cookie) for Swagger UI's requests; the
        # API authenticates by X-Auth-Token only and needs none, so the public page carries none.
        response.data["csrf_token"] = ""
        return response
