"""What a crashed worker or a lost database leaves behind is taken back: queue entries, unrecorded copies."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from policies import audit, volumes
from policies.management.commands.worker import run_worker
from policies.models import Backup, BackupTask
from policies.runs import attempts, database, execution, sweep
from tests.helpers.runs import associate, backup_files, daily_policy, make_volumes

pytestmark = pytest.mark.django_db

Status = BackupTask.Status


def run_now(tenant) -> BackupTask:
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": b"d" * 1000}))
    return volumes.policy_execute(policy=policy, actor=audit.Actor.command())[0]


def test_a_queue_entry_left_running_by_a_dead_worker_is_closed_and_its_task_queued_again(tenant):
    task = run_now(tenant)
    entry = DBTaskResult.objects.get()
    long_ago = timezone.now() - attempts.lease_length() - timedelta(minutes=5)
    # The worker took the entry and died before it claimed the task.
    DBTaskResult.objects.filter(pk=entry.pk).update(status="RUNNING", started_at=long_ago)

    sweep.sweep_stale_tasks()

    entry.refresh_from_db()
    assert entry.status == "FAILED"
    assert entry.finished_at is not None
    fresh = DBTaskResult.objects.exclude(pk=entry.pk).get()
    assert (fresh.status, fresh.args_kwargs["args"]) == ("READY", [str(task.pk)])


def test_a_running_queue_entry_within_its_lease_is_left_alone(tenant):
    run_now(tenant)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())

    sweep.sweep_stale_tasks()

    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["RUNNING"]


def test_a_copy_that_ends_while_the_database_is_away_is_recorded_when_it_returns(tenant, monkeypatch):
    task = run_now(tenant)
    real = execution._record_backup
    outage = iter([True, True])  # the first two tries find no database

    def record(*args, **kwargs):
        if next(outage, False):
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "_record_backup", record)
    monkeypatch.setattr(database.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(database.connection, "close", lambda: None)  # the test's transaction stays

    assert execution.execute_task(task.pk) == Status.EXECUTE_SUCCESS
    assert Backup.objects.count() == 1


def test_recording_gives_up_after_the_retry_time_and_the_sweep_discards_the_copy(
    tenant, monkeypatch, settings
):
    settings.BACKUP_DB_RETRY_SECONDS = 0
    task = run_now(tenant)

    def record(*args, **kwargs):
        raise OperationalError("the database is gone")

    monkeypatch.setattr(execution, "_record_backup", record)
    with pytest.raises(OperationalError):
        execution.execute_task(task.pk)
    monkeypatch.undo()
    task.refresh_from_db()
    assert [p.name for p in backup_files()] == [f"{attempts.attempt_name(task.backup_name, 1)}.index"]

    sweep.sweep_stale_tasks(now=task.lease_until + timedelta(seconds=1))

    assert backup_files() == []
    assert not Backup.objects.exists()


class FlakyWorker:
    """django-tasks-db's worker as seen by run_worker: its loop raises while the database is away."""

    def __init__(self, outages: int) -> None:
        self.outages, self.runs, self.running = outages, 0, True

    def run(self) -> None:
        self.runs += 1
        if self.runs <= self.outages:
            raise OperationalError("could not connect to server")


def test_the_worker_loop_waits_with_backoff_and_goes_on_after_a_database_outage():
    worker, pauses = FlakyWorker(outages=3), []

    run_worker(worker, sleep=pauses.append)

    assert worker.runs == 4
    assert pauses == [1.0, 2.0, 4.0]


def test_a_worker_asked_to_stop_during_an_outage_stops():
    worker, pauses = FlakyWorker(outages=5), []
    worker.running = False

    run_worker(worker, sleep=pauses.append)

    assert (worker.runs, pauses) == (1, [])
