"""One task, one backup: success with a verified copy, timeout, retries, a dead worker's task."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from policies.models import Backup, BackupTask, Volume
from policies.runs import execution, scheduler, sweep
from policies.runs.providers import ProviderError, TransientProviderError
from policies.runs.providers.local import LocalProvider
from tests.helpers.runs import MONDAY, associate, backup_content, backup_files, daily_policy, write_volume

pytestmark = pytest.mark.django_db

Status = BackupTask.Status


def queued_task(tenant, volume, *, now=MONDAY):
    policy = daily_policy(tenant, now=now)
    associate(policy, [volume])
    scheduler.scheduler_tick(now=now)
    return BackupTask.objects.get(policy=policy, volume=volume)


def test_a_successful_task_leaves_a_backup_equal_to_its_volume(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])

    assert execution.execute_task(task.pk, now=MONDAY + timedelta(seconds=3)) == Status.EXECUTE_SUCCESS

    task.refresh_from_db()
    backup = Backup.objects.get()
    content = backup_content(backup.locator)
    assert content == b"A" * 5000
    assert backup.sha256 == hashlib.sha256(b"A" * 5000).hexdigest()
    assert (backup.name, backup.taken_at) == (task.backup_name, MONDAY)
    assert task.backup_name.startswith("autobk_")
    assert (task.status, task.attempts, task.started_at, task.lease_until) == (
        Status.EXECUTE_SUCCESS,
        1,
        MONDAY + timedelta(seconds=3),
        None,
    )
    assert "verified" in task.message


def test_a_task_runs_once_even_when_two_workers_take_it(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])

    outcomes = [execution.execute_task(task.pk, now=MONDAY), execution.execute_task(task.pk, now=MONDAY)]

    assert outcomes == [Status.EXECUTE_SUCCESS, None]
    assert Backup.objects.count() == 1


class FlakyProvider(LocalProvider):
    """Fails with a transient error the first ``failures`` times."""

    def __init__(self, failures, error=TransientProviderError):
        super().__init__(settings.LOCAL_VOLUME_ROOT, settings.LOCAL_BACKUP_ROOT)
        self.failures, self.error = failures, error

    def create_backup(self, *args, **kwargs):
        if self.failures:
            self.failures -= 1
            raise self.error("the storage service is busy (503)")
        return super().create_backup(*args, **kwargs)


def test_a_transient_failure_is_tried_again_and_the_attempts_are_recorded(tenant, two_volumes, settings):
    settings.BACKUP_MAX_ATTEMPTS = 3
    task = queued_task(tenant, two_volumes[0])
    provider = FlakyProvider(failures=1)

    assert execution.execute_task(task.pk, now=MONDAY, provider=provider) == Status.WAITING
    task.refresh_from_db()
    assert (task.status, task.attempts) == (Status.WAITING, 1)
    assert "attempt 1 of 3 failed: the storage service is busy (503)" in task.message

    assert (
        execution.execute_task(task.pk, now=MONDAY + timedelta(minutes=1), provider=provider)
        == Status.EXECUTE_SUCCESS
    )
    task.refresh_from_db()
    assert task.attempts == 2


def test_retries_are_bounded_and_end_in_execute_fail_with_the_providers_message(
    tenant, two_volumes, settings
):
    settings.BACKUP_MAX_ATTEMPTS = 2
    task = queued_task(tenant, two_volumes[0])
    provider = FlakyProvider(failures=5)

    execution.execute_task(task.pk, now=MONDAY, provider=provider)
    assert execution.execute_task(task.pk, now=MONDAY, provider=provider) == Status.EXECUTE_FAIL

    task.refresh_from_db()
    assert (task.status, task.attempts) == (Status.EXECUTE_FAIL, 2)
    assert task.message == "the storage service is busy (503) (gave up after 2 attempts)"
    assert not Backup.objects.exists()


def test_a_permanent_failure_is_not_tried_again(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])

    status = execution.execute_task(
        task.pk, now=MONDAY, provider=FlakyProvider(failures=1, error=ProviderError)
    )

    assert status == Status.EXECUTE_FAIL
    task.refresh_from_db()
    assert task.attempts == 1


def test_a_backup_past_its_deadline_is_execute_timeout_and_leaves_no_file(tenant, two_volumes, settings):
    settings.BACKUP_TIMEOUT_SECONDS = 0  # every chunk is past the deadline
    task = queued_task(tenant, two_volumes[0])

    assert execution.execute_task(task.pk, now=MONDAY) == Status.EXECUTE_TIMEOUT

    task.refresh_from_db()
    assert "did not finish in time" in task.message
    assert backup_files() == []


def test_a_vanished_volume_file_fails_the_task_with_the_providers_message(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])
    (Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "disk-a.img").unlink()

    assert execution.execute_task(task.pk, now=MONDAY) == Status.EXECUTE_FAIL

    task.refresh_from_db()
    assert task.message == "volume file 'disk-a.img' no longer exists"


def test_a_volume_in_a_state_that_cannot_be_backed_up_fails(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])
    Volume.objects.filter(pk=two_volumes[0].pk).update(status=Volume.Status.ERROR)

    assert execution.execute_task(task.pk, now=MONDAY) == Status.EXECUTE_FAIL
    task.refresh_from_db()
    assert "AutoBackup.0206" in task.message


def test_a_task_whose_worker_died_is_queued_again_and_its_partial_file_removed(tenant, two_volumes, settings):
    settings.BACKUP_MAX_ATTEMPTS = 2
    task = queued_task(tenant, two_volumes[0])
    claimed = execution._claim(task.pk, MONDAY)  # the worker took it ... and died mid-copy
    partial = Path(settings.LOCAL_BACKUP_ROOT) / tenant.project_id / f".{task.backup_name}-1.partial"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"AAA")

    assert sweep.sweep_stale_tasks(now=claimed.lease_until - timedelta(seconds=1)) == 0
    assert sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1)) == 1

    task.refresh_from_db()
    assert (task.status, task.attempts) == (Status.WAITING, 1)
    assert "worker stopped mid-backup" in task.message
    assert not partial.exists()
    assert execution.execute_task(task.pk, now=MONDAY + timedelta(hours=2)) == Status.EXECUTE_SUCCESS


def test_a_task_whose_workers_keep_dying_fails_once_its_attempts_are_spent(tenant, two_volumes, settings):
    settings.BACKUP_MAX_ATTEMPTS = 1
    task = queued_task(tenant, two_volumes[0])
    claimed = execution._claim(task.pk, MONDAY)

    sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1))

    task.refresh_from_db()
    assert task.status == Status.EXECUTE_FAIL
    assert task.finished_at == claimed.lease_until + timedelta(seconds=1)


def test_a_late_worker_whose_task_was_taken_back_keeps_no_backup(tenant, two_volumes, settings):
    task = queued_task(tenant, two_volumes[0])
    claimed = execution._claim(task.pk, MONDAY)
    sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1))  # attempt 1 declared dead
    execution.execute_task(task.pk, now=MONDAY + timedelta(hours=1))  # attempt 2 succeeds

    # Attempt 1 was only slow: it finishes now, and must not record a second backup.
    assert execution._settle(claimed, 1, status=Status.EXECUTE_SUCCESS) is False
    assert Backup.objects.count() == 1
    assert len(backup_files()) == 1


def test_the_backup_is_the_volume_as_read_at_copy_time(tenant):
    write_volume(tenant.project_id, "live.img", b"before" * 1000)
    provider = LocalProvider(settings.LOCAL_VOLUME_ROOT, settings.LOCAL_BACKUP_ROOT)

    made = provider.create_backup(tenant.project_id, "live.img", "autobk_x", deadline=float("inf"))
    write_volume(tenant.project_id, "live.img", b"after")

    assert backup_content(made.locator) == b"before" * 1000
    assert made.sha256 == hashlib.sha256(b"before" * 1000).hexdigest()
