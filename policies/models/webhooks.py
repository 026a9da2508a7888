"""Where a project's events are announced (webhook endpoints, e-mail recipients) and each try to."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from policies.domain.contract import webhooks as rules

from .accounts import Tenant
from .events import Event


class WebhookEndpoint(models.Model):
    """A URL of a project that receives its events, signed as the Standard Webhooks specification says.

    The secret is kept as it was issued (``whsec_`` + base64), unlike an API token's digest: every
    delivery signs with it (HMAC-SHA256), so the server needs the secret itself, not a proof of it.
    It is shown to the project once, when the endpoint is made; the admin never shows it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=rules.URL_MAX)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    description = models.CharField(max_length=rules.DESCRIPTION_MAX, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url


class EmailRecipient(models.Model):
    """An e-mail address of a project that receives its events, one message per event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="email_recipients")
    address = models.EmailField(max_length=rules.ADDRESS_MAX)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "address"], name="recipient_once_per_tenant")
        ]

    def __str__(self) -> str:
        return self.address


class Delivery(models.Model):
    """One event to one endpoint or one recipient, and the tries so far.

    Made once per (event, endpoint) and (event, recipient): the unique constraints let any number
    of workers fan out without doubling one. Its id is the ``webhook-id`` of every try, so a
    receiver that sees a try twice (a worker stopped after sending) can tell it is the same.
    A worker holds a try under ``leased_until``; past it, another worker sends it again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        EmailRecipient, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # When the next try is due; null once delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A try in progress: the worker's lease and its own token (a late worker settles nothing).
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_response = models.CharField(max_length=500, blank=True, help_text="The start of the last answer.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(endpoint__isnull=False, recipient__isnull=True)
                | Q(endpoint__isnull=True, recipient__isnull=False),
                name="delivery_to_endpoint_or_recipient",
            ),
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                condition=Q(endpoint__isnull=False),
                name="delivery_once_per_endpoint",
            ),
            models.UniqueConstraint(
                fields=["event", "recipient"],
                condition=Q(recipient__isnull=False),
                name="delivery_once_per_recipient",
            ),
        ]
        indexes = [models.Index(fields=["next_attempt_at"]), models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint or self.recipient}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"

    @property
    def state(self) -> str:
        if self.delivered_at:
            return "delivered"
        if self.gave_up_at:
            return "gave up"
        return "retrying" if self.attempts else "pending"
