"""A project's notification settings: webhook endpoints and e-mail recipients, each write audited.

The rules of a body are the core's (``domain.contract.webhooks``) and so is the rule of which
addresses a webhook may reach (``domain.destinations``); what needs the database (the limit per
project, one address once) is decided here under the tenant's row lock. Nothing here sends:
a test is a ``ping`` event in the outbox, delivered by the worker like any other.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import transaction

from policies import audit, events
from policies.domain import destinations
from policies.domain.contract import webhooks as rules
from policies.runs import webhook_http

from . import services
from .models import AuditEvent, EmailRecipient, Event, Tenant, WebhookEndpoint


class WebhookNotFound(services.ServiceError):
    pass


class WebhookRefused(services.ServiceError):
    """A URL whose host resolves to an address webhooks may not reach (or to none)."""


class TooMany(services.ServiceError):
    pass


class RecipientTaken(services.ServiceError):
    pass


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64: the Standard Webhooks form of a signing secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_url_destination(target: rules.Target, *, resolve=None) -> None:
    """Refuse a URL whose host resolves to an address not allowed (checked again at each delivery).

    With WEBHOOK_ALLOW_PRIVATE on (tests, closed networks) a name is not resolved here: only a
    literal address is checked, and each delivery checks what the name resolves to then.
    """
    if settings.WEBHOOK_ALLOW_PRIVATE and destinations.parse_address(target.host) is None:
        return
    destination = webhook_http.destination_of(target, resolve)
    if not destination.allowed:
        raise WebhookRefused(rules.address_problem(destination, target))


def webhook_create(
    *, tenant: Tenant, body: rules.WebhookBody, actor: audit.Actor, resolve=None
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint to the project; return it with its secret (shown once)."""
    check_url_destination(body.target, resolve=resolve)
    secret = new_secret()
    with transaction.atomic():
        services.lock_tenant(tenant)
        if WebhookEndpoint.objects.filter(tenant=tenant).count() >= rules.MAX_ENDPOINTS:
            raise TooMany(rules.limit_problem("webhook", rules.MAX_ENDPOINTS))
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant,
            url=body.url,
            events=list(body.events),
            description=body.description,
            secret=secret,
        )
        audit.record_project_event(
            actor,
            AuditEvent.Action.WEBHOOK_ADD,
            tenant,
            {
                "webhook": {"before": None, "after": body.url},
                "events": {"before": None, "after": list(body.events)},
            },
        )
    return endpoint, secret


def webhook_delete(*, endpoint: WebhookEndpoint, actor: audit.Actor) -> None:
    """Remove an endpoint, and with it its deliveries (those not sent yet are not sent)."""
    with transaction.atomic():
        services.lock_tenant(endpoint.tenant)
        deleted, _ = WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        if not deleted:
            raise WebhookNotFound(rules.webhook_not_found_problem(endpoint.pk))
        audit.record_project_event(
            actor,
            AuditEvent.Action.WEBHOOK_REMOVE,
            endpoint.tenant,
            {"webhook": {"before": endpoint.url, "after": None}},
        )


def webhook_ping(*, endpoint: WebhookEndpoint) -> Event:
    """Queue a ``ping`` to the endpoint through the outbox: the worker sends it like any event."""
    with transaction.atomic():
        return events.emit(
            rules.PING,
            endpoint.tenant_id,
            webhook_id=str(endpoint.pk),
            message="A test of this webhook from the Backup Policy Console.",
        )


def recipient_add(
    *, tenant: Tenant, address: str, chosen: tuple[str, ...], actor: audit.Actor
) -> EmailRecipient:
    """Add an e-mail recipient to the project (an address once per project)."""
    with transaction.atomic():
        services.lock_tenant(tenant)
        existing = EmailRecipient.objects.filter(tenant=tenant)
        if existing.filter(address=address).exists():
            raise RecipientTaken(rules.recipient_taken_problem(address))
        if existing.count() >= rules.MAX_RECIPIENTS:
            raise TooMany(rules.limit_problem("recipient", rules.MAX_RECIPIENTS))
        recipient = EmailRecipient.objects.create(tenant=tenant, address=address, events=list(chosen))
        audit.record_project_event(
            actor, AuditEvent.Action.RECIPIENT_ADD, tenant, {"recipient": {"before": None, "after": address}}
        )
    return recipient


def recipient_remove(*, recipient: EmailRecipient, actor: audit.Actor) -> None:
    with transaction.atomic():
        services.lock_tenant(recipient.tenant)
        if EmailRecipient.objects.filter(pk=recipient.pk).delete()[0]:
            audit.record_project_event(
                actor,
                AuditEvent.Action.RECIPIENT_REMOVE,
                recipient.tenant,
                {"recipient": {"before": recipient.address, "after": None}},
            )
