"""The banner on every dashboard page while no scheduler ticks: a stopped worker is visible."""

from datetime import UTC, datetime, timedelta

import pytest

from policies.runs import heartbeat
from tests.helpers.dashboard import HTMX, url

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 14, 30, tzinfo=UTC)
BANNER = "no worker is running"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.mark.parametrize("page", ["policy_list", "policy_create", "token_list"])
def test_every_page_shows_the_banner_with_the_last_tick_while_the_scheduler_is_stale(member, tenant, page):
    heartbeat.record_tick(NOW - timedelta(minutes=28))
    body = member.get(url(page) if page == "token_list" else url(page, tenant)).content.decode()
    assert "No backups have run since 2026-05-04 14:02 UTC: no worker is running." in body


def test_a_scheduler_that_never_ticked_is_said_too(member, tenant):
    body = member.get(url("policy_list", tenant)).content.decode()
    assert "No backups have run yet: no worker is running." in body


def test_no_banner_while_the_scheduler_ticks(member, tenant):
    heartbeat.record_tick(NOW - timedelta(seconds=20))
    assert BANNER not in member.get(url("policy_list", tenant)).content.decode()


def test_an_htmx_partial_carries_no_banner(member, tenant):
    heartbeat.record_tick(NOW - timedelta(hours=1))
    full = member.get(url("policy_list", tenant))
    partial = member.get(url("policy_list", tenant), **HTMX)
    assert BANNER in full.content.decode()
    assert BANNER not in partial.content.decode()


def test_the_sign_in_page_shows_no_banner(client):
    heartbeat.record_tick(NOW - timedelta(hours=1))
    assert BANNER not in client.get("/accounts/login/").content.decode()
