"""Modify and delete a policy: ``PUT`` / ``DELETE /v2/{project_id}/backuppolicy/{policy_id}``."""

import uuid
from http import HTTPStatus

import pytest

from policies.models import AuditEvent, BackupPolicy, PolicyTag
from tests.helpers.api import assert_policy_id, error_of, policy_url, send
from tests.helpers.factories import MembershipFactory
from tests.helpers.payloads import EVERY_DAY, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# Fixed, so that parallel workers (pytest-xdist) collect the same test IDs.
UNKNOWN_ID = "0b5e9c1e-8f43-4c6b-a1d2-93e6f0c4b7aa"


@pytest.fixture
def policy(tenant):
    """The founding example: weekdays SUN,WED at 12:00 UTC, 30 days, UTC+08:00, one tag."""
    return make_policy(tenant, payload=valid_payload())


@pytest.fixture
def every_day_policy(tenant):
    body = valid_payload(backup_policy_name="daily", scheduled_policy=EVERY_DAY, time_zone=None, tags=[])
    return make_policy(tenant, payload=body)


def modify(api, policy, body=None, **kwargs):
    return send(api, "PUT", policy_url(policy.tenant, policy), body, **kwargs)


def stored(policy) -> dict:
    """The stored policy as a create body (only the member of each pair in use)."""
    return BackupPolicy.objects.get(pk=policy.pk).to_spec().to_payload()


# --- modify: success and the merge rules -------------------------------------------------------


def test_modify_answers_200_with_exactly_the_policy_id(api, policy):
    response = modify(api, policy, {"backup_policy_name": "renamed"})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json"
    assert assert_policy_id(response.json()) == policy.pk
    assert BackupPolicy.objects.get(pk=policy.pk).name == "renamed"


def test_fields_absent_from_the_body_keep_their_stored_values(api, policy):
    before = stored(policy)
    modify(api, policy, {"scheduled_policy": {"start_time": "13:00"}})
    after = stored(policy)
    assert after["scheduled_policy"].pop("start_time") == "13:00"
    before["scheduled_policy"].pop("start_time")
    assert after == before


@pytest.mark.parametrize("status", ["OFF", "ON"])
def test_enable_and_disable_are_a_modify_of_the_status_alone(api, policy, status):
    BackupPolicy.objects.filter(pk=policy.pk).update(status="ON" if status == "OFF" else "OFF")
    before = stored(policy)
    response = modify(api, policy, {"scheduled_policy": {"status": status}})
    assert response.status_code == HTTPStatus.OK, response.content
    before["scheduled_policy"]["status"] = status
    assert stored(policy) == before


def test_sending_frequency_to_a_weekday_policy_switches_it_to_every_n_days(api, policy):
    modify(api, policy, {"scheduled_policy": {"frequency": 2}})
    schedule = stored(policy)["scheduled_policy"]
    assert schedule["frequency"] == 2
    assert "week_frequency" not in schedule


def test_sending_week_frequency_to_an_every_n_days_policy_switches_it_to_weekdays(api, every_day_policy):
    modify(api, every_day_policy, {"scheduled_policy": {"week_frequency": ["MON", "FRI"]}})
    schedule = stored(every_day_policy)["scheduled_policy"]
    assert schedule["week_frequency"] == ["MON", "FRI"]
    assert "frequency" not in schedule


def test_sending_rentention_num_replaces_rentention_day(api, policy):
    modify(api, policy, {"scheduled_policy": {"rentention_num": 5}})
    schedule = stored(policy)["scheduled_policy"]
    assert schedule["rentention_num"] == 5
    assert "rentention_day" not in schedule


def test_sending_rentention_day_replaces_rentention_num(api, every_day_policy):
    modify(api, every_day_policy, {"scheduled_policy": {"rentention_day": 45.7}})
    schedule = stored(every_day_policy)["scheduled_policy"]
    assert schedule["rentention_day"] == 45
    assert "rentention_num" not in schedule


def test_sending_both_members_of_a_pair_keeps_the_winner_as_create_does(api, policy):
    modify(api, policy, {"scheduled_policy": {"frequency": 3, "week_frequency": ["MON"]}})
    schedule = stored(policy)["scheduled_policy"]
    assert (schedule.get("frequency"), "week_frequency" in schedule) == (3, False)


def test_a_change_that_creates_a_day_shift_with_frequency_is_0226(api, every_day_policy):
    body = {"time_zone": "UTC+02:00", "scheduled_policy": {"start_time": "22:00,00:00"}}
    error = error_of(modify(api, every_day_policy, body), 400, "AutoBackup.0226")
    assert "week_frequency" in error["message"]
    assert stored(every_day_policy)["scheduled_policy"]["start_time"] == "12:00"


def test_switching_a_day_shifted_weekday_policy_to_frequency_is_0226(api, tenant):
    # At UTC-03:00, 23:00 and 00:00 UTC are local 20:00 and 21:00 of one day but two UTC days.
    schedule = {**EVERY_DAY, "start_time": "23:00,00:00", "frequency": None, "week_frequency": ["MON"]}
    body = valid_payload(scheduled_policy=schedule, time_zone="UTC-03:00")
    policy = make_policy(tenant, payload=body)
    error_of(modify(api, policy, {"scheduled_policy": {"frequency": 1}}), 400, "AutoBackup.0226")
    assert stored(policy)["scheduled_policy"]["week_frequency"] == ["MON"]


def test_the_same_day_shift_with_week_frequency_is_accepted(api, every_day_policy):
    body = {
        "time_zone": "UTC+02:00",
        "scheduled_policy": {"start_time": "22:00,00:00", "week_frequency": ["MON"]},
    }
    assert modify(api, every_day_policy, body).status_code == HTTPStatus.OK
    assert stored(every_day_policy)["scheduled_policy"]["week_frequency"] == ["MON"]


def test_a_new_time_zone_is_checked_against_the_stored_start_times(api, tenant):
    body = valid_payload(scheduled_policy={**EVERY_DAY, "start_time": "01:00,02:00"}, time_zone=None)
    policy = make_policy(tenant, payload=body)
    # At UTC-01:30, 01:00 and 02:00 UTC are local 23:30 and 00:30: no longer ascending.
    error_of(modify(api, policy, {"time_zone": "UTC-01:30"}), 400, "AutoBackup.0103")


@pytest.mark.parametrize(
    "body",
    [
        {"time_zone": None},
        {"backup_policy_name": None},
        {"scheduled_policy": None},
        {"scheduled_policy": {"start_time": None, "status": None, "frequency": None}},
    ],
    ids=["time-zone", "name", "scheduled-policy", "schedule-fields"],
)
def test_null_keeps_the_stored_value(api, policy, body):
    before = stored(policy)
    assert modify(api, policy, body).status_code == HTTPStatus.OK
    assert stored(policy) == before


def test_time_zone_utc_is_how_a_time_zone_is_set_back_to_utc(api, policy):
    assert modify(api, policy, {"time_zone": "UTC+00:00"}).status_code == HTTPStatus.OK
    assert stored(policy)["time_zone"] == "UTC+00:00"


def test_modify_leaves_the_tags_alone(api, policy):
    modify(api, policy, {"backup_policy_name": "renamed"})
    assert stored(policy)["tags"] == [{"key": "key", "value": "value"}]


def test_a_modify_that_changes_nothing_answers_200_and_records_nothing(api, policy):
    before = AuditEvent.objects.count()
    response = modify(api, policy, {"backup_policy_name": "policy_01"})
    assert response.status_code == HTTPStatus.OK
    assert AuditEvent.objects.count() == before


def test_a_modify_is_recorded_as_an_api_change_with_the_token(api, policy, user):
    modify(api, policy, {"scheduled_policy": {"status": "OFF"}})
    event = AuditEvent.objects.get(action="change")
    assert (event.entrance, event.user, event.policy_id) == ("api", user, policy.pk)
    assert event.token is not None
    assert event.changes == {"scheduled_policy.status": {"before": "ON", "after": "OFF"}}


def test_renaming_only_the_case_of_the_policys_own_name_is_allowed(api, policy):
    assert modify(api, policy, {"backup_policy_name": "POLICY_01"}).status_code == HTTPStatus.OK
    assert BackupPolicy.objects.get(pk=policy.pk).name == "POLICY_01"


# --- modify: refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["other", "OTHER", "Other"])
def test_a_rename_onto_another_policys_name_is_409_0230(api, tenant, policy, name):
    make_policy(tenant, payload=valid_payload(backup_policy_name="other"))
    error_of(modify(api, policy, {"backup_policy_name": name}), 409, "AutoBackup.0230")
    assert BackupPolicy.objects.get(pk=policy.pk).name == "policy_01"


def test_a_rename_onto_a_name_of_another_project_is_allowed(api, other_tenant, policy):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="other"))
    assert modify(api, policy, {"backup_policy_name": "other"}).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "AutoBackup.0000"),
        (b"{}", "AutoBackup.0000"),
        (b"[]", "AutoBackup.0000"),
        (b"null", "AutoBackup.0000"),
        (b"{", "AutoBackup.0008"),
        (b'{"time_zone": NaN}', "AutoBackup.0008"),
    ],
    ids=["empty", "empty-object", "array", "null", "truncated", "nan"],
)
def test_a_body_that_is_empty_or_not_an_object_or_not_json_is_refused(api, policy, raw, code):
    error_of(modify(api, policy, raw=raw), 400, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"tags": [{"key": "a", "value": "b"}]}, "AutoBackup.0001"),
        ({"scheduled_policy": {"retention_num": 3}}, "AutoBackup.0001"),
        ({"scheduled_policy": "daily"}, "AutoBackup.0001"),
        ({"backup_policy_name": ""}, "AutoBackup.0101"),
        ({"backup_policy_name": "default_x"}, "AutoBackup.0102"),
        ({"scheduled_policy": {"start_time": "12:30"}}, "AutoBackup.0103"),
        ({"scheduled_policy": {"status": "on"}}, "AutoBackup.0104"),
        ({"scheduled_policy": {"remain_first_backup_of_curMonth": "yes"}}, "AutoBackup.0105"),
        ({"scheduled_policy": {"frequency": 0}}, "AutoBackup.0106"),
        ({"scheduled_policy": {"week_frequency": []}}, "AutoBackup.0106"),
        ({"scheduled_policy": {"rentention_num": 15}}, "AutoBackup.0107"),
        ({"scheduled_policy": {"rentention_day": 1.5}}, "AutoBackup.0107"),
        ({"time_zone": "UTC+15:00"}, "AutoBackup.0226"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_create_rule_applies_to_the_merged_policy(api, policy, body, code):
    before = stored(policy)
    error_of(modify(api, policy, body), 400, code)
    assert stored(policy) == before


def test_tags_in_a_modify_body_point_to_the_tag_routes(api, policy):
    error = error_of(modify(api, policy, {"tags": []}), 400, "AutoBackup.0001")
    assert "/tags" in error["message"]


# The OpenStack CLI and the OTC SDK repeat the path's ID in every modify body.
def test_a_modify_body_repeating_the_policy_id_of_the_path_is_accepted(api, policy):
    response = modify(
        api, policy, {"backup_policy_id": str(policy.pk), "scheduled_policy": {"status": "OFF"}}
    )
    assert response.status_code == HTTPStatus.OK
    assert assert_policy_id(response.json()) == policy.pk
    assert stored(policy)["scheduled_policy"]["status"] == "OFF"


def test_a_modify_body_naming_another_policy_is_0001_and_changes_nothing(api, tenant, policy):
    other = make_policy(tenant, payload=valid_payload(backup_policy_name="other"))
    before = stored(policy)
    body = {"backup_policy_id": str(other.pk), "scheduled_policy": {"status": "OFF"}}
    error = error_of(modify(api, policy, body), 400, "AutoBackup.0001")
    assert error["details"][0]["field"] == "backup_policy_id"
    assert stored(policy) == before
    assert stored(other)["scheduled_policy"]["status"] == "ON"


def test_a_refused_modify_lists_every_problem(api, policy):
    body = {"backup_policy_name": "", "scheduled_policy": {"status": "on", "frequency": 0}}
    error = error_of(modify(api, policy, body), 400, "AutoBackup.0101")
    assert [d["code"] for d in error["details"]] == ["AutoBackup.0101", "AutoBackup.0104", "AutoBackup.0106"]


def test_a_modify_body_that_is_not_declared_as_json_is_415(api, policy):
    error_of(
        modify(api, policy, {"backup_policy_name": "x"}, content_type="text/plain"), 415, "AutoBackup.0007"
    )


def test_a_modify_body_over_the_size_limit_is_413(api, policy, settings):
    settings.API_MAX_BODY_BYTES = 100
    error_of(modify(api, policy, {"backup_policy_name": "x" * 200}), 413, "AutoBackup.0011")


# --- who may modify ----------------------------------------------------------------------------


def test_another_projects_policy_is_404_0205_through_your_own_project(api, tenant, other_tenant):
    theirs = make_policy(other_tenant, payload=valid_payload())
    url = policy_url(tenant, theirs)
    error_of(send(api, "PUT", url, {"backup_policy_name": "mine"}), 404, "AutoBackup.0205")
    assert BackupPolicy.objects.get(pk=theirs.pk).name == "policy_01"


def test_another_projects_policy_through_their_project_is_403_0213(api, other_tenant):
    theirs = make_policy(other_tenant, payload=valid_payload())
    error_of(modify(api, theirs, {"backup_policy_name": "mine"}), 403, "AutoBackup.0213")


@pytest.mark.parametrize("policy_id", [UNKNOWN_ID, "not-a-uuid", "1", "x" * 300])
def test_an_unknown_or_malformed_policy_id_is_404_0205(api, tenant, policy_id):
    url = policy_url(tenant, policy_id)
    error_of(send(api, "PUT", url, {"backup_policy_name": "x"}), 404, "AutoBackup.0205")


def test_the_policy_is_looked_up_before_the_body_is_read(api, tenant):
    error_of(send(api, "PUT", policy_url(tenant, uuid.uuid4()), raw=b"{"), 404, "AutoBackup.0205")


def test_a_member_of_both_projects_modifies_in_the_policys_own_project(api, user, other_tenant):
    MembershipFactory(user=user, tenant=other_tenant)
    theirs = make_policy(other_tenant, payload=valid_payload())
    assert modify(api, theirs, {"backup_policy_name": "shared"}).status_code == HTTPStatus.OK


# --- delete ------------------------------------------------------------------------------------


def test_delete_answers_204_with_an_empty_body_and_removes_the_policy_and_its_tags(api, policy):
    response = send(api, "DELETE", policy_url(policy.tenant, policy))
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert not response.has_header("Content-Type")
    assert not BackupPolicy.objects.filter(pk=policy.pk).exists()
    assert not PolicyTag.objects.exists()


def test_delete_needs_no_content_type_and_ignores_a_body(api, policy):
    url = policy_url(policy.tenant, policy)
    response = api.client.generic(
        "DELETE", url, "not json", content_type="text/plain", HTTP_X_AUTH_TOKEN=api.token
    )
    assert response.status_code == HTTPStatus.NO_CONTENT


def test_a_delete_is_recorded(api, policy, user):
    send(api, "DELETE", policy_url(policy.tenant, policy))
    event = AuditEvent.objects.get(action="delete")
    assert (event.entrance, event.user, event.policy_name) == ("api", user, "policy_01")


def test_a_deleted_policy_is_404_0205_the_second_time(api, policy):
    url = policy_url(policy.tenant, policy)
    send(api, "DELETE", url)
    error_of(send(api, "DELETE", url), 404, "AutoBackup.0205")


def test_deleting_a_policy_frees_a_place_in_a_full_project(api, tenant):
    from tests.helpers.policies import fill

    policies = fill(tenant, 10)
    send(api, "DELETE", policy_url(tenant, policies[0]))
    assert api.post(f"/v2/{tenant.project_id}/backuppolicy", valid_payload()).status_code == HTTPStatus.OK


def test_another_projects_policy_is_not_deleted(api, tenant, other_tenant):
    theirs = make_policy(other_tenant, payload=valid_payload())
    error_of(send(api, "DELETE", policy_url(tenant, theirs)), 404, "AutoBackup.0205")
    error_of(send(api, "DELETE", policy_url(other_tenant, theirs)), 403, "AutoBackup.0213")
    assert BackupPolicy.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("policy_id", [UNKNOWN_ID, "not-a-uuid"])
def test_deleting_an_unknown_or_malformed_id_is_404_0205(api, tenant, policy_id):
    error_of(send(api, "DELETE", policy_url(tenant, policy_id)), 404, "AutoBackup.0205")
