"""Our extension: a named time zone (time_zone_name) through create, modify, list and next runs."""

import json
from datetime import UTC, datetime
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest

from policies.domain.contract import codes
from policies.models import BackupPolicy
from tests.helpers.api import assert_envelope as envelope
from tests.helpers.api import create_url

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WINTER = datetime(2027, 1, 10, 12, tzinfo=UTC)
SUMMER = datetime(2027, 7, 10, 12, tzinfo=UTC)
MONDAY_TWO_IN_WINTER = {
    "backup_policy_name": "berlin",
    "scheduled_policy": {
        "start_time": "01:00",
        "week_frequency": ["MON"],
        "rentention_num": 7,
        "status": "ON",
    },
    "time_zone_name": "Europe/Berlin",
}


@pytest.fixture
def clock(monkeypatch):
    """Set the time of the request (the views and services read django.utils.timezone.now)."""

    def set_to(moment):
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    set_to(WINTER)
    return set_to


def create(api, tenant, body) -> BackupPolicy:
    response = api.post(create_url(tenant), body)
    assert response.status_code == HTTPStatus.OK, response.content
    return BackupPolicy.objects.get(pk=json.loads(response.content)["backup_policy_id"])


def listed(api, tenant) -> list[dict]:
    return json.loads(api.request("GET", create_url(tenant)).content)["backup_policies"]


def put(api, url, body):
    return api.client.generic(
        "PUT", url, json.dumps(body), content_type="application/json", **api._headers({})
    )


def assert_envelope(response, status, code) -> dict:
    assert response.status_code == status, response.content
    return envelope(status, json.loads(response.content), code)


def test_a_named_zone_without_time_zone_stores_the_zone_s_offset_in_winter(api, tenant, clock):
    policy = create(api, tenant, MONDAY_TWO_IN_WINTER)
    assert (policy.time_zone, policy.time_zone_name, policy.start_time) == (
        "UTC+01:00",
        "Europe/Berlin",
        "01:00",
    )
    (item,) = listed(api, tenant)
    assert (item["time_zone"], item["time_zone_name"]) == ("UTC+01:00", "Europe/Berlin")


def test_a_named_zone_written_in_summer_stores_utc_plus_2(api, tenant, clock):
    clock(SUMMER)
    policy = create(
        api,
        tenant,
        {
            **MONDAY_TWO_IN_WINTER,
            "scheduled_policy": {**MONDAY_TWO_IN_WINTER["scheduled_policy"], "start_time": "00:00"},
        },
    )
    assert policy.time_zone == "UTC+02:00"


def test_both_sent_and_agreeing_are_accepted(api, tenant, clock):
    policy = create(api, tenant, {**MONDAY_TWO_IN_WINTER, "time_zone": "UTC+01:00"})
    assert policy.time_zone_name == "Europe/Berlin"


def test_both_sent_and_disagreeing_are_refused_naming_both(api, tenant, clock):
    response = api.post(create_url(tenant), {**MONDAY_TWO_IN_WINTER, "time_zone": "UTC+02:00"})
    error = assert_envelope(response, HTTPStatus.BAD_REQUEST, codes.TIME_ZONE)
    assert "'UTC+02:00'" in error["message"]
    assert "'Europe/Berlin'" in error["message"]
    assert "UTC+01:00" in error["message"]


@pytest.mark.parametrize("name", ["Europe/Berlln", "Mars/Olympus", "", 7])
def test_an_unknown_zone_is_refused(api, tenant, clock, name):
    response = api.post(create_url(tenant), {**MONDAY_TWO_IN_WINTER, "time_zone_name": name})
    assert_envelope(response, HTTPStatus.BAD_REQUEST, codes.TIME_ZONE)
    assert not BackupPolicy.objects.exists()


def test_a_misspelled_zone_is_answered_with_the_closest_name(api, tenant, clock):
    response = api.post(create_url(tenant), {**MONDAY_TWO_IN_WINTER, "time_zone_name": "Europe/Berlln"})
    assert "did you mean 'Europe/Berlin'?" in json.loads(response.content)["error"]["message"]


def test_every_n_days_that_would_day_shift_at_the_zone_s_summer_offset_is_refused(api, tenant, clock):
    # London: local 00:00 and 12:00 are 00:00 and 12:00 UTC in winter, but 23:00 (the day before)
    # and 11:00 in summer: one local day on two UTC days.
    body = {
        **MONDAY_TWO_IN_WINTER,
        "scheduled_policy": {
            "start_time": "00:00,12:00",
            "frequency": 1,
            "rentention_num": 7,
            "status": "ON",
        },
        "time_zone_name": "Europe/London",
    }
    error = assert_envelope(api.post(create_url(tenant), body), HTTPStatus.BAD_REQUEST, codes.TIME_ZONE)
    assert "UTC+01:00" in error["message"]
    body["scheduled_policy"] = {**body["scheduled_policy"], "start_time": "12:00"}
    assert api.post(create_url(tenant), body).status_code == HTTPStatus.OK


def test_a_policy_without_a_name_lists_no_time_zone_name(api, tenant, clock):
    create(api, tenant, {**MONDAY_TWO_IN_WINTER, "time_zone_name": None, "time_zone": "UTC+01:00"})
    (item,) = listed(api, tenant)
    assert "time_zone_name" not in item


def test_modify_with_time_zone_alone_removes_the_name(api, tenant, clock):
    policy = create(api, tenant, MONDAY_TWO_IN_WINTER)
    response = put(api, f"{create_url(tenant)}/{policy.pk}", {"time_zone": "UTC+01:00"})
    assert response.status_code == HTTPStatus.OK, response.content
    policy.refresh_from_db()
    assert (policy.time_zone, policy.time_zone_name) == ("UTC+01:00", "")
    assert "time_zone_name" not in listed(api, tenant)[0]


def test_modify_with_a_name_alone_takes_its_offset_at_the_time_of_the_request(api, tenant, clock):
    policy = create(api, tenant, {**MONDAY_TWO_IN_WINTER, "time_zone_name": None, "time_zone": "UTC+08:00"})
    response = put(api, f"{create_url(tenant)}/{policy.pk}", {"time_zone_name": "Europe/Berlin"})
    assert response.status_code == HTTPStatus.OK, response.content
    policy.refresh_from_db()
    assert (policy.time_zone, policy.time_zone_name) == ("UTC+01:00", "Europe/Berlin")


def test_modify_of_another_field_keeps_the_name_even_once_rebased_ahead_of_the_change(api, tenant, clock):
    policy = create(api, tenant, MONDAY_TWO_IN_WINTER)
    # Re-based to UTC+02:00 after the last winter run, while Berlin is still at UTC+01:00.
    BackupPolicy.objects.filter(pk=policy.pk).update(time_zone="UTC+02:00", start_time="00:00")
    clock(datetime(2027, 3, 24, 12, tzinfo=UTC))
    response = put(api, f"{create_url(tenant)}/{policy.pk}", {"scheduled_policy": {"status": "OFF"}})
    assert response.status_code == HTTPStatus.OK, response.content
    policy.refresh_from_db()
    assert (policy.time_zone, policy.time_zone_name, policy.status) == ("UTC+02:00", "Europe/Berlin", "OFF")


def test_next_runs_of_a_monday_two_berlin_policy_stay_at_two_through_the_spring_change(api, tenant, clock):
    policy = create(api, tenant, MONDAY_TWO_IN_WINTER)
    response = api.request(
        "GET", f"{create_url(tenant)}/{policy.pk}/nextruns?from=2027-03-20T00:00:00Z&count=20"
    )
    assert response.status_code == HTTPStatus.OK, response.content
    runs = json.loads(response.content)["runs"]
    assert len(runs) == 20
    berlin = [datetime.fromisoformat(run["utc"].replace("Z", "+00:00")).astimezone(BERLIN) for run in runs]
    assert {(moment.weekday(), moment.hour, moment.minute) for moment in berlin} == {(0, 2, 0)}
    assert [moment.date().isoformat() for moment in berlin[:2]] == ["2027-03-22", "2027-03-29"]
    assert [run["utc"][11:16] for run in runs[:2]] == ["01:00", "00:00"]
    # Each run is also told at the offset stored by then: the re-base comes between them.
    assert [run["local"][-6:] for run in runs[:2]] == ["+01:00", "+02:00"]


def test_the_retention_forecast_makes_the_backups_at_two_berlin_time_through_the_change(api, tenant, clock):
    policy = create(api, tenant, MONDAY_TWO_IN_WINTER)
    response = api.request("GET", f"{create_url(tenant)}/{policy.pk}/retention?start=2027-03-15&weeks=3")
    assert response.status_code == HTTPStatus.OK, response.content
    backups = json.loads(response.content)["backups"]
    assert [backup["created_at"] for backup in backups] == [
        "2027-03-15T01:00:00Z",
        "2027-03-22T01:00:00Z",
        "2027-03-29T00:00:00Z",
    ]
    assert [backup["created_local"] for backup in backups] == [
        "2027-03-15T02:00:00+01:00",
        "2027-03-22T02:00:00+01:00",
        "2027-03-29T02:00:00+02:00",
    ]
