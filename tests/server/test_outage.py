"""Outages answered as outages: 503 with Retry-After when the database cannot be reached or written.

Each entrance is tried with Django's database error classes raised where the database would raise
them, and once for real: a database that refuses writes (SQLite's ``query_only``, PostgreSQL's
``default_transaction_read_only``), as a read-only file, a full disk or a standby would.
"""

from contextlib import contextmanager
from http import HTTPStatus

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.test import Client

from config import outage, views
from policies import selectors, services
from policies.models import BackupPolicy, HealthCheck
from tests.helpers.api import assert_envelope, create_url
from tests.helpers.dashboard import form_data
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_client(user):
    """A signed-in browser whose server errors come back as answers, as a real one sees them."""
    browser = Client(raise_request_exception=False)
    browser.force_login(user)
    return browser


def fail_with(monkeypatch, target, name, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(target, name, broken)


@pytest.mark.parametrize(
    "error",
    [OperationalError("connection refused"), InterfaceError("connection already closed")],
    ids=["operational", "interface"],
)
def test_an_api_write_the_database_cannot_take_is_503_with_retry_after(api, tenant, monkeypatch, error):
    fail_with(monkeypatch, services, "policy_create", error)
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    error_body = assert_envelope(response.status_code, response.json(), "AutoBackup.0010")
    assert "connection" not in error_body["message"]  # no internals


def test_an_api_read_the_database_cannot_answer_is_503(api, tenant, monkeypatch):
    fail_with(
        monkeypatch, selectors, "policy_values_for_tenant", OperationalError("server closed the connection")
    )
    response = api.request("GET", create_url(tenant))
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert_envelope(response.status_code, response.json(), "AutoBackup.0010")


def test_a_database_error_that_is_not_an_outage_is_still_a_500(api, tenant, monkeypatch):
    fail_with(monkeypatch, services, "policy_create", IntegrityError("a bug of ours"))
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "Retry-After" not in response
    assert_envelope(response.status_code, response.json(), "AutoBackup.0009")


def test_an_outage_before_the_api_view_is_the_envelope_too(tenant, token, monkeypatch):
    # The token is looked up in DRF's authentication: still inside the view, but before the body.
    fail_with(monkeypatch, selectors, "token_for_raw", OperationalError("no route to host"))
    response = Client().get(create_url(tenant), HTTP_X_AUTH_TOKEN=token)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert_envelope(response.status_code, response.json(), "AutoBackup.0010")


def test_a_dashboard_page_the_database_cannot_serve_is_a_503_page(page_client, tenant, monkeypatch):
    fail_with(monkeypatch, selectors, "policy_list_for_tenant", OperationalError("connection refused"))
    response = page_client.get(f"/p/{tenant.project_id}/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content
    assert b"connection refused" not in response.content


def test_a_dashboard_page_that_fails_otherwise_is_still_a_500(page_client, tenant, monkeypatch):
    fail_with(monkeypatch, selectors, "policy_list_for_tenant", RuntimeError("a bug of ours"))
    response = page_client.get(f"/p/{tenant.project_id}/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "Retry-After" not in response


def test_a_read_only_postgresql_transaction_counts_as_an_outage():
    class ReadOnlySqlTransaction(Exception):
        sqlstate = "25006"

    error = DatabaseError("cannot execute INSERT in a read-only transaction")
    error.__cause__ = ReadOnlySqlTransaction()
    assert outage.is_outage(error)
    error.__cause__ = type("UniqueViolation", (Exception,), {"sqlstate": "23505"})()
    assert not outage.is_outage(error)


# --- For real: a database that refuses every write --------------------------------------------


@contextmanager
def read_only_database():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA query_only = OFF")
            else:
                cursor.execute("SET default_transaction_read_only = off")


@pytest.mark.django_db(transaction=True)
def test_a_create_on_a_read_only_database_is_503_and_writes_nothing(api, tenant):
    with read_only_database():
        response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE, response.content
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert_envelope(response.status_code, response.json(), "AutoBackup.0010")
    assert BackupPolicy.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_create_on_a_read_only_database_is_a_503_page(page_client, tenant):
    with read_only_database():
        response = page_client.post(f"/p/{tenant.project_id}/new", form_data())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Temporarily unavailable" in response.content
    assert BackupPolicy.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_health_check_says_the_write_failed_on_a_read_only_database(client):
    with read_only_database():
        response = client.get("/healthz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert response.json() == {
        "status": "unavailable",
        "failed": "database_write",
        "database": "ok",
        "database_write": "unavailable",
    }


def test_the_health_check_writes_one_row_and_the_database_does_not_grow(client):
    for _ in range(3):
        response = client.get("/healthz")
        assert response.status_code == HTTPStatus.OK
        # No scheduler ticks here: stale, and still 200.
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "database_write": "ok",
            "scheduler": "stale",
        }
    assert HealthCheck.objects.count() == 1
    assert HealthCheck.objects.get().checked_at is not None


def test_the_health_check_says_the_read_failed_when_the_database_is_unreachable(client, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["failed"] == "database"
    assert response.json()["database_write"] == "not checked"
