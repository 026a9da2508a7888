"""A project's webhooks (docs/api.md, "Webhooks"): list, add (the secret answered once), remove, test."""

from __future__ import annotations

from datetime import UTC
from http import HTTPStatus

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from policies.domain.contract import webhooks as rules

from .. import selectors, webhooks
from ..models import WebhookEndpoint
from .errors import ContractError
from .openapi import webhooks as described
from .views import ContractView, actor, json_body, refuse_problems, tenant_or_403


def representation(endpoint: WebhookEndpoint) -> dict:
    """An endpoint as listed: never its secret."""
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "created_at": endpoint.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def webhook_or_404(tenant, webhook_id: str) -> WebhookEndpoint:
    endpoint = selectors.webhook_for_tenant(tenant=tenant, webhook_id=webhook_id)
    if endpoint is None:
        raise ContractError([rules.webhook_not_found_problem(webhook_id)], status_code=HTTPStatus.NOT_FOUND)
    return endpoint


class WebhookCollection(ContractView):
    """``/webhooks``: the list, and a new endpoint."""

    @described.list_webhooks
    def get(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        return Response(
            {"webhooks": [representation(e) for e in selectors.webhook_list_for_tenant(tenant=tenant)]}
        )

    @described.create_webhook
    def post(self, request: Request, project_id: str) -> Response:
        tenant = tenant_or_403(request, project_id)
        body, problems = rules.parse_webhook_body(json_body(request), allow_http=settings.WEBHOOK_ALLOW_HTTP)
        refuse_problems(problems)
        endpoint, secret = webhooks.webhook_create(tenant=tenant, body=body, actor=actor(request))
        return Response(
            {"webhook": {**representation(endpoint), "secret": secret}}, status=HTTPStatus.CREATED
        )


class WebhookItem(ContractView):
    """``/webhooks/{webhook_id}``: remove."""

    @described.delete_webhook
    def delete(self, request: Request, project_id: str, webhook_id: str) -> Response:
        endpoint = webhook_or_404(tenant_or_403(request, project_id), webhook_id)
        webhooks.webhook_delete(endpoint=endpoint, actor=actor(request))
        return Response(status=HTTPStatus.NO_CONTENT)


class WebhookTest(ContractView):
    """``/webhooks/{webhook_id}/test``: a ``ping`` event, delivered by the worker like any other."""

    @described.test_webhook
    def post(self, request: Request, project_id: str, webhook_id: str) -> Response:
        endpoint = webhook_or_404(tenant_or_403(request, project_id), webhook_id)
        event = webhooks.webhook_ping(endpoint=endpoint)
        return Response({"event": {"id": str(event.pk), "type": event.type}}, status=HTTPStatus.ACCEPTED)
