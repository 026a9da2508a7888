"""The busy tick in bulk: its query count does not grow with the due policies, and a lost race queues nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from policies.models import BackupTask
from policies.runs import execution, queue, scheduler
from tests.helpers.factories import TenantFactory
from tests.helpers.runs import MONDAY, associate, daily_policy, make_volumes

pytestmark = pytest.mark.django_db

Status = BackupTask.Status


def _due_policies(count: int, start_time: str, prefix: str):
    """``count`` due policies with two volumes each, each in a project of its own.

    A project holds at most 10 policies, and the tick reads due policies whatever their project.
    """
    policies = []
    for index in range(count):
        tenant = TenantFactory(project_id=f"{prefix}-{index:02d}")
        disks = make_volumes(tenant, {f"{prefix}-{index:02d}-{disk}.img": b"x" * 64 for disk in "ab"})
        policy = daily_policy(tenant, start_time=start_time)
        associate(policy, disks)
        policies.append(policy)
    return policies


def _tick_queries(now) -> tuple[int, scheduler.TickResult]:
    with CaptureQueriesContext(connection) as queries:
        result = scheduler.scheduler_tick(now=now)
    return len(queries), result


def test_the_queries_of_a_tick_do_not_grow_with_the_due_policies():
    _due_policies(2, "06:00", "few")
    _due_policies(20, "09:00", "many")

    few, few_result = _tick_queries(MONDAY + timedelta(hours=6))
    many, many_result = _tick_queries(MONDAY + timedelta(hours=9))

    assert (few_result.policies, few_result.queued) == (2, 4)
    assert (many_result.policies, many_result.queued) == (20, 40)
    assert many == few, (few, many)
    assert DBTaskResult.objects.count() == 44


def test_the_queries_grow_only_per_batch_of_due_policies(monkeypatch):
    monkeypatch.setattr(scheduler, "TICK_BATCH", 4)
    _due_policies(4, "06:00", "one")  # one full batch, then an empty look
    _due_policies(8, "09:00", "two")  # two full batches, then an empty look

    one, _ = _tick_queries(MONDAY + timedelta(hours=6))
    two, result = _tick_queries(MONDAY + timedelta(hours=9))

    assert result.queued == 16
    per_batch = two - one
    assert 0 < per_batch <= 12, (one, two)


def test_missed_runs_of_many_policies_are_recorded_in_bulk(settings):
    settings.BACKUP_MISSED_RUN_WINDOW_MINUTES = 360
    policies = _due_policies(3, "00:00,12:00", "late")

    result = scheduler.scheduler_tick(now=MONDAY + timedelta(days=1, hours=15))

    assert (result.policies, result.queued, result.skipped, result.lost_races) == (3, 6, 18, 0)
    for policy in policies:
        assert sorted(
            BackupTask.objects.filter(policy=policy).values_list("scheduled_at", "status")
        ) == sorted(
            2
            * [
                (MONDAY, Status.SKIP),
                (MONDAY + timedelta(hours=12), Status.SKIP),
                (MONDAY + timedelta(days=1), Status.SKIP),
                (MONDAY + timedelta(days=1, hours=12), Status.WAITING),
            ]
        )
        policy.refresh_from_db()
        assert policy.next_run_at == MONDAY + timedelta(days=2)
    assert DBTaskResult.objects.count() == 6


def test_a_run_another_scheduler_stored_first_is_neither_counted_nor_queued_again():
    policy, other = _due_policies(2, "06:00", "race")
    volume = policy.volumes.order_by("name").first()
    # Another scheduler stored (and queued) this run first; this tick still sees the policy due.
    theirs = queue.new_task(policy, volume, MONDAY + timedelta(hours=6))
    theirs.save(force_insert=True)
    execution.enqueue(theirs)

    result = scheduler.scheduler_tick(now=MONDAY + timedelta(hours=6))

    assert (result.policies, result.queued, result.lost_races) == (2, 3, 1)
    assert theirs.job_id not in result.queued_ids
    assert BackupTask.objects.count() == 4
    assert BackupTask.objects.get(volume=volume).job_id == theirs.job_id
    queued = sorted(args["args"][0] for args in DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert queued == sorted(str(job_id) for job_id in BackupTask.objects.values_list("job_id", flat=True))
    assert len(queued) == len(set(queued)) == 4


def test_a_bulk_queued_task_runs_like_one_queued_alone():
    (policy,) = _due_policies(1, "06:00", "entry")
    scheduler.scheduler_tick(now=MONDAY + timedelta(hours=6))
    alone = queue.new_task(policy, policy.volumes.first(), MONDAY + timedelta(days=9))
    alone.save(force_insert=True)
    execution.enqueue(alone)

    entries = list(DBTaskResult.objects.order_by("enqueued_at"))
    fields = ("status", "priority", "task_path", "queue_name", "backend_name", "run_after")
    assert len(entries) == 3
    assert {tuple(getattr(entry, name) for name in fields) for entry in entries} == {
        tuple(getattr(entries[-1], name) for name in fields)
    }
    assert all(entry.task_result.task.run_after is None for entry in entries)
