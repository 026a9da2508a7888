"""The scheduler tick: due runs become one task per volume, once; missed runs; what stops runs."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from policies import audit, services, volumes
from policies.domain.contract.volumes import ResourceItem
from policies.models import BackupPolicy, BackupTask
from policies.runs import execution, queue, scheduler
from tests.helpers.runs import MONDAY, associate, daily_policy

pytestmark = pytest.mark.django_db

Status = BackupTask.Status


def test_a_due_run_queues_one_waiting_task_per_volume_and_moves_next_run(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes)

    result = scheduler.scheduler_tick(now=MONDAY + timedelta(seconds=5))

    tasks = BackupTask.objects.filter(policy=policy)
    assert sorted((t.volume.name, t.status, t.scheduled_at) for t in tasks) == [
        ("disk-a.img", Status.WAITING, MONDAY),
        ("disk-b.img", Status.WAITING, MONDAY),
    ]
    assert result.queued == 2
    assert DBTaskResult.objects.count() == 2  # queued in the same transaction
    policy.refresh_from_db()
    assert policy.next_run_at == MONDAY + timedelta(hours=12)


def test_a_tick_before_the_run_queues_nothing(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="06:00")
    associate(policy, two_volumes)

    scheduler.scheduler_tick(now=MONDAY + timedelta(hours=5, minutes=59))

    assert not BackupTask.objects.exists()


def test_a_second_tick_at_the_same_instant_queues_nothing_more(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes)
    scheduler.scheduler_tick(now=MONDAY)

    again = scheduler.scheduler_tick(now=MONDAY + timedelta(seconds=30))

    assert again.queued == 0
    assert BackupTask.objects.count() == 2


def test_a_run_stored_twice_is_refused_by_the_database(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes)
    first = queue.new_task(policy, two_volumes[0], MONDAY)
    second = queue.new_task(policy, two_volumes[0], MONDAY)

    assert queue._insert(first) is True
    assert queue._insert(second) is False
    assert BackupTask.objects.count() == 1


def test_a_missed_run_within_the_window_fires_once_late_and_older_ones_are_skipped(
    tenant, two_volumes, settings
):
    settings.BACKUP_MISSED_RUN_WINDOW_MINUTES = 360
    policy = daily_policy(tenant)
    associate(policy, two_volumes[:1])

    # Down from Monday 00:00 until Tuesday 15:00: runs at Mon 00, Mon 12, Tue 00, Tue 12 missed.
    result = scheduler.scheduler_tick(now=MONDAY + timedelta(days=1, hours=15))

    tasks = {t.scheduled_at: t.status for t in BackupTask.objects.filter(policy=policy)}
    assert tasks == {
        MONDAY: Status.SKIP,
        MONDAY + timedelta(hours=12): Status.SKIP,
        MONDAY + timedelta(days=1): Status.SKIP,
        MONDAY + timedelta(days=1, hours=12): Status.WAITING,
    }
    assert (result.queued, result.skipped) == (1, 3)
    policy.refresh_from_db()
    assert policy.next_run_at == MONDAY + timedelta(days=2)


def test_a_run_missed_by_more_than_the_window_is_only_recorded_as_skipped(tenant, two_volumes, settings):
    settings.BACKUP_MISSED_RUN_WINDOW_MINUTES = 60
    policy = daily_policy(tenant, start_time="00:00")
    associate(policy, two_volumes[:1])

    scheduler.scheduler_tick(now=MONDAY + timedelta(hours=2))

    assert list(BackupTask.objects.values_list("status", flat=True)) == [Status.SKIP]
    assert not DBTaskResult.objects.exists()


def test_an_off_policy_makes_no_run(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes)
    services.policy_modify(
        policy=policy, body={"scheduled_policy": {"status": "OFF"}}, actor=audit.Actor.command()
    )

    scheduler.scheduler_tick(now=MONDAY + timedelta(days=1))

    policy.refresh_from_db()
    assert policy.next_run_at is None
    assert not BackupTask.objects.exists()


def test_turning_a_policy_on_again_counts_from_now_not_from_the_runs_it_missed(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes[:1])
    actor = audit.Actor.command()
    services.policy_modify(policy=policy, body={"scheduled_policy": {"status": "OFF"}}, actor=actor)
    services.policy_modify(policy=policy, body={"scheduled_policy": {"status": "ON"}}, actor=actor)

    policy.refresh_from_db()
    assert policy.next_run_at > MONDAY  # placed from the real clock, not the old schedule


def test_a_disassociated_volume_gets_no_more_runs(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes)
    volumes.policy_volumes_disassociate(
        policy=policy,
        items=[ResourceItem(str(two_volumes[0].resource_id), "volume")],
        actor=audit.Actor.command(),
    )

    scheduler.scheduler_tick(now=MONDAY)

    assert [t.volume for t in BackupTask.objects.all()] == [two_volumes[1]]


def test_a_deleted_policy_makes_no_run_and_its_queued_task_is_skipped(tenant, two_volumes):
    policy = daily_policy(tenant)
    associate(policy, two_volumes[:1])
    scheduler.scheduler_tick(now=MONDAY)
    services.policy_delete(policy=policy, actor=audit.Actor.command())

    status = execution.execute_task(BackupTask.objects.get().pk, now=MONDAY)

    assert status is None
    task = BackupTask.objects.get()
    assert (task.status, task.policy_name) == (Status.SKIP, policy.name)
    assert "deleted" in task.message


def test_a_policy_stored_before_runs_existed_gets_its_next_run_at_the_first_tick(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="06:00")
    BackupPolicy.objects.filter(pk=policy.pk).update(next_run_at=None)

    scheduler.scheduler_tick(now=MONDAY)

    policy.refresh_from_db()
    assert policy.next_run_at == MONDAY + timedelta(hours=6)
