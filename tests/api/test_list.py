"""``GET /v2/{project_id}/backuppolicy``: what is stored is what is listed, in creation order."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from policies.models import BackupPolicy
from tests.helpers.api import create_url, error_of, send
from tests.helpers.payloads import EVERY_DAY, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def listed(api, tenant) -> list[dict]:
    response = send(api, "GET", create_url(tenant))
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"backup_policies"}
    return body["backup_policies"]


def test_an_empty_project_lists_an_empty_list(api, tenant):
    assert listed(api, tenant) == []


def test_a_policy_created_through_the_api_is_listed_as_stored(api, tenant):
    body = valid_payload(
        scheduled_policy={
            "start_time": " 21:00, 22:00",
            "frequency": 3,
            "week_frequency": ["SAT", "MON"],
            "rentention_num": 4,
            "rentention_day": 30.5,
            "status": "OFF",
        },
        time_zone="UTC+01:00",
        tags=[{"key": "b", "value": ""}, {"key": "a", "value": "1"}],
    )
    created = api.post(create_url(tenant), body).json()["backup_policy_id"]
    assert listed(api, tenant) == [
        {
            "backup_policy_id": created,
            "backup_policy_name": "policy_01",
            # Only the winner of each pair, the canonical start times, the default "N".
            "scheduled_policy": {
                "start_time": "21:00,22:00",
                "frequency": 3,
                "rentention_num": 4,
                "remain_first_backup_of_curMonth": "N",
                "status": "OFF",
            },
            "time_zone": "UTC+01:00",
            "tags": [{"key": "b", "value": ""}, {"key": "a", "value": "1"}],
            "policy_resource_count": 0,
        }
    ]


def test_the_founding_example_is_listed_with_its_weekdays_and_rentention_day(api, tenant):
    policy = make_policy(tenant, payload=valid_payload())
    (item,) = listed(api, tenant)
    assert item["scheduled_policy"] == {
        "start_time": "12:00",
        "week_frequency": ["SUN", "WED"],
        "rentention_day": 30,
        "remain_first_backup_of_curMonth": "Y",
        "status": "ON",
    }
    assert item["backup_policy_id"] == str(policy.pk)
    assert item["time_zone"] == "UTC+08:00"


def test_time_zone_is_absent_when_the_policy_has_none(api, tenant):
    make_policy(tenant, payload=valid_payload(time_zone=None, scheduled_policy=EVERY_DAY))
    (item,) = listed(api, tenant)
    assert "time_zone" not in item
    assert list(item) == [
        "backup_policy_id",
        "backup_policy_name",
        "scheduled_policy",
        "tags",
        "policy_resource_count",
    ]


def test_each_listed_policy_is_what_its_create_body_reads_back(api, tenant):
    for index, zone in enumerate(["UTC+08:00", None, "UTC-03:30"]):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{index}", time_zone=zone))
    for item in listed(api, tenant):
        spec = BackupPolicy.objects.get(pk=item["backup_policy_id"]).to_spec()
        payload = spec.to_payload()
        assert item["scheduled_policy"] == payload["scheduled_policy"] == spec.scheduled_policy()
        assert item.get("time_zone") == payload.get("time_zone")
        assert item["tags"] == payload.get("tags", [])


def test_policies_are_listed_in_creation_order_not_by_name_or_id(api, tenant):
    start = timezone.now()
    names = ["zeta", "alpha", "Mid", "beta"]
    for index, name in enumerate(names):
        policy = make_policy(tenant, payload=valid_payload(backup_policy_name=name))
        # Minutes apart: creates within one clock tick would tie, and ties fall back to the id.
        moment = start - timedelta(minutes=len(names) - index)
        BackupPolicy.objects.filter(pk=policy.pk).update(created_at=moment)
    assert [item["backup_policy_name"] for item in listed(api, tenant)] == names


def test_a_modify_does_not_move_a_policy_in_the_list(api, tenant):
    first = make_policy(tenant, payload=valid_payload(backup_policy_name="first"))
    make_policy(tenant, payload=valid_payload(backup_policy_name="second"))
    send(api, "PUT", f"{create_url(tenant)}/{first.pk}", {"backup_policy_name": "renamed"})
    assert [item["backup_policy_name"] for item in listed(api, tenant)] == ["renamed", "second"]


def test_only_the_projects_own_policies_are_listed(api, tenant, other_tenant):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    make_policy(tenant, payload=valid_payload(backup_policy_name="mine"))
    assert [item["backup_policy_name"] for item in listed(api, tenant)] == ["mine"]


def test_another_projects_list_is_403_0213(api, other_tenant):
    error_of(send(api, "GET", create_url(other_tenant)), 403, "AutoBackup.0213")


def test_a_body_on_the_list_request_is_ignored(api, tenant):
    response = send(api, "GET", create_url(tenant), raw=b"{broken", content_type="text/plain")
    assert response.status_code == HTTPStatus.OK


def make(tenant, count: int) -> None:
    for index in range(count):
        tags = [{"key": f"k{i}", "value": "v"} for i in range(index % 4)]
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{index}", tags=tags))


@pytest.mark.parametrize("count", [1, 10])
def test_the_list_takes_the_same_number_of_queries_for_1_and_for_10_policies(
    api, tenant, count, django_assert_num_queries
):
    make(tenant, count)
    listed(api, tenant)  # records the token's use, a write made once a minute at most
    # The token with the project, then the policies joined to their tags: whatever their number.
    with django_assert_num_queries(2):
        assert len(listed(api, tenant)) == count
