"""The scheduler keeps a named zone's local times: its tick re-bases, and the runs stay at 02:00 Berlin."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policies.models import AuditEvent, BackupTask
from policies.runs import scheduler
from tests.helpers.payloads import founding_schedule, valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WINTER = datetime(2027, 1, 10, 12, tzinfo=UTC)


def test_ticks_through_the_spring_change_run_at_two_berlin_time_and_rebase_once(tenant, two_volumes):
    payload = valid_payload(
        backup_policy_name="berlin",
        scheduled_policy=founding_schedule(start_time="01:00"),
        time_zone_name="Europe/Berlin",
        tags=[],
    )
    payload.pop("time_zone")
    policy = make_policy(tenant, payload=payload, now=WINTER)
    associate(policy, two_volumes[:1])
    start = datetime(2027, 3, 21, tzinfo=UTC)
    policy.next_run_at = policy.first_run_from(start)
    policy.save(update_fields=["next_run_at"])

    rebased = 0
    for hour in range(16 * 24):  # 21 March to 6 April 2027, a tick every hour
        rebased += scheduler.scheduler_tick(now=start + timedelta(hours=hour), sweep=False).rebased

    made = sorted(BackupTask.objects.filter(policy=policy).values_list("scheduled_at", flat=True))
    assert [f"{moment.astimezone(BERLIN):%a %d %b %H:%M}" for moment in made] == [
        "Mon 22 Mar 02:00",
        "Mon 29 Mar 02:00",
        "Mon 05 Apr 02:00",
    ]
    assert rebased == 1
    policy.refresh_from_db()
    assert (policy.time_zone, policy.start_time) == ("UTC+02:00", "00:00")
    (event,) = AuditEvent.objects.filter(policy_id=policy.pk, entrance=AuditEvent.Entrance.SCHEDULER)
    assert event.changes["time_zone"] == {"before": "UTC+01:00", "after": "UTC+02:00"}
