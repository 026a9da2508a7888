"""The OpenAPI description of a project's webhooks (docs/api.md, "Webhooks")."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from policies.domain.contract import codes
from policies.domain.contract import webhooks as rules

from .builders import BODY_CODES, PROJECT_ID, UUID, components, operation, ref

WEBHOOKS = "Webhooks"

# An absolute http(s) URL: a host name of dot-separated labels (or an IPv4 address), a port
# from 1 to 65535, a path or query without spaces or control characters, no credentials.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_URL = rf"^https?://{_LABEL}(\.{_LABEL})*(:{_PORT})?([/?][^\s#\x00-\x1f\x7f]*)?$"

_EVENTS = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {"type": "string", "enum": list(rules.EVENT_TYPES)},
}
_ENDPOINT_PROPERTIES = {
    "id": UUID,
    "url": {"type": "string"},
    "events": _EVENTS,
    "description": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
}

components(
    {
        "Webhook": {
            "type": "object",
            "additionalProperties": False,
            "required": list(_ENDPOINT_PROPERTIES),
            "properties": _ENDPOINT_PROPERTIES,
        },
        "WebhookList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["webhooks"],
            "properties": {"webhooks": {"type": "array", "items": ref("Webhook")}},
        },
        "WebhookCreated": {
            "type": "object",
            "additionalProperties": False,
            "required": ["webhook"],
            "properties": {
                "webhook": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [*_ENDPOINT_PROPERTIES, "secret"],
                    "properties": {
                        **_ENDPOINT_PROPERTIES,
                        "secret": {
                            "type": "string",
                            "pattern": "^whsec_[A-Za-z0-9+/]+={0,2}$",
                            "description": "The signing secret, answered this once.",
                        },
                    },
                }
            },
        },
        "WebhookBody": {
            "type": "object",
            "additionalProperties": False,
            "required": ["webhook"],
            "properties": {
                "webhook": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["url", "events"],
                    "properties": {
                        "url": {
                            "type": "string",
                            "maxLength": rules.URL_MAX,
                            # An absolute http(s) URL without spaces or credentials; https only and
                            # public hosts only in production (AutoBackup.0251, .0253).
                            "pattern": _URL,
                        },
                        "events": _EVENTS,
                        "description": {
                            "type": "string",
                            "maxLength": rules.DESCRIPTION_MAX,
                            "nullable": True,
                        },
                    },
                }
            },
        },
        "WebhookTestQueued": {
            "type": "object",
            "additionalProperties": False,
            "required": ["event"],
            "properties": {
                "event": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "type"],
                    "properties": {"id": UUID, "type": {"type": "string", "enum": [rules.PING]}},
                }
            },
        },
    }
)

WEBHOOK_ID = OpenApiParameter(
    "webhook_id",
    str,
    OpenApiParameter.PATH,
    description="A webhook of the project; another project's, an unknown ID or one that is not a UUID "
    "is 404 `AutoBackup.0250`.",
)

list_webhooks = operation(
    operation_id="listWebhooks",
    summary="List the project's webhook endpoints",
    description="Without their secrets.",
    tag=WEBHOOKS,
    success=(200, ref("WebhookList"), "The endpoints."),
    refusals={},
    parameters=[PROJECT_ID],
)
create_webhook = operation(
    operation_id="createWebhook",
    summary="Add a webhook endpoint",
    description="Its `secret` (`whsec_` + base64) is answered this once; every delivery is signed "
    "with it as the Standard Webhooks specification says. In production the URL must be https and "
    f"its host must resolve to public addresses only. At most {rules.MAX_ENDPOINTS} per project.",
    tag=WEBHOOKS,
    request={"application/json": ref("WebhookBody")},
    success=(201, ref("WebhookCreated"), "Added."),
    refusals={
        400: (
            *BODY_CODES,
            codes.WEBHOOK_URL,
            codes.WEBHOOK_EVENTS,
            codes.WEBHOOK_DESCRIPTION,
            codes.WEBHOOK_ADDRESS,
            codes.WEBHOOK_LIMIT,
        )
    },
    parameters=[PROJECT_ID],
)
delete_webhook = operation(
    operation_id="deleteWebhook",
    summary="Remove a webhook endpoint",
    description="Its deliveries not sent yet are not sent.",
    tag=WEBHOOKS,
    success=(204, None, "Removed; no body."),
    refusals={404: (codes.WEBHOOK_NOT_FOUND,)},
    parameters=[PROJECT_ID, WEBHOOK_ID],
)
test_webhook = operation(
    operation_id="testWebhook",
    summary="Send a test event to a webhook endpoint",
    description="A `ping` event goes into the outbox; the worker delivers it to this endpoint only.",
    tag=WEBHOOKS,
    success=(202, ref("WebhookTestQueued"), "Queued."),
    refusals={404: (codes.WEBHOOK_NOT_FOUND,)},
    parameters=[PROJECT_ID, WEBHOOK_ID],
)
