"""The re-base of a policy with a named zone: the service, its audit record, the command, and two
schedulers at once (real threads, against the real database)."""

import io
import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from policies import zone_rebase
from policies.models import AuditEvent, BackupPolicy
from tests.helpers.concurrency import in_parallel
from tests.helpers.factories import TenantFactory
from tests.helpers.payloads import founding_schedule, valid_payload
from tests.helpers.policies import make_policy

WINTER = datetime(2027, 1, 10, 12, tzinfo=UTC)
# Mon 22 Mar 2027 01:00 UTC is the last run at UTC+01:00 of a Monday 02:00 Berlin policy; Berlin
# springs forward on Sun 28 Mar 2027 at 01:00 UTC; the next run is Mon 29 Mar, 00:00 UTC.
AFTER_LAST_WINTER_RUN = datetime(2027, 3, 22, 1, 1, tzinfo=UTC)
BEFORE_LAST_WINTER_RUN = datetime(2027, 3, 22, 0, 59, tzinfo=UTC)


def berlin_monday_two(tenant, name="berlin", **schedule):
    payload = valid_payload(
        backup_policy_name=name,
        scheduled_policy=founding_schedule(start_time="01:00", **schedule),
        time_zone_name="Europe/Berlin",
        tags=[],
    )
    payload.pop("time_zone")
    return make_policy(tenant, payload=payload, now=WINTER)


@pytest.mark.django_db
def test_a_berlin_policy_written_in_winter_stores_utc_plus_1():
    policy = berlin_monday_two(TenantFactory())
    assert (policy.time_zone, policy.start_time, policy.time_zone_name) == (
        "UTC+01:00",
        "01:00",
        "Europe/Berlin",
    )


@pytest.mark.django_db
def test_the_rebase_waits_for_the_last_run_at_the_old_offset():
    policy = berlin_monday_two(TenantFactory())
    assert zone_rebase.policies_rebase_zones(now=BEFORE_LAST_WINTER_RUN) == 0
    policy.refresh_from_db()
    assert (policy.time_zone, policy.start_time) == ("UTC+01:00", "01:00")


@pytest.mark.django_db
def test_the_rebase_keeps_the_local_time_and_is_recorded_once_as_the_scheduler():
    policy = berlin_monday_two(TenantFactory())
    created = AuditEvent.objects.get(policy_id=policy.pk, action="create")  # made through the services
    assert zone_rebase.policies_rebase_zones(now=AFTER_LAST_WINTER_RUN) == 1
    policy.refresh_from_db()
    assert (policy.time_zone, policy.start_time, policy.week_frequency) == ("UTC+02:00", "00:00", "MON")
    assert policy.time_zone_name == "Europe/Berlin"
    event = AuditEvent.objects.exclude(pk=created.pk).get(policy_id=policy.pk)
    assert event.entrance == AuditEvent.Entrance.SCHEDULER
    assert event.changes == {
        "scheduled_policy.start_time": {"before": "01:00", "after": "00:00"},
        "time_zone": {"before": "UTC+01:00", "after": "UTC+02:00"},
    }
    # Idempotent: a second tick finds nothing to do.
    assert zone_rebase.policies_rebase_zones(now=AFTER_LAST_WINTER_RUN) == 0
    assert AuditEvent.objects.filter(policy_id=policy.pk).exclude(pk=created.pk).count() == 1


@pytest.mark.django_db
def test_a_policy_without_a_named_zone_is_never_rebased():
    policy = make_policy(TenantFactory(), payload=valid_payload(time_zone="UTC+01:00"))
    assert zone_rebase.policies_rebase_zones(now=AFTER_LAST_WINTER_RUN) == 0
    policy.refresh_from_db()
    assert policy.time_zone == "UTC+01:00"


@pytest.mark.django_db
def test_in_autumn_the_policy_goes_back_to_utc_plus_1():
    policy = berlin_monday_two(TenantFactory())
    zone_rebase.policies_rebase_zones(now=AFTER_LAST_WINTER_RUN)
    # Berlin falls back on Sun 31 Oct 2027; the last summer run is Mon 25 Oct 00:00 UTC.
    assert zone_rebase.policies_rebase_zones(now=datetime(2027, 10, 25, 0, 1, tzinfo=UTC)) == 1
    policy.refresh_from_db()
    assert (policy.time_zone, policy.start_time) == ("UTC+01:00", "01:00")


@pytest.mark.django_db
def test_the_command_rebases_and_says_how_many():
    berlin_monday_two(TenantFactory())
    out = io.StringIO()
    call_command("rebase_zones", "--now", AFTER_LAST_WINTER_RUN.isoformat(), stdout=out)
    assert out.getvalue().strip() == "re-based 1 policy"
    out = io.StringIO()
    call_command("rebase_zones", "--now", AFTER_LAST_WINTER_RUN.isoformat(), stdout=out)
    assert out.getvalue().strip() == "re-based 0 policies"


@pytest.mark.usefixtures("transactional_db")
def test_two_schedulers_at_once_rebase_each_policy_exactly_once(monkeypatch):
    tenant = TenantFactory()
    policies = [berlin_monday_two(tenant, name=f"berlin{i}") for i in range(4)]
    save = BackupPolicy.save

    def save_slowly(self, *args, **kwargs):
        # Slow enough that, without the locks and the second look under them, both schedulers
        # would read the policy before either wrote it.
        time.sleep(0.05)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(BackupPolicy, "save", save_slowly)
    outcomes = in_parallel([lambda: zone_rebase.policies_rebase_zones(now=AFTER_LAST_WINTER_RUN)] * 2)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == len(policies)
    for policy in policies:
        policy.refresh_from_db()
        assert (policy.time_zone, policy.start_time) == ("UTC+02:00", "00:00")
        assert AuditEvent.objects.filter(policy_id=policy.pk, entrance="scheduler").count() == 1
