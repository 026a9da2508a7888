"""Answers a new user's review found wanting: each test pins the fixed behaviour."""

import json

import pytest

from tests.helpers.api import create_url, error_of
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db


def test_a_key_given_twice_in_one_object_is_refused_not_silently_dropped(api, tenant):
    raw = '{"backup_policy_name": "a", "backup_policy_name": "b"}'
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0008")
    assert "'backup_policy_name' twice" in error["message"]


def test_an_integer_too_long_for_python_is_out_of_range_not_invalid_json(api, tenant):
    body = valid_payload(scheduled_policy={"start_time": "01:00", "status": "ON", "rentention_num": 7})
    raw = json.dumps(body).replace('"status"', '"frequency": 1' + "0" * 5000 + ', "status"')
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0106")
    assert "out of range" in error["message"]
    assert "sys." not in error["message"]


def test_an_exponent_beyond_float_range_for_rentention_day_is_out_of_range(api, tenant):
    body = valid_payload(scheduled_policy={"start_time": "01:00", "status": "ON", "frequency": 1})
    raw = json.dumps(body).replace('"frequency"', '"rentention_day": 1e400, "frequency"')
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0107")
    assert "out of range" in error["message"]


def test_a_string_rentention_day_is_told_it_takes_a_number_of_days(api, tenant):
    body = valid_payload(
        scheduled_policy={"start_time": "01:00", "status": "ON", "frequency": 1, "rentention_day": "30"}
    )
    error = error_of(api.post(create_url(tenant), body), 400, "AutoBackup.0107")
    assert "must be a number of days from 2 to 99999, not a string" in error["message"]


def test_a_capitalised_tag_field_gets_a_suggestion(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(tags=[{"Key": "a", "value": ""}])), 400, "AutoBackup.0214"
    )
    assert "did you mean 'key'?" in error["message"]


def test_name_characters_are_named_so_a_person_can_find_them(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(backup_policy_name="has space!\u212a")),
        400,
        "AutoBackup.0102",
    )
    assert "a space" in error["message"]
    assert "U+212A" in error["message"]
    assert "ASCII letters" in error["message"]


def test_an_offset_with_wrong_minutes_says_the_rule_once(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(time_zone="UTC+05:15")), 400, "AutoBackup.0226"
    )
    assert error["message"].count("00, 30 or 45") == 1


def test_the_409_names_the_stored_policy(api, tenant):
    assert api.post(create_url(tenant), valid_payload(backup_policy_name="policy_01")).status_code == 200
    error = error_of(
        api.post(create_url(tenant), valid_payload(backup_policy_name="POLICY_01")), 409, "AutoBackup.0230"
    )
    assert "'policy_01', which 'POLICY_01' matches" in error["message"]


@pytest.mark.parametrize(
    "accept", ["text/html;q=1, application/json;q=0", "*/*;q=0", "application/*;q=0, text/html", "text/html"]
)
def test_an_accept_that_excludes_json_is_406_even_when_it_names_json_with_q0(api, tenant, accept):
    error_of(api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept), 406, "AutoBackup.0015")


@pytest.mark.parametrize(
    "accept", ["text/html, application/json;q=0.5", "application/*", "*/*", "application/json"]
)
def test_an_accept_that_admits_json_is_served(api, tenant, accept):
    assert api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept).status_code == 200


def test_options_is_not_a_method_of_the_api(api, tenant):
    response = api.request("OPTIONS", create_url(tenant))
    error_of(response, 405, "AutoBackup.0005")
    assert response["Allow"] == "GET, POST"


def test_a_host_the_server_does_not_serve_is_a_400_envelope_with_its_own_code(api, tenant, settings):
    settings.ALLOWED_HOSTS = ["console.example.com"]
    error = error_of(
        api.post(create_url(tenant), valid_payload(), HTTP_HOST="evil.example"), 400, "AutoBackup.0012"
    )
    assert "Host" in error["message"]


def test_a_very_long_project_id_is_not_echoed_in_full(api, tenant):
    error = error_of(api.post(create_url("p" * 5000), valid_payload()), 403, "AutoBackup.0213")
    assert len(error["message"]) < 200


def test_a_body_without_content_type_is_told_to_send_json(api, tenant):
    error = error_of(api.post(create_url(tenant), raw="{}", content_type=""), 415, "AutoBackup.0007")
    assert error["message"].startswith("the body must be JSON")
