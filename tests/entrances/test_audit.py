"""One audit record per change, whichever entrance made it, with the right before and after; none
for a refused request or a change that changes nothing."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from policies import audit, services
from policies.domain.contract import codes, limits, parse, specs, tag_bodies
from policies.models import AuditEvent, BackupPolicy, PolicyTag
from tests.helpers.admin import admin_url, page_data
from tests.helpers.api import create_url
from tests.helpers.dashboard import form_data
from tests.helpers.factories import UserFactory
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_actor(user, token):
    return audit.Actor.api(user, user.api_tokens.get())


@pytest.fixture
def created(api, tenant):
    response = api.post(create_url(tenant), valid_payload(tags=[{"key": "env", "value": "prod"}]))
    assert response.status_code == HTTPStatus.OK
    return BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])


def only_event(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).get()


# --- The API ----------------------------------------------------------------------------------


def test_an_api_create_records_who_with_which_token_and_every_field(created, user, token):
    event = only_event()
    assert (event.entrance, event.action, event.user, event.username) == ("api", "create", user, "alice")
    assert (event.token.user, event.token_prefix) == (user, token[:10])
    assert (event.tenant.project_id, event.project_id, event.policy_id) == (
        "tenant-a",
        "tenant-a",
        created.pk,
    )
    assert event.changes == {
        "backup_policy_name": {"before": None, "after": "policy_01"},
        "scheduled_policy.start_time": {"before": None, "after": "12:00"},
        "scheduled_policy.week_frequency": {"before": None, "after": ["SUN", "WED"]},
        "scheduled_policy.rentention_day": {"before": None, "after": 30},
        "scheduled_policy.remain_first_backup_of_curMonth": {"before": None, "after": "Y"},
        "scheduled_policy.status": {"before": None, "after": "ON"},
        "time_zone": {"before": None, "after": "UTC+08:00"},
        "tags": {"before": None, "after": [{"key": "env", "value": "prod"}]},
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (valid_payload(backup_policy_name="default_x"), HTTPStatus.BAD_REQUEST),
        (valid_payload(tags=[{"key": "bad key", "value": ""}]), HTTPStatus.BAD_REQUEST),
        (valid_payload(backup_policy_name="POLICY_01"), HTTPStatus.CONFLICT),
    ],
)
def test_a_refused_api_create_records_nothing(api, tenant, created, body, status):
    assert api.post(create_url(tenant), body).status_code == status
    assert AuditEvent.objects.count() == 1  # the first create only


def test_an_api_create_past_the_quota_records_nothing(api, tenant):
    for n in range(limits.MAX_POLICIES_PER_TENANT):
        assert api.post(create_url(tenant), valid_payload(backup_policy_name=f"p{n}")).status_code == 200
    response = api.post(create_url(tenant), valid_payload(backup_policy_name="eleventh"))
    assert response.json()["error"]["code"] == codes.QUOTA
    assert AuditEvent.objects.count() == limits.MAX_POLICIES_PER_TENANT


# The other API routes are being written; their services are what they will call, with this actor.


def test_an_api_modify_records_before_and_after(created, api_actor):
    body = {"scheduled_policy": {"frequency": 2, "rentention_num": 5}, "time_zone": "UTC+00:00"}
    spec = parse.parse_policy_update(body, created.to_spec()).spec
    services.policy_update(policy=created, spec=spec, actor=api_actor)
    event = only_event(action="change")
    assert (event.entrance, event.token_prefix) == ("api", api_actor.token.prefix)
    assert event.changes == {
        "scheduled_policy.frequency": {"before": None, "after": 2},
        "scheduled_policy.week_frequency": {"before": ["SUN", "WED"], "after": None},
        "scheduled_policy.rentention_num": {"before": None, "after": 5},
        "scheduled_policy.rentention_day": {"before": 30, "after": None},
        "time_zone": {"before": "UTC+08:00", "after": "UTC+00:00"},
    }


def test_an_api_modify_that_changes_nothing_records_nothing(created, api_actor):
    spec = parse.parse_policy_update({"scheduled_policy": {"status": "ON"}}, created.to_spec()).spec
    services.policy_update(policy=created, spec=spec, actor=api_actor)
    assert not AuditEvent.objects.filter(action="change").exists()


def test_api_tag_changes_record_the_tag_list_before_and_after(created, api_actor):
    services.policy_tag_put(policy=created, tag=specs.Tag("owner", "bob"), actor=api_actor)
    services.policy_tag_remove(policy=created, key="env", actor=api_actor)
    with pytest.raises(services.TagNotFound):
        services.policy_tag_remove(policy=created, key="env", actor=api_actor)
    batch, _ = tag_bodies.parse_tag_action({"action": "create", "tags": [{"key": "owner", "value": "bob"}]})
    services.policy_tags_batch(policy=created, batch=batch, actor=api_actor)  # no change
    put, remove = AuditEvent.objects.filter(action="change").order_by("id")
    assert put.changes == {
        "tags": {
            "before": [{"key": "env", "value": "prod"}],
            "after": [{"key": "env", "value": "prod"}, {"key": "owner", "value": "bob"}],
        }
    }
    assert remove.changes == {
        "tags": {
            "before": [{"key": "env", "value": "prod"}, {"key": "owner", "value": "bob"}],
            "after": [{"key": "owner", "value": "bob"}],
        }
    }
    assert {put.entrance, remove.entrance} == {"api"}


def test_an_api_delete_records_every_field_as_before(created, api_actor):
    services.policy_delete(policy=created, actor=api_actor)
    event = only_event(action="delete")
    assert event.changes["backup_policy_name"] == {"before": "policy_01", "after": None}
    assert event.changes["tags"] == {"before": [{"key": "env", "value": "prod"}], "after": None}
    assert event.entrance == "api"


# --- The dashboard ----------------------------------------------------------------------------


def test_a_dashboard_create_records_the_signed_in_user(client, user, tenant):
    client.force_login(user)
    url = reverse("policies:policy_create", kwargs={"project_id": tenant.project_id})
    response = client.post(url, form_data(tag_key=["env", "", ""], tag_value=["prod", "", ""]))
    assert response.status_code == HTTPStatus.FOUND
    event = only_event()
    assert (event.entrance, event.action, event.username, event.token_prefix) == (
        "dashboard",
        "create",
        "alice",
        "",
    )
    assert event.changes["scheduled_policy.start_time"] == {"before": None, "after": "22:00,00:00,02:00"}
    assert event.changes["tags"]["after"] == [{"key": "env", "value": "prod"}]


def test_a_refused_dashboard_create_records_nothing(client, user, tenant):
    client.force_login(user)
    url = reverse("policies:policy_create", kwargs={"project_id": tenant.project_id})
    assert client.post(url, form_data(name="default_x")).status_code == HTTPStatus.OK
    assert not AuditEvent.objects.exists()


# --- The admin site ---------------------------------------------------------------------------


@pytest.fixture
def staff(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_admin_change_and_delete_are_recorded_with_the_staff_user(client, staff, created):
    url = admin_url("backuppolicy", "change", created.pk)
    data = page_data(client.get(url))
    data["status"] = "OFF"
    assert client.post(url, data).status_code == HTTPStatus.FOUND
    assert client.post(admin_url("backuppolicy", "delete", created.pk), {"post": "yes"}).status_code == 302
    change, delete = AuditEvent.objects.filter(entrance="admin").order_by("id")
    assert (change.action, change.user, change.changes) == (
        "change",
        staff,
        {"scheduled_policy.status": {"before": "ON", "after": "OFF"}},
    )
    assert (delete.action, delete.user, delete.changes["scheduled_policy.status"]) == (
        "delete",
        staff,
        {"before": "OFF", "after": None},
    )


def test_a_refused_or_empty_admin_change_records_nothing(client, staff, created):
    url = admin_url("backuppolicy", "change", created.pk)
    unchanged = page_data(client.get(url))
    assert client.post(url, unchanged).status_code == HTTPStatus.FOUND
    assert (
        client.post(url, {**unchanged, "start_time": "12:30", "status": "OFF"}).status_code == HTTPStatus.OK
    )
    assert AuditEvent.objects.count() == 1  # the API's create
    assert PolicyTag.objects.filter(policy=created).count() == 1
