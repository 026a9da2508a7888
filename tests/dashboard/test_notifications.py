"""The Notifications page: webhooks (added with the secret once, tested, removed), e-mail recipients, deliveries."""

import html
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies import audit, events, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import AuditEvent, Delivery, EmailRecipient, Event, WebhookEndpoint
from policies.runs import webhook_http
from tests.helpers.dashboard import HTMX
from tests.helpers.webhooks import stub_resolver

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/in"


def page(tenant, name="notifications", **ids):
    return reverse(f"policies:{name}", kwargs={"project_id": getattr(tenant, "project_id", tenant), **ids})


def endpoint_of(tenant, url=HOOK):
    body, _ = rules.parse_webhook_body(
        {"webhook": {"url": url, "events": ["backup.failed"]}}, allow_http=True
    )
    return webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())[0]


def recipient_of(tenant):
    return webhooks.recipient_add(
        tenant=tenant, address="ops@example.com", chosen=("backup.failed",), actor=audit.Actor.command()
    )


def ticket_of(body: str) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', body)[1]


def add_webhook(client, tenant, data, **headers):
    """Post the add form as drawn on the page (with its one-use ticket)."""
    ticket = ticket_of(client.get(page(tenant)).content.decode())
    return client.post(page(tenant, "webhook_add"), {**data, "ticket": ticket}, **headers)


def views(tenant):
    """(url, method) of every view of the page, each naming a webhook or recipient of ``tenant``."""
    endpoint, recipient = endpoint_of(tenant), recipient_of(tenant)
    return [
        (page(tenant), "get"),
        (page(tenant, "notification_deliveries"), "get"),
        (page(tenant, "webhook_add"), "post"),
        (page(tenant, "webhook_test", webhook_id=endpoint.pk), "post"),
        (page(tenant, "webhook_remove", webhook_id=endpoint.pk), "post"),
        (page(tenant, "recipient_add"), "post"),
        (page(tenant, "recipient_remove", recipient_id=recipient.pk), "post"),
    ]


def test_anonymous_is_sent_to_sign_in_from_every_view(client, tenant):
    for target, method in views(tenant):
        response = getattr(client, method)(target)
        assert response.status_code == HTTPStatus.FOUND, target
        assert response["Location"] == f"/accounts/login/?next={target}"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_page_webhook_and_recipient_are_not_found(member, other_tenant, headers):
    for target, method in views(other_tenant):
        assert getattr(member, method)(target, **headers).status_code == HTTPStatus.NOT_FOUND, target
    assert WebhookEndpoint.objects.count() == EmailRecipient.objects.count() == 1
    assert not Event.objects.exists()


def test_a_webhook_or_recipient_of_another_project_is_not_found_under_ones_own(member, tenant, other_tenant):
    theirs, their_recipient = endpoint_of(other_tenant), recipient_of(other_tenant)
    assert member.post(page(tenant, "webhook_test", webhook_id=theirs.pk)).status_code == HTTPStatus.NOT_FOUND
    assert (
        member.post(page(tenant, "webhook_remove", webhook_id=theirs.pk)).status_code == HTTPStatus.NOT_FOUND
    )
    assert (
        member.post(page(tenant, "recipient_remove", recipient_id=their_recipient.pk)).status_code
        == HTTPStatus.NOT_FOUND
    )
    assert member.post(page(tenant, "webhook_test", webhook_id="nope")).status_code == HTTPStatus.NOT_FOUND


def test_a_wrong_method_is_refused_on_every_view(member, tenant):
    for target, method in views(tenant):
        wrong = "post" if method == "get" else "get"
        assert getattr(member, wrong)(target).status_code == HTTPStatus.METHOD_NOT_ALLOWED, target


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_page_lists_webhooks_recipients_and_deliveries(member, tenant, headers):
    endpoint_of(tenant)
    recipient_of(tenant)
    response = member.get(page(tenant), **headers)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert ("<html" in body) is not bool(headers)
    assert HOOK in body
    assert "ops@example.com" in body
    assert "Nothing sent yet." in body


def test_adding_a_webhook_shows_its_secret_once_and_saves_it(member, tenant, user):
    response = add_webhook(member, tenant, {"url": HOOK, "events": ["backup.failed", "run.missed"]})
    assert response.status_code == HTTPStatus.OK
    assert "no-cache" in response["Cache-Control"]
    secret = re.search(
        r'id="webhook-secret" type="text" readonly value="([^"]+)"', response.content.decode()
    )[1]
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.events) == (secret, ["backup.failed", "run.missed"])
    assert secret not in member.get(page(tenant)).content.decode()
    record = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_ADD)
    assert (record.entrance, record.username, record.project_id) == ("dashboard", "alice", "tenant-a")


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"url": "", "events": ["backup.failed"]}, "is required"),
        ({"url": "ftp://x.example.com/", "events": ["backup.failed"]}, "must start with"),
        ({"url": HOOK}, "must be a non-empty list of event types"),
    ],
)
def test_an_invalid_webhook_is_shown_with_its_problem_and_not_saved(member, tenant, headers, data, words):
    response = member.post(page(tenant, "webhook_add"), data, **headers)
    assert response.status_code == HTTPStatus.OK
    assert words in html.unescape(response.content.decode())
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("allow_http", "words"),
    [(True, "must start with http:// or https://"), (False, "must start with https://")],
    ids=["http-allowed", "https-only"],
)
def test_a_url_of_another_scheme_is_told_each_scheme_it_may_start_with_in_full(
    member, tenant, settings, allow_http, words
):
    settings.WEBHOOK_ALLOW_HTTP = allow_http
    response = add_webhook(member, tenant, {"url": "ftp://x.example.com/", "events": ["backup.failed"]})
    assert words in html.unescape(response.content.decode())
    assert not WebhookEndpoint.objects.exists()


def test_a_refused_address_is_shown_at_the_url_under_production_settings(
    member, tenant, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(webhook_http, "system_resolve", stub_resolver({"hooks.example.com": ["10.0.0.1"]}))
    response = add_webhook(member, tenant, {"url": HOOK, "events": ["backup.failed"]})
    body = html.unescape(response.content.decode())
    assert "resolves to 10.0.0.1, a private address" in body
    assert 'id="webhook-url-errors"' in body
    assert not WebhookEndpoint.objects.exists()
    # Nothing was added: the form drawn again, once the address is allowed, adds the webhook.
    settings.WEBHOOK_ALLOW_PRIVATE = True
    data = {"url": HOOK, "events": ["backup.failed"], "ticket": ticket_of(body)}
    assert 'id="webhook-secret"' in member.post(page(tenant, "webhook_add"), data).content.decode()
    assert WebhookEndpoint.objects.count() == 1


def test_reloading_the_added_page_adds_no_second_webhook(member, tenant):
    data = {
        "url": HOOK,
        "events": ["backup.failed"],
        "ticket": ticket_of(member.get(page(tenant)).content.decode()),
    }
    first = member.post(page(tenant, "webhook_add"), data)
    assert 'id="webhook-secret"' in first.content.decode()

    again = member.post(page(tenant, "webhook_add"), data, follow=True)  # the browser's reload

    assert 'id="webhook-secret"' not in again.content.decode()
    assert "no webhook was added now" in again.content.decode()
    assert WebhookEndpoint.objects.count() == 1
    # The form drawn after the add has its own ticket: a second webhook, wanted, is added.
    fresh = ticket_of(first.content.decode())
    assert fresh != data["ticket"]
    member.post(page(tenant, "webhook_add"), {**data, "url": f"{HOOK}2", "ticket": fresh})
    assert WebhookEndpoint.objects.count() == 2


def test_the_deliveries_refresh_issues_no_ticket(member, tenant):
    ticket = ticket_of(member.get(page(tenant)).content.decode())
    for _ in range(25):  # more refreshes than the tickets kept
        member.get(page(tenant, "notification_deliveries"), **HTMX)
    data = {"url": HOOK, "events": ["backup.failed"], "ticket": ticket}
    assert 'id="webhook-secret"' in member.post(page(tenant, "webhook_add"), data).content.decode()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_send_a_test_queues_a_ping_for_that_webhook(member, tenant, headers):
    endpoint = endpoint_of(tenant)
    response = member.post(page(tenant, "webhook_test", webhook_id=endpoint.pk), **headers)
    if headers:
        assert response.status_code == HTTPStatus.OK
        assert "Test queued" in response.content.decode()
    else:
        assert response.status_code == HTTPStatus.FOUND
        assert "Test queued" in member.get(response["Location"]).content.decode()
    event = Event.objects.get()
    assert (event.type, event.details["webhook_id"]) == ("ping", str(endpoint.pk))


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_remove_deletes_the_webhook(member, tenant, headers):
    endpoint = endpoint_of(tenant)
    response = member.post(page(tenant, "webhook_remove", webhook_id=endpoint.pk), **headers)
    assert response.status_code == (HTTPStatus.OK if headers else HTTPStatus.FOUND)
    assert not WebhookEndpoint.objects.exists()
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_REMOVE, entrance="dashboard").count() == 1
    )


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_recipient_is_added_and_removed(member, tenant, headers):
    response = member.post(
        page(tenant, "recipient_add"), {"address": "Ops@Example.com", "events": ["run.missed"]}, **headers
    )
    assert response.status_code == (HTTPStatus.OK if headers else HTTPStatus.FOUND)
    recipient = EmailRecipient.objects.get()
    assert (recipient.address, recipient.events) == ("ops@example.com", ["run.missed"])
    again = member.post(
        page(tenant, "recipient_add"), {"address": "ops@example.com", "events": ["run.missed"]}
    )
    assert "already receives" in html.unescape(again.content.decode())
    member.post(page(tenant, "recipient_remove", recipient_id=recipient.pk), **headers)
    assert not EmailRecipient.objects.exists()


def test_an_invalid_recipient_is_shown_with_its_problem(member, tenant):
    response = member.post(page(tenant, "recipient_add"), {"address": "ops", "events": ["run.missed"]})
    assert response.status_code == HTTPStatus.OK
    assert "must be an e-mail address" in response.content.decode()
    assert not EmailRecipient.objects.exists()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_deliveries_show_their_answers_and_next_try(member, tenant, headers):
    endpoint = endpoint_of(tenant)
    event = events.emit("backup.failed", tenant.pk, policy_name="nightly")
    Delivery.objects.create(
        tenant=tenant,
        event=event,
        endpoint=endpoint,
        attempts=2,
        last_status_code=503,
        last_response="down for maintenance",
        next_attempt_at=event.occurred_at,
    )
    response = member.get(page(tenant, "notification_deliveries"), **headers)
    body = response.content.decode()
    assert ("<html" in body) is not bool(headers)
    assert 'id="deliveries"' in body
    for shown in ("Backup failed", "Retrying", "503", "down for maintenance", HOOK):
        assert shown in body


def test_the_header_links_to_the_projects_notifications(member, tenant):
    body = member.get(
        reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})
    ).content.decode()
    assert f'href="{page(tenant)}"' in body


def test_the_deliveries_refresh_themselves_only_while_something_is_about_to_be_sent(member, tenant):
    endpoint = endpoint_of(tenant)
    assert 'data-active="false"' in member.get(page(tenant)).content.decode()
    webhooks.webhook_ping(endpoint=endpoint)
    body = member.get(page(tenant, "notification_deliveries"), **HTMX).content.decode()
    assert 'data-active="true"' in body
    assert 'hx-trigger="every 2s"' in body
    Event.objects.update(dispatched_at=Event.objects.get().occurred_at)
    assert (
        'hx-trigger="every'
        not in member.get(page(tenant, "notification_deliveries"), **HTMX).content.decode()
    )
