"""Requests a probe sent to break the API: each is refused in the envelope, never a 500."""

import json
import logging
from http import HTTPStatus

import pytest

from policies import selectors
from tests.helpers.api import assert_envelope, create_url, error_of, policy_url, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import fill

pytestmark = pytest.mark.django_db


def surrogate_body(**extra) -> str:
    # json.dumps would write "\ud800" as the six characters \ud800: exactly what a client sends.
    body = {"\ud800": 1, **valid_payload(), **extra}
    del body["tags"]  # a modify body may not carry tags: that would be the first problem
    text = json.dumps(body)
    assert "\\ud800" in text
    return text


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", lambda tenant, policy: create_url(tenant)),
        ("PUT", lambda tenant, policy: policy_url(tenant, policy)),
        ("POST", lambda tenant, policy: create_url(tenant) + "/nextruns"),
        ("POST", lambda tenant, policy: create_url(tenant) + "/retention"),
    ],
    ids=["create", "modify", "nextruns", "retention"],
)
def test_a_lone_surrogate_in_an_unknown_field_name_is_a_400_with_the_name_escaped(api, tenant, method, route):
    (policy,) = fill(tenant, 1)
    response = send(api, method, route(tenant, policy), raw=surrogate_body())
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content[:300]
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0001")
    assert error["message"].startswith("unknown field '\\ud800'")
    assert error["details"][0]["field"] == "\\ud800"
    response.content.decode("utf-8")  # the answer is valid UTF-8 all through


def test_a_lone_surrogate_in_a_tag_field_name_is_a_400_too(api, tenant):
    (policy,) = fill(tenant, 1)
    body = '{"tag": {"key": "env", "value": "x", "\\udfff": 1}}'
    response = send(api, "POST", policy_url(tenant, policy) + "/tags", raw=body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0214")
    assert error["details"][0]["field"] == "tag.\\udfff"


def test_an_ordinary_unknown_field_is_still_named_as_sent(api, tenant):
    response = api.post(create_url(tenant), {**valid_payload(), "colour": "blue"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["details"][0]["field"] == "colour"


def test_a_very_long_unknown_field_name_is_cut_in_the_answer(api, tenant):
    response = api.post(create_url(tenant), {**valid_payload(), "x" * 5000: 1})
    error = assert_envelope(response.status_code, response.json(), "AutoBackup.0001")
    assert len(error["message"]) < 200
    assert error["details"][0]["field"].endswith("…")


@pytest.mark.parametrize("suffix", ["/backuppolicy", "/backuppolicy/tags"])
def test_a_nul_byte_in_the_project_id_is_the_403_of_any_other_project(api, tenant, suffix):
    response = api.request("GET", f"/v2/{tenant.project_id}%00{suffix}")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert_envelope(response.status_code, response.json(), "AutoBackup.0213")


def test_a_nul_byte_in_the_project_id_of_a_create_is_403(api, tenant):
    response = api.post(f"/v2/{tenant.project_id}%00/backuppolicy", valid_payload())
    assert_envelope(response.status_code, response.json(), "AutoBackup.0213")


def test_a_very_long_project_id_is_not_echoed_in_full(api, tenant):
    error = error_of(api.post(create_url("p" * 5000), valid_payload()), 403, "AutoBackup.0213")
    assert len(error["message"]) < 200


def test_the_log_line_of_an_unexpected_error_escapes_the_path(api, tenant, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "tenant_for_api_token", broken)
    with caplog.at_level(logging.ERROR, logger="policies.api"):
        response = api.request("GET", "/v2/x%0d%0a2026-01-01%20INFO%20forged/backuppolicy")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    (record,) = [r for r in caplog.records if r.name == "policies.api"]
    line = record.getMessage()
    assert "\n" not in line
    assert "\r" not in line
    assert "x%0D%0A2026-01-01%20INFO%20forged" in line


def test_the_log_line_of_an_unexpected_error_keeps_a_plain_path_readable(api, tenant, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "tenant_for_api_token", broken)
    with caplog.at_level(logging.ERROR, logger="policies.api"):
        api.request("GET", f"/v2/{tenant.project_id}/backuppolicy")
    assert f"unhandled error in /v2/{tenant.project_id}/backuppolicy" in caplog.text


@pytest.mark.parametrize(
    "route",
    [
        lambda tenant, policy: f"/v2/{tenant.project_id}/backuppolicyresources",
        lambda tenant, policy: f"/v2/{tenant.project_id}/backuppolicyresources/{policy.pk}/deleted_resources",
        lambda tenant, policy: policy_url(tenant, policy) + "/action",
    ],
    ids=["associate", "disassociate", "execute"],
)
def test_a_lone_surrogate_in_a_volume_route_body_is_a_400_with_the_name_escaped(api, tenant, route):
    (policy,) = fill(tenant, 1)
    response = send(api, "POST", route(tenant, policy), raw='{"\\ud800": 1}')
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content[:300]
    error = response.json()["error"]
    assert any(detail["field"] == "\\ud800" for detail in error["details"]), error
    response.content.decode("utf-8")  # the answer is valid UTF-8 all through


@pytest.mark.parametrize(
    ("route", "item"),
    [
        (
            lambda tenant, policy: f"/v2/{tenant.project_id}/backuppolicyresources",
            '{"resource_id": "\\ud800", "resource_type": "volume"}',
        ),
        (
            lambda tenant, policy: (
                f"/v2/{tenant.project_id}/backuppolicyresources/{policy.pk}/deleted_resources"
            ),
            '{"resource_id": "\\udfff-x"}',
        ),
        (
            lambda tenant, policy: f"/v2/{tenant.project_id}/backuppolicyresources",
            '{"resource_id": "00000000-0000-4000-8000-000000000001", "resource_type": "\\ud800"}',
        ),
    ],
    ids=["associate", "disassociate", "associate type"],
)
def test_a_lone_surrogate_in_a_resource_value_is_the_contracts_400(api, tenant, route, item):
    (policy,) = fill(tenant, 1)
    body = f'{{"backup_policy_id": "{policy.pk}", "resources": [{item}]}}'
    if "deleted_resources" in route(tenant, policy):
        body = f'{{"resources": [{item}]}}'

    response = send(api, "POST", route(tenant, policy), raw=body)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content[:300]
    error = response.json()["error"]
    assert error["code"] in {"AutoBackup.0209", "AutoBackup.0211"}
    assert "\\ud800" in error["message"] or "\\udfff" in error["message"]
    response.content.decode("utf-8")  # the answer is valid UTF-8 all through
