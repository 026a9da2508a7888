"""Thirty simulated days with a healthy worker, across two daylight-saving changes: no missed run, no risk, no alarm."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policies import protection
from policies.domain.protection import Protection
from policies.models import Backup, BackupTask, Event, Volume
from policies.runs import execution, heartbeat, scheduler, verify
from tests.helpers.runs import associate, daily_policy, make_volumes, run_queued_verifications

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TICK = timedelta(minutes=20)  # well within the 30-minute grace: a run starts at most one tick late
DAYS = 30
ALARMS = (Event.Type.RUN_MISSED, Event.Type.BACKUP_FAILED, Event.Type.BACKUP_VERIFY_FAILED)

# Each window holds two changes: New York's and Berlin's, spring-forward in March, fall-back in
# October and November (a fall-back day is 25 hours long: the longest gap between daily runs).
WINDOWS = {
    "spring": datetime(2027, 3, 7, tzinfo=UTC),  # New York 14 March, Berlin 28 March
    "autumn": datetime(2027, 10, 17, tzinfo=UTC),  # Berlin 31 October, New York 7 November
}


def local_policy(tenant, zone: str, local_hour: int, start: datetime):
    """A daily policy at ``local_hour`` in the named ``zone``, created at ``start``."""
    offset = start.astimezone(ZoneInfo(zone)).utcoffset()
    utc_hour = (local_hour - int(offset.total_seconds() // 3600)) % 24
    return daily_policy(tenant, start_time=f"{utc_hour:02d}:00", time_zone_name=zone, now=start)


@pytest.mark.parametrize("season", list(WINDOWS))
def test_thirty_days_of_a_healthy_worker_miss_no_run_and_raise_no_alarm(tenant, settings, season):
    settings.BACKUP_MISSED_RUN_GRACE_MINUTES = 30
    start = WINDOWS[season]
    berlin_disk, york_disk = make_volumes(tenant, {"berlin.img": b"b" * 64, "york.img": b"y" * 64})
    berlin = local_policy(tenant, "Europe/Berlin", 2, start)
    york = local_policy(tenant, "America/New_York", 1, start)
    associate(berlin, [berlin_disk])
    associate(york, [york_disk])
    Volume.objects.update(policy_since=start)  # added at the window's start, not the real clock's now

    risks = []
    facts = protection.with_protection_facts(Volume.objects.all())  # built once, read at each tick
    now = start
    while now < start + timedelta(days=DAYS):
        # No worker dies here, so the sweep has nothing to take back: left out, for speed.
        for job_id in scheduler.scheduler_tick(now=now, sweep=False).queued_ids:
            execution.execute_task(job_id, now=now)
        if now.minute < TICK.seconds // 60:  # verifications: once an hour is soon enough
            verify.queue_due_verifications(now=now)
            run_queued_verifications(now=now)
        assert not heartbeat.scheduler_state(now=now).stale
        risks += [
            (now, volume.name, found.reason)
            for volume, found in protection.protections(facts.all(), now=now)
            if found.state != Protection.PROTECTED
        ]
        now += TICK

    assert risks == []
    assert not Event.objects.filter(type__in=ALARMS).exists()
    for policy, zone in ((berlin, "Europe/Berlin"), (york, "America/New_York")):
        runs = BackupTask.objects.filter(policy=policy).order_by("scheduled_at")
        assert {task.status for task in runs} == {BackupTask.Status.EXECUTE_SUCCESS}
        assert len(runs) == DAYS
        hours = {task.scheduled_at.astimezone(ZoneInfo(zone)).hour for task in runs}
        # Each run at its local hour; on a spring-forward day 02:00 does not exist in Berlin, and
        # the run happens at the first instant after the gap, 03:00.
        assert hours == (
            {2, 3} if (zone, season) == ("Europe/Berlin", "spring") else {2 if "Berlin" in zone else 1}
        )
    assert set(Backup.objects.values_list("verify_status", flat=True)) == {Backup.Verify.OK}
