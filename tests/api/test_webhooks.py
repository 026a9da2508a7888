"""The webhook routes: add (secret once), list, remove, test; the URL rule under production settings; isolation."""

import json
import uuid

import pytest

from policies import accounts, audit
from policies.domain.contract import codes
from policies.domain.contract import webhooks as rules
from policies.models import AuditEvent, Event, WebhookEndpoint
from policies.runs import webhook_http
from tests.helpers.api import ContractClient, error_of
from tests.helpers.factories import MembershipFactory, UserFactory
from tests.helpers.webhooks import stub_resolver

pytestmark = pytest.mark.django_db


def url(tenant, *rest) -> str:
    return "/".join([f"/v2/{getattr(tenant, 'project_id', tenant)}/webhooks", *rest])


def body(**webhook):
    return {"webhook": {"url": "https://hooks.example.com/in", "events": ["backup.failed"], **webhook}}


@pytest.fixture
def production(settings, monkeypatch):
    """Production's rule (private addresses and plain http refused), with names resolved by a stub."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOW_HTTP = False
    resolver = stub_resolver(
        {
            "hooks.example.com": ["93.184.215.14"],
            "rebind.example.com": ["127.0.0.1"],
            "inside.example.com": ["10.0.0.1"],
            "metadata.example.com": ["169.254.169.254"],
        }
    )
    monkeypatch.setattr(webhook_http, "system_resolve", resolver)
    return resolver


def test_create_answers_201_with_the_id_and_the_secret_once(api, tenant, production):
    response = api.post(url(tenant), body(description="pager"))
    assert response.status_code == 201, response.content
    created = response.json()["webhook"]
    assert created["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.secret == created["secret"]
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        "https://hooks.example.com/in",
        ["backup.failed"],
        "pager",
    )
    listed = api.request("GET", url(tenant)).json()["webhooks"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert created["secret"] not in json.dumps(listed)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "rebind.example.com",
        "inside.example.com",
        "metadata.example.com",
        "[::1]",
    ],
)
def test_a_url_reaching_a_loopback_private_or_metadata_address_is_refused_in_production(
    api, tenant, production, host
):
    response = api.post(url(tenant), body(url=f"https://{host}/in"))
    error = error_of(response, 400, codes.WEBHOOK_ADDRESS)
    assert "WEBHOOK_ALLOW_PRIVATE" in error["message"]
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_does_not_resolve_is_refused(api, tenant, production):
    error_of(api.post(url(tenant), body(url="https://nowhere.example.com/")), 400, codes.WEBHOOK_ADDRESS)


def test_plain_http_is_refused_in_production(api, tenant, production):
    error_of(api.post(url(tenant), body(url="http://hooks.example.com/in")), 400, codes.WEBHOOK_URL)


def test_allow_private_accepts_a_loopback_url_without_resolving_names(api, tenant, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_ALLOW_HTTP = True
    resolver = stub_resolver({})
    monkeypatch.setattr(webhook_http, "system_resolve", resolver)
    assert api.post(url(tenant), body(url="http://127.0.0.1:9/in")).status_code == 201
    assert api.post(url(tenant), body(url="http://receiver.internal/in")).status_code == 201
    assert resolver.asked == []
    # Metadata stays refused whatever the setting.
    error_of(api.post(url(tenant), body(url="http://169.254.169.254/")), 400, codes.WEBHOOK_ADDRESS)


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        (body(events=["nope"]), codes.WEBHOOK_EVENTS),
        (body(events=[]), codes.WEBHOOK_EVENTS),
        (body(url="not a url"), codes.WEBHOOK_URL),
        (body(description="x" * 256), codes.WEBHOOK_DESCRIPTION),
        (
            {"webhook": {"url": "https://hooks.example.com/", "events": ["run.missed"], "secret": "mine"}},
            codes.BAD_FIELD,
        ),
        ([], codes.BAD_FIELD),
    ],
)
def test_a_bad_body_is_400_with_its_code(api, tenant, production, sent, code):
    error_of(api.post(url(tenant), sent), 400, code)


def test_an_empty_body_is_0000(api, tenant):
    error_of(api.post(url(tenant)), 400, codes.BODY_EMPTY)


def test_the_eleventh_endpoint_is_refused(api, tenant, production):
    for _ in range(rules.MAX_ENDPOINTS):
        assert api.post(url(tenant), body()).status_code == 201
    error_of(api.post(url(tenant), body()), 400, codes.WEBHOOK_LIMIT)
    assert WebhookEndpoint.objects.count() == rules.MAX_ENDPOINTS


def test_delete_is_204_and_audited_like_the_create(api, tenant, production, user):
    created = api.post(url(tenant), body()).json()["webhook"]
    response = api.request("DELETE", url(tenant, created["id"]))
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    records = list(
        AuditEvent.objects.order_by("at", "id").values_list("action", "entrance", "username", "changes")
    )
    assert [r[:3] for r in records] == [
        (AuditEvent.Action.WEBHOOK_ADD, audit.AuditEvent.Entrance.API, "alice"),
        (AuditEvent.Action.WEBHOOK_REMOVE, audit.AuditEvent.Entrance.API, "alice"),
    ]
    assert created["secret"] not in json.dumps([r[3] for r in records])
    error_of(api.request("DELETE", url(tenant, created["id"])), 404, codes.WEBHOOK_NOT_FOUND)


def test_test_queues_a_ping_event_in_the_outbox(api, tenant, production):
    created = api.post(url(tenant), body()).json()["webhook"]
    response = api.post(url(tenant, created["id"], "test"))
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["event"]["id"])
    assert (event.type, event.details["webhook_id"], event.dispatched_at) == ("ping", created["id"], None)


def test_another_projects_webhook_is_404_on_every_route(api, tenant, other_tenant, production):
    other = UserFactory(username="bob")
    MembershipFactory(user=other, tenant=other_tenant)
    _, raw = accounts.token_issue(user=other)
    theirs = ContractClient(raw).post(url(other_tenant), body()).json()["webhook"]["id"]
    error_of(api.request("DELETE", url(tenant, theirs)), 404, codes.WEBHOOK_NOT_FOUND)
    error_of(api.post(url(tenant, theirs, "test")), 404, codes.WEBHOOK_NOT_FOUND)
    error_of(api.request("DELETE", url(tenant, "not-a-uuid")), 404, codes.WEBHOOK_NOT_FOUND)
    assert api.request("GET", url(tenant)).json() == {"webhooks": []}
    error_of(api.request("GET", url(other_tenant)), 403, codes.FORBIDDEN_PROJECT)
    assert WebhookEndpoint.objects.filter(pk=theirs).exists()
    assert not Event.objects.exists()


def test_no_token_is_401_and_a_wrong_method_405(anonymous, api, tenant):
    error_of(anonymous.request("GET", url(tenant)), 401, codes.NO_TOKEN)
    error_of(api.request("PUT", url(tenant)), 405, "AutoBackup.0005")
    error_of(api.request("GET", url(tenant, str(uuid.uuid4()))), 405, "AutoBackup.0005")
    error_of(api.request("GET", url(tenant, str(uuid.uuid4()), "test")), 405, "AutoBackup.0005")
