"""Every answer has a bound: the problems listed in an error, the runs and backups of a forecast."""

import json
from http import HTTPStatus

import pytest

from policies.api.errors import MAX_DETAILS
from policies.domain.retention.simulation import MAX_RETENTION_BACKUPS
from tests.helpers.api import assert_envelope, create_url, policy_url, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import fill

pytestmark = pytest.mark.django_db


def bad_start_times(count: int) -> dict:
    """A create body whose start_time holds ``count`` times that are not full hours: one problem each."""
    payload = valid_payload()
    payload["scheduled_policy"]["start_time"] = ",".join(f"{n % 24:02d}:30" for n in range(count))
    return payload


def test_a_body_with_ten_thousand_problems_lists_twenty_and_says_how_many_more(api, tenant):
    response = api.post(create_url(tenant), bad_start_times(10_000))
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0103")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert len(error["details"]) == MAX_DETAILS + 1
    last = error["details"][-1]
    assert last["message"].startswith(f"and {10_000 - MAX_DETAILS} more problems not listed")
    assert last["code"] == "AutoBackup.0103"
    assert last["field"] == "scheduled_policy.start_time"
    assert len(response.content) < 10_000


def test_twenty_problems_are_all_listed_without_a_more_entry(api, tenant):
    response = api.post(create_url(tenant), bad_start_times(MAX_DETAILS))
    details = response.json()["error"]["details"]
    assert len(details) == MAX_DETAILS
    assert not any(entry["message"].startswith("and ") for entry in details)


def test_twenty_one_problems_list_twenty_and_one_more(api, tenant):
    details = api.post(create_url(tenant), bad_start_times(MAX_DETAILS + 1)).json()["error"]["details"]
    assert len(details) == MAX_DETAILS + 1
    assert details[-1]["message"].startswith("and 1 more problem not listed")


def hourly(**extra) -> dict:
    payload = valid_payload()
    payload["scheduled_policy"] = {
        "start_time": ",".join(f"{hour:02d}:00" for hour in range(24)),
        "frequency": 1,
        "rentention_num": 2,
        "status": "ON",
    }
    payload.pop("time_zone", None)
    return {**payload, **extra}


def test_a_retention_forecast_of_an_hourly_policy_over_52_weeks_is_refused_with_the_weeks_it_may_have(
    api, tenant
):
    response = api.post(create_url(tenant) + "/retention?weeks=52", hourly())
    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0013")
    assert error["details"][0]["field"] == "weeks"
    assert f"lists at most {MAX_RETENTION_BACKUPS}" in error["message"]
    assert "ask for at most 11 weeks" in error["message"]


def test_a_retention_forecast_of_an_hourly_policy_over_11_weeks_is_answered(api, tenant):
    response = api.post(create_url(tenant) + "/retention?weeks=11&start=2026-03-02", hourly())
    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["backups"]) == 11 * 7 * 24
    assert len(response.content) < 1_000_000


def test_a_stored_hourly_policy_is_bounded_the_same_way(api, tenant):
    (policy,) = fill(tenant, 1)
    body = {"scheduled_policy": hourly()["scheduled_policy"], "time_zone": "UTC+00:00"}
    put = send(api, "PUT", policy_url(tenant, policy), body)
    assert put.status_code == HTTPStatus.OK, put.content
    refused = api.request("GET", policy_url(tenant, policy) + "/retention?weeks=12")
    assert_envelope(refused.status_code, refused.json(), "AutoBackup.0013")
    assert api.request("GET", policy_url(tenant, policy) + "/retention?weeks=11").status_code == HTTPStatus.OK


def test_a_daily_policy_may_still_ask_for_52_weeks(api, tenant):
    response = api.post(create_url(tenant) + "/retention?weeks=52", valid_payload())
    assert response.status_code == HTTPStatus.OK, json.dumps(response.json())[:300]


@pytest.mark.parametrize("count", ["0", "101"])
def test_next_runs_are_at_most_100(api, tenant, count):
    response = api.post(create_url(tenant) + f"/nextruns?count={count}", valid_payload())
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0013")
    assert error["details"][0]["field"] == "count"
