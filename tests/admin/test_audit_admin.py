"""The audit trail in the admin: read-only for everyone, readable, filtered and searched."""

import html
from http import HTTPStatus

import pytest

from policies import audit, services, volumes
from policies.domain.contract import parse
from policies.models import AuditEvent
from tests.helpers.admin import admin_url
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate, make_volumes

pytestmark = pytest.mark.django_db

CHANGELIST = admin_url("auditevent", "changelist")


@pytest.fixture
def trail(tenant, other_tenant, actor, superuser):
    """alice creates and disables "web" through the API; staff create "db" in another project."""
    web = make_policy(tenant, "web", actor=actor, tags=[("env", "prod")])
    spec = parse.parse_policy_update({"scheduled_policy": {"status": "OFF"}}, web.to_spec()).spec
    services.policy_update(policy=web, spec=spec, actor=actor)
    db = make_policy(other_tenant, "db", actor=audit.Actor.admin(superuser))
    return web, db


def listed(client, params=None) -> list[tuple[str, str]]:
    response = client.get(CHANGELIST, params or {})
    assert response.status_code == HTTPStatus.OK
    return [(event.policy_name, event.action) for event in response.context["cl"].result_list]


def test_the_list_shows_when_who_entrance_action_project_policy_and_fields(admin_client, trail):
    assert listed(admin_client) == [("db", "create"), ("web", "change"), ("web", "create")]
    html = admin_client.get(CHANGELIST).content.decode()
    assert "alice (token bpc_" in html
    assert "status: ON → OFF" in html
    assert "tenant-a" in html
    assert "Admin site" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"entrance__exact": "api"}, [("web", "change"), ("web", "create")]),
        ({"entrance__exact": "admin"}, [("db", "create")]),
        ({"action__exact": "change"}, [("web", "change")]),
        ({"action__exact": "create"}, [("db", "create"), ("web", "create")]),
    ],
)
def test_filters_by_entrance_and_action(admin_client, trail, params, expected):
    assert listed(admin_client, params) == expected


def test_filter_by_tenant(admin_client, trail, other_tenant):
    assert listed(admin_client, {"tenant__id__exact": other_tenant.pk}) == [("db", "create")]


def test_search_by_policy_name_username_and_policy_id(admin_client, trail):
    web, db = trail
    assert listed(admin_client, {"q": "web"}) == [("web", "change"), ("web", "create")]
    assert listed(admin_client, {"q": "root"}) == [("db", "create")]
    assert listed(admin_client, {"q": str(db.pk)}) == [("db", "create")]
    assert listed(admin_client, {"q": str(web.pk).upper()}) == [("web", "change"), ("web", "create")]
    # The list filters still apply to a search by ID.
    assert listed(admin_client, {"q": str(web.pk), "action__exact": "create"}) == [("web", "create")]


def test_the_records_of_a_deleted_policy_stay_readable(admin_client, trail, actor):
    web, _ = trail
    services.policy_delete(policy=web, actor=actor)
    assert listed(admin_client, {"policy_id": str(web.pk)}) == [
        ("web", "delete"),
        ("web", "change"),
        ("web", "create"),
    ]
    event = AuditEvent.objects.get(action="delete")
    html = admin_client.get(admin_url("auditevent", "change", event.pk)).content.decode()
    assert "deleted" in html


def test_the_record_page_shows_the_changes_as_a_before_and_after_table(admin_client, trail):
    event = AuditEvent.objects.get(action="change")
    response = admin_client.get(admin_url("auditevent", "change", event.pk))
    assert response.status_code == HTTPStatus.OK
    assert not response.context["adminform"].form.fields  # all read-only
    html = response.content.decode()
    assert '<th scope="col">Before</th>' in html
    assert "<td>ON</td><td>OFF</td>" in html
    assert '{"before"' not in html  # no raw JSON
    created = AuditEvent.objects.filter(action="create", policy_name="web").get()
    html = admin_client.get(admin_url("auditevent", "change", created.pk)).content.decode()
    assert "<td>—</td><td>env=prod</td>" in html


def test_the_trail_cannot_be_added_to_changed_or_deleted_even_by_a_superuser(admin_client, trail):
    event = AuditEvent.objects.get(action="change")
    before = AuditEvent.objects.count()
    assert admin_client.get(admin_url("auditevent", "add")).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(admin_url("auditevent", "add"), {"policy_name": "forged"}).status_code == 403
    changed = admin_client.post(admin_url("auditevent", "change", event.pk), {"policy_name": "forged"})
    assert changed.status_code == HTTPStatus.FORBIDDEN
    assert admin_client.get(admin_url("auditevent", "delete", event.pk)).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(admin_url("auditevent", "delete", event.pk), {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.context["action_form"] is None  # no action at all
    assert AuditEvent.objects.count() == before
    assert AuditEvent.objects.get(pk=event.pk).policy_name == "web"


def test_the_last_change_of_a_run_now_says_the_tasks_it_queued_not_their_field(admin_client, tenant):
    policy = make_policy(tenant, "manual")
    associate(policy, make_volumes(tenant, {"a.img": b"a", "b.img": b"b"}))
    volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    response = admin_client.get(admin_url("backuppolicy", "changelist"))
    body = html.unescape(response.content.decode())
    assert "Run now: 2 backup tasks queued" in body
    assert "backup_tasks" not in body
