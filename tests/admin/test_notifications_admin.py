"""Staff see every project's webhooks, recipients and deliveries: never a secret; deliveries read-only."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from policies import audit, events, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import AuditEvent, Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(tenant):
    body, _ = rules.parse_webhook_body(
        {"webhook": {"url": "https://hooks.example.com/in", "events": ["backup.failed"]}}, allow_http=True
    )
    endpoint, secret = webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())
    event = events.emit("backup.failed", tenant.pk)
    delivery = Delivery.objects.create(
        tenant=tenant, event=event, endpoint=endpoint, attempts=1, last_status_code=502
    )
    return endpoint, secret, delivery


@pytest.mark.parametrize("model", ["webhookendpoint", "emailrecipient", "delivery"])
def test_each_list_answers(admin_client, delivered, model):
    response = admin_client.get(reverse(f"admin:policies_{model}_changelist"))
    assert response.status_code == HTTPStatus.OK


def test_the_endpoint_page_never_shows_its_secret(admin_client, delivered):
    endpoint, secret, _ = delivered
    for target in (
        reverse("admin:policies_webhookendpoint_changelist"),
        reverse("admin:policies_webhookendpoint_change", args=[endpoint.pk]),
    ):
        body = admin_client.get(target).content.decode()
        assert "hooks.example.com" in body
        assert secret not in body


def test_deliveries_are_listed_with_their_answer_and_cannot_be_changed_or_deleted(admin_client, delivered):
    _, _, delivery = delivered
    body = admin_client.get(reverse("admin:policies_delivery_changelist")).content.decode()
    assert "502" in body
    assert "backup.failed" in body
    assert admin_client.get(reverse("admin:policies_delivery_add")).status_code == HTTPStatus.FORBIDDEN
    response = admin_client.post(
        reverse("admin:policies_delivery_delete", args=[delivery.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Delivery.objects.filter(pk=delivery.pk).exists()


def test_staff_remove_an_endpoint_through_the_service_and_it_is_audited(admin_client, delivered):
    endpoint, _, _ = delivered
    response = admin_client.post(
        reverse("admin:policies_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not WebhookEndpoint.objects.exists()
    record = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_REMOVE)
    assert (record.entrance, record.username) == ("admin", "root")
    assert admin_client.get(reverse("admin:policies_webhookendpoint_add")).status_code == HTTPStatus.FORBIDDEN
