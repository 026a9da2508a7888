"""One log line per request, with its final status, its duration and a request id."""

import logging
import re
from http import HTTPStatus

import pytest
from django.test import Client

from config.middleware import RequestIdFilter
from policies.api import views as api_views
from policies.domain.contract import codes
from tests.helpers.api import create_url
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db

LINE = re.compile(r"\A(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms\Z")


@pytest.fixture
def request_log(caplog):
    """Return a function that gives the request lines logged so far, parsed."""
    caplog.set_level(logging.INFO, logger="bpc.requests")

    def lines() -> list[dict]:
        parsed = []
        for record in caplog.records:
            if record.name == "bpc.requests":
                match = LINE.match(record.getMessage())
                assert match, record.getMessage()
                parsed.append({**match.groupdict(), "request_id": record.request_id})
        return parsed

    return lines


def test_each_request_is_logged_once_with_method_path_status_duration_and_id(client, request_log):
    response = client.get("/healthz")
    [line] = request_log()
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == "200"
    assert float(line["ms"]) >= 0
    assert line["request_id"] == response["X-Request-ID"]


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "request_id", ["abc-123", "6f1c0d2e-8b7a-4c1e-9f00-123456789abc", "Root=1-5759e988-bd862e3f", "a" * 128]
)
def test_a_sane_id_from_the_client_is_kept_and_echoed(client, request_log, request_id):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=request_id)
    assert response["X-Request-ID"] == request_id
    assert request_log()[0]["request_id"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["", "a" * 129, "two words", "line\nbreak", 'quote"d', "<script>", "semi;colon", "é"],
    ids=["empty", "too-long", "space", "newline", "quote", "angle", "semicolon", "non-ascii"],
)
def test_an_id_that_is_not_sane_is_replaced(client, request_log, request_id):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=request_id)
    assert response["X-Request-ID"] != request_id
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert request_log()[0]["request_id"] == response["X-Request-ID"]


def test_a_line_break_in_the_path_cannot_forge_a_log_line(client, request_log):
    client.get("/p/x%0A2026-01-01%20INFO%20forged/")
    [line] = request_log()
    assert line["path"] == "/p/x%0A2026-01-01%20INFO%20forged/"


def test_an_api_error_is_logged_with_the_status_of_its_envelope(client, request_log):
    response = client.get("/v2/nowhere")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert request_log()[0]["status"] == "404"


def test_an_unhandled_error_in_the_api_is_logged_as_the_500_that_was_sent(
    api, tenant, monkeypatch, request_log
):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_views.parse, "parse_policy", explode)
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json()["error"]["code"] == codes.SERVER_ERROR
    [line] = request_log()
    assert line["status"] == "500"
    assert line["request_id"] == response["X-Request-ID"]


def test_an_unhandled_error_in_a_page_is_logged_as_500(user, monkeypatch, request_log):
    from policies.dashboard.views import policies as views

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.selectors, "tenants_for_user", explode)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert request_log()[-1]["status"] == "500"
    assert response["X-Request-ID"] == request_log()[-1]["request_id"]


def test_other_log_lines_of_a_request_carry_its_id(api, tenant, caplog):
    caplog.set_level(logging.INFO, logger="policies")
    caplog.handler.addFilter(RequestIdFilter())
    response = api.post(create_url(tenant), valid_payload(), HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == HTTPStatus.OK
    created = [record for record in caplog.records if record.name == "policies.services"]
    assert created
    assert {record.request_id for record in created} == {"trace-42"}


def test_log_lines_outside_a_request_say_so():
    record = logging.LogRecord("policies", logging.INFO, __file__, 1, "outside", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"
