"""The tick's queries: a quiet tick opens no transaction, a busy one does not grow with the due policies, a lost race queues nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from policies import zone_rebase
from policies.models import BackupPolicy, BackupTask, SchedulerHeartbeat
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


def _berlin_policy(tenant, now):
    """A daily policy at 02:00 in Berlin, placed at ``now`` (early March): no re-base due for weeks."""
    return daily_policy(tenant, start_time="01:00", time_zone_name="Europe/Berlin", now=now)


def test_a_quiet_tick_opens_no_transaction_and_reads_once_per_look():
    """Nothing due, nothing to place, nothing to re-base: one lock-free look of each, the heartbeat."""
    _due_policies(2, "06:00", "quiet")
    _berlin_policy(TenantFactory(project_id="quiet-berlin"), MONDAY + timedelta(hours=3))

    with CaptureQueriesContext(connection) as queries:
        result = scheduler.scheduler_tick(now=MONDAY + timedelta(hours=3), sweep=False)

    assert (result.policies, result.queued, result.rebased) == (0, 0, 0)
    statements = [query["sql"] for query in queries]
    # The re-base's look, one look for policies to place or fire, the heartbeat.
    assert len(statements) == 3, statements
    assert not [sql for sql in statements if "SAVEPOINT" in sql or "FOR UPDATE" in sql], statements
    assert SchedulerHeartbeat.objects.get().ticked_at == MONDAY + timedelta(hours=3)


def test_a_tick_still_places_a_policy_without_a_next_run_and_fires_the_due_ones():
    """The looks see work: the unplaced policy gets its first run, the due one its task."""
    (due,) = _due_policies(1, "06:00", "busy")
    (unplaced,) = _due_policies(1, "09:00", "unplaced")
    BackupPolicy.objects.filter(pk=unplaced.pk).update(next_run_at=None)

    result = scheduler.scheduler_tick(now=MONDAY + timedelta(hours=6), sweep=False)

    assert (result.policies, result.queued) == (1, 2)
    unplaced.refresh_from_db()
    assert unplaced.next_run_at == MONDAY + timedelta(hours=9)
    due.refresh_from_db()
    assert due.next_run_at == MONDAY + timedelta(days=1, hours=6)


def test_the_re_base_reads_the_named_policies_in_batches_and_sees_every_one(monkeypatch):
    """One query per batch (no server-side cursor), and no policy missed between batches."""
    monkeypatch.setattr(zone_rebase, "READ_BATCH", 2)
    tenant = TenantFactory(project_id="batches")
    for _ in range(5):
        _berlin_policy(tenant, MONDAY)

    with CaptureQueriesContext(connection) as queries:
        assert zone_rebase.policies_rebase_zones(now=MONDAY) == 0
    assert len(queries) == 3  # 2 + 2 + 1

    # Berlin springs forward on 29 March 2026: a run after it is at UTC+02:00, so each is re-based.
    assert zone_rebase.policies_rebase_zones(now=datetime(2026, 3, 28, 12, tzinfo=UTC)) == 5
    assert set(BackupPolicy.objects.values_list("time_zone", flat=True)) == {"UTC+02:00"}
