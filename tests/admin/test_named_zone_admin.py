"""The admin's policy form takes a named zone with the same rules as the API."""

from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from policies.domain.contract import codes
from policies.models import AuditEvent, BackupPolicy
from tests.helpers.admin import add_data, admin_url, errors_at

pytestmark = pytest.mark.django_db

ADD = admin_url("backuppolicy", "add")
WINTER = datetime(2026, 1, 10, 12, tzinfo=UTC)  # before the real clock: the session stays valid


@pytest.fixture
def in_winter(monkeypatch):
    """Freeze the clock at WINTER once the page is read: the session was made with the real one."""
    return lambda: monkeypatch.setattr("django.utils.timezone.now", lambda: WINTER)


def test_a_named_zone_without_an_offset_stores_the_zone_s_offset_now(admin_client, tenant, in_winter):
    data = add_data(admin_client, tenant, start_time="01:00", time_zone="", time_zone_name="Europe/Berlin")
    in_winter()
    assert admin_client.post(ADD, data).status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert (policy.time_zone, policy.time_zone_name) == ("UTC+01:00", "Europe/Berlin")
    event = AuditEvent.objects.get(policy_id=policy.pk)
    assert event.changes["time_zone_name"] == {"before": None, "after": "Europe/Berlin"}


def test_a_named_zone_that_disagrees_with_the_offset_is_refused_at_the_zone(admin_client, tenant, in_winter):
    data = add_data(admin_client, tenant, time_zone="UTC+02:00", time_zone_name="Europe/Berlin")
    in_winter()
    response = admin_client.post(ADD, data)
    assert errors_at(response, "time_zone_name")
    assert [p.code for p in response.context["adminform"].form.result.problems] == [codes.TIME_ZONE]
    assert not BackupPolicy.objects.exists()
