"""``GET /healthz``: the database checked, no sign-in, never cached, never redirected."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import OperationalError
from django.utils import timezone

from config import views
from policies.runs import heartbeat

pytestmark = pytest.mark.django_db

URL = "/healthz"


class UnreachableDatabase:
    vendor = "postgresql"

    def cursor(self):
        raise OperationalError("connection refused")


def test_a_healthy_instance_answers_200_ok_in_json_without_signing_in(client):
    heartbeat.record_tick(timezone.now())
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "database_write": "ok", "scheduler": "ok"}


@pytest.mark.parametrize(
    ("ticked_ago", "scheduler"),
    [(timedelta(seconds=40), "ok"), (timedelta(seconds=50), "stale"), (None, "stale")],
)
def test_the_scheduler_is_stale_without_a_tick_in_three_ticks_and_still_200(
    client, settings, ticked_ago, scheduler
):
    settings.SCHEDULER_TICK_SECONDS = 15
    if ticked_ago is not None:
        heartbeat.record_tick(timezone.now() - ticked_ago)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert (response.json()["status"], response.json()["scheduler"]) == ("ok", scheduler)


def test_an_unreachable_database_is_503_without_the_cause(client, monkeypatch, caplog):
    monkeypatch.setattr(views, "connection", UnreachableDatabase())
    response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "unavailable",
        "failed": "database",
        "database": "unavailable",
        "database_write": "not checked",
    }
    assert "connection refused" not in response.content.decode()
    assert "connection refused" in caplog.text  # the operator still learns why


@pytest.mark.parametrize("status", [HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE])
def test_the_answer_is_never_cached(client, monkeypatch, status):
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        monkeypatch.setattr(views, "connection", UnreachableDatabase())
    response = client.get(URL)
    assert response.status_code == status
    assert "no-store" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_head_is_answered_with_the_status_alone(client, rf, monkeypatch):
    # Called directly: Django's test client would drop a HEAD body by itself, gunicorn does not.
    response = views.healthz(rf.head(URL))
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    monkeypatch.setattr(views, "connection", UnreachableDatabase())
    assert client.head(URL).status_code == HTTPStatus.SERVICE_UNAVAILABLE


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_405(client, method):
    assert getattr(client, method)(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_health_check_is_not_redirected_to_https_while_pages_are(client, settings):
    # A load balancer probes over plain HTTP; a redirect would read as "down".
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(URL).status_code == HTTPStatus.OK
    assert client.get("/accounts/login/").status_code == HTTPStatus.MOVED_PERMANENTLY


def test_the_health_check_is_not_part_of_the_api(client):
    response = client.get("/v2/healthz")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "AutoBackup.0004"
