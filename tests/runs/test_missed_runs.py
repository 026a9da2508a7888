"""Missed runs and the heartbeat: workers stopped past a run are visible, and announced when one returns."""

from datetime import timedelta
from http import HTTPStatus

import pytest

from policies import audit, volumes
from policies.models import BackupTask, Event
from policies.runs import execution, scheduler
from tests.helpers.runs import MONDAY, associate, daily_policy

pytestmark = pytest.mark.django_db

Type = Event.Type
NOON = MONDAY + timedelta(hours=12)
MORNING = MONDAY + timedelta(hours=1)  # a policy placed then runs first at NOON


@pytest.fixture
def frozen(monkeypatch):
    """Set the clock the views read (healthz, the banner)."""

    def freeze(moment):
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return freeze


def missed_events():
    return list(Event.objects.filter(type=Type.RUN_MISSED).order_by("occurred_at", "id"))


def test_workers_stopped_past_a_run_stale_healthz_banner_then_run_missed_when_one_returns(
    client, user, tenant, two_volumes, frozen
):
    policy = daily_policy(tenant, now=MORNING)  # 00:00 and 12:00 UTC
    associate(policy, two_volumes)
    scheduler.scheduler_tick(now=MONDAY + timedelta(hours=11, minutes=2))  # the last tick, then none
    back = NOON + timedelta(hours=2)
    frozen(back)

    health = client.get("/healthz")
    assert (health.status_code, health.json()["scheduler"]) == (HTTPStatus.OK, "stale")
    client.force_login(user)
    page = client.get("/", follow=True).content.decode()
    assert "No backups have run since 2026-03-02 11:02 UTC: no worker is running." in page
    assert not missed_events()

    result = scheduler.scheduler_tick(now=back)  # a worker returns

    [event] = missed_events()
    assert (event.policy_id, event.occurred_at) == (policy.pk, back)
    assert event.details["scheduled_at"] == NOON.isoformat()
    assert event.details["volume_ids"] == sorted(str(volume.resource_id) for volume in two_volumes)
    assert event.details["catch_up"] is True
    assert (
        "did not start: no scheduler ran until 120 minutes after it; it runs now, late"
        in (event.details["message"])
    )
    assert result.queued == 2  # the catch-up backup of each volume
    assert client.get("/healthz").json()["scheduler"] == "ok"
    assert "no worker is running" not in client.get("/", follow=True).content.decode()


@pytest.mark.parametrize(("late", "announced"), [(timedelta(minutes=29), 0), (timedelta(minutes=31), 1)])
def test_a_run_is_missed_only_past_the_grace(tenant, two_volumes, late, announced):
    associate(daily_policy(tenant, now=MORNING), two_volumes[:1])
    scheduler.scheduler_tick(now=NOON + late)
    assert len(missed_events()) == announced


def test_each_missed_instant_is_announced_once_and_only_the_newest_runs(tenant, two_volumes, settings):
    settings.BACKUP_MISSED_RUN_WINDOW_MINUTES = 360
    policy = daily_policy(tenant)
    associate(policy, two_volumes[:1])
    back = MONDAY + timedelta(days=1, hours=1)  # past Monday 00:00, 12:00 and Tuesday 00:00

    scheduler.scheduler_tick(now=back)
    scheduler.scheduler_tick(now=back + timedelta(minutes=1))  # a second scheduler, or the next tick

    events = sorted(missed_events(), key=lambda event: event.details["scheduled_at"])
    assert [event.details["scheduled_at"] for event in events] == [
        (MONDAY + timedelta(hours=hours)).isoformat() for hours in (0, 12, 24)
    ]
    assert [event.details["catch_up"] for event in events] == [False, False, True]
    assert events[0].volume_id == two_volumes[0].resource_id


def test_a_task_a_worker_takes_past_the_grace_is_announced_once(tenant, two_volumes):
    policy = daily_policy(tenant, now=MORNING)
    associate(policy, two_volumes[:1])
    scheduler.scheduler_tick(now=NOON)  # queued in time, then no worker for 40 minutes
    task = BackupTask.objects.get(scheduled_at=NOON)

    execution.execute_task(task.pk, now=NOON + timedelta(minutes=40))

    [event] = missed_events()
    assert (event.task_id, event.volume_id) == (task.pk, task.resource_id)
    assert "waited 40 minutes for a worker; it runs now, late" in event.details["message"]


@pytest.mark.parametrize("taken_after", [timedelta(minutes=5), timedelta(minutes=29)])
def test_a_task_taken_within_the_grace_is_not_missed(tenant, two_volumes, taken_after):
    associate(daily_policy(tenant, now=MORNING), two_volumes[:1])
    scheduler.scheduler_tick(now=NOON)
    execution.execute_task(BackupTask.objects.get(scheduled_at=NOON).pk, now=NOON + taken_after)
    assert not missed_events()


def test_a_manual_run_is_never_missed(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes[:1])
    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    execution.execute_task(task.pk, now=task.scheduled_at + timedelta(hours=3))
    assert not missed_events()
