"""The admin site's view of the projects' webhooks, e-mail recipients and deliveries.

Staff see every project's endpoints and what was sent where; they never see a secret. An
endpoint or a recipient is added on the dashboard or through the API (where its URL is checked
and its secret shown once); staff may remove one, through the services and audited. Deliveries
are the record of what was sent: read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .. import audit, webhooks
from ..models import Delivery, EmailRecipient, WebhookEndpoint
from .runs import ReadOnly


class RemovedWithDeliveries(ReadOnly):
    def get_deleted_objects(self, objs, request):
        # Its deliveries go with it: never deleted alone (read-only), but no reason to refuse this.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed - {Delivery._meta.verbose_name}, protected


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(RemovedWithDeliveries):
    list_display = ["url", "tenant", "events", "description", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["url", "description", "tenant__project_id"]
    # The secret signs every delivery: never shown after it was issued.
    exclude = ["secret"]
    list_select_related = ["tenant"]

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        webhooks.webhook_delete(endpoint=obj, actor=audit.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset.select_related("tenant"):
            self.delete_model(request, endpoint)


@admin.register(EmailRecipient)
class EmailRecipientAdmin(RemovedWithDeliveries):
    list_display = ["address", "tenant", "events", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["address", "tenant__project_id"]
    list_select_related = ["tenant"]

    def delete_model(self, request: HttpRequest, obj: EmailRecipient) -> None:
        webhooks.recipient_remove(recipient=obj, actor=audit.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for recipient in queryset.select_related("tenant"):
            self.delete_model(request, recipient)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = [
        "event_type",
        "destination",
        "tenant",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["tenant", "event__type"]
    list_select_related = ["tenant", "event", "endpoint", "recipient"]
    exclude = ["lease_token"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="to")
    def destination(self, obj: Delivery) -> str:
        return obj.endpoint.url if obj.endpoint_id else obj.recipient.address
