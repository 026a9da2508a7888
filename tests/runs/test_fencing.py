"""Fencing: an attempt that lost its lease removes only what it wrote itself, never a later attempt's backup."""

import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from policies import audit, volumes
from policies.models import Backup, BackupTask
from policies.runs import execution, sweep
from policies.runs.providers.local import LocalProvider
from tests.helpers.runs import (
    MONDAY,
    associate,
    backup_content,
    backup_files,
    backup_midway,
    daily_policy,
    make_volumes,
)
from tests.helpers.worker_process import start_worker, stop, wait_until

CONTENT = bytes(range(256)) * 400  # 100 KiB

Status = BackupTask.Status


def run_now(tenant) -> BackupTask:
    """An OFF policy (no scheduled run gets in the way) holding one volume, and a 'Run now' task."""
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"big.img": CONTENT}))
    volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    return BackupTask.objects.get()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_paused_past_its_lease_leaves_the_backup_of_the_attempt_that_replaced_it(tenant):
    task = run_now(tenant)
    # 4 KiB/s: the copy would take ~25 s; its deadline (8 s) passes while the worker is stopped.
    slow = start_worker(
        "--no-scheduler",
        LOCAL_COPY_BYTES_PER_SECOND="4096",
        BACKUP_TIMEOUT_SECONDS="8",
        BACKUP_LEASE_GRACE_SECONDS="1",
    )
    fast = None
    try:
        wait_until(lambda: backup_midway(tenant.project_id), what="the first attempt's copy to start")
        slow.send_signal(signal.SIGSTOP)
        # The other worker's sweep finds the lease passed and runs attempt 2 to the end.
        fast = start_worker("--tick-seconds", "0.5")
        wait_until(
            lambda: BackupTask.objects.filter(pk=task.pk, status=Status.EXECUTE_SUCCESS).exists(),
            what="the second attempt to finish",
        )
        slow.send_signal(signal.SIGCONT)
        # The paused attempt resumes past its deadline and gives up: its queue entry finishes.
        wait_until(lambda: not DBTaskResult.objects.running().exists(), what="the paused attempt to end")
        assert slow.poll() is None
        assert fast.poll() is None
    finally:
        slow.send_signal(signal.SIGCONT)
        stop(slow)
        if fast is not None:
            stop(fast)

    task.refresh_from_db()
    backup = Backup.objects.get()
    assert (task.status, task.attempts) == (Status.EXECUTE_SUCCESS, 2)
    assert backup_content(backup.locator) == CONTENT
    assert backup_files() == [Path(settings.LOCAL_BACKUP_ROOT) / backup.locator]


class OvertakenProvider(LocalProvider):
    """Copies; but as its first copy ends, the sweep takes the task back and attempt 2 runs to the end.

    (The sweep's discard finds nothing of attempt 1 yet: its copy is renamed into place after.)
    """

    def __init__(self, task):
        super().__init__(settings.LOCAL_VOLUME_ROOT, settings.LOCAL_BACKUP_ROOT)
        self.task, self.overtaken, self.sweeping = task, False, False

    def discard(self, project_id, backup_name):
        if not self.sweeping:
            super().discard(project_id, backup_name)

    def create_backup(self, *args, **kwargs):
        made = super().create_backup(*args, **kwargs)
        if not self.overtaken:
            self.overtaken = self.sweeping = True
            lease = BackupTask.objects.get(pk=self.task.pk).lease_until
            sweep.sweep_stale_tasks(now=lease + timedelta(seconds=1), provider=self)
            self.sweeping = False
            assert (
                execution.execute_task(self.task.pk, now=lease + timedelta(seconds=2))
                == Status.EXECUTE_SUCCESS
            )
        return made


@pytest.mark.django_db
def test_an_attempt_that_finds_its_task_taken_deletes_its_own_copy_and_no_other(tenant):
    task = run_now(tenant)

    assert execution.execute_task(task.pk, now=MONDAY, provider=OvertakenProvider(task)) is None

    backup = Backup.objects.get()
    assert backup.task_id == task.pk
    assert backup_content(backup.locator) == CONTENT
    assert backup_files() == [Path(settings.LOCAL_BACKUP_ROOT) / backup.locator]


@pytest.mark.django_db
def test_the_sweep_discards_only_the_dead_attempts_own_copy(tenant):
    task = run_now(tenant)
    claimed = execution._claim(task.pk, MONDAY)
    sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1))
    assert execution.execute_task(task.pk, now=MONDAY + timedelta(hours=1)) == Status.EXECUTE_SUCCESS
    # The task runs long (a third attempt claims it); the sweep then finds attempt 3 dead.
    BackupTask.objects.filter(pk=task.pk).update(status=Status.WAITING)
    claimed = execution._claim(task.pk, MONDAY + timedelta(hours=2))

    sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1))

    backup = Backup.objects.get()
    assert backup_content(backup.locator) == CONTENT
