"""A worker process killed mid-backup or mid-restore: its work is taken back, and nothing half-written stays."""

import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from policies import audit, backups, volumes
from policies.domain.contract import backups as rules
from policies.models import Backup, BackupTask, Restore
from policies.runs import attempts, execution, sweep
from policies.runs import restore as restoring
from tests.helpers.runs import (
    associate,
    backup_content,
    backup_files,
    backup_midway,
    daily_policy,
    make_volumes,
)
from tests.helpers.worker_process import start_worker, stop, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONTENT = bytes(range(256)) * 400  # 100 KiB
CHANGED = b"written after the backup" * 100


def test_a_worker_killed_mid_backup_leaves_no_task_running_and_no_orphan_file(tenant):
    policy = daily_policy(tenant)
    disk = make_volumes(tenant, {"big.img": CONTENT})[0]
    associate(policy, [disk])
    volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    task = BackupTask.objects.get()

    # 4 KiB/s: the copy takes ~25 s, long enough to be killed in the middle of it.
    worker = start_worker("--no-scheduler", LOCAL_COPY_BYTES_PER_SECOND="4096")
    try:
        wait_until(lambda: backup_midway(tenant.project_id), what="the copy to start")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        stop(worker)

    task.refresh_from_db()
    assert task.status == BackupTask.Status.RUNNING  # what the dead worker left
    # Its writer's lease (and the chunks it wrote, which no index names): never an index.
    assert [path.suffix for path in backup_files()] == [".lease"]

    assert sweep.sweep_stale_tasks(now=task.lease_until + timedelta(seconds=1)) == 1

    task.refresh_from_db()
    assert task.status == BackupTask.Status.WAITING
    assert backup_files() == []
    assert execution.execute_task(task.pk) == BackupTask.Status.EXECUTE_SUCCESS
    backup = Backup.objects.get()
    assert backup_content(backup.locator) == CONTENT
    assert [p.name for p in backup_files()] == [f"{attempts.attempt_name(task.backup_name, 2)}.index"]


def test_a_worker_killed_mid_restore_leaves_the_target_untouched_and_the_backup_available(tenant):
    disk = make_volumes(tenant, {"big.img": CONTENT})[0]
    backup = backups.backup_create(
        tenant=tenant, body=rules.CreateBody(disk.resource_id, "", ""), actor=audit.Actor.command()
    )
    execution.execute_task(backup.task_id)
    folder = Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id
    with open(folder / "big.img", "r+b") as volume_file:  # the same file, written since the backup
        volume_file.write(CHANGED)
    backup.refresh_from_db()
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(disk.resource_id, None), actor=audit.Actor.command()
    )

    # 4 KiB/s: the restore writes aside, then waits ~25 s before renaming; it is killed meanwhile.
    worker = start_worker("--no-scheduler", LOCAL_COPY_BYTES_PER_SECOND="4096")
    try:
        wait_until(lambda: any(folder.glob(".big.img.restore-*")), what="the restore to start writing")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        stop(worker)

    restore.refresh_from_db()
    backup.refresh_from_db()
    assert (restore.status, backup.status) == (Restore.Status.RUNNING, Backup.Status.RESTORING)
    assert (folder / "big.img").read_bytes() == CHANGED + CONTENT[len(CHANGED) :]

    assert sweep.sweep_stale_tasks(now=restore.lease_until + timedelta(seconds=1)) == 1

    restore.refresh_from_db()
    backup.refresh_from_db()
    assert restore.status == Restore.Status.FAILED
    assert "the target is as it was" in restore.message
    assert backup.status == Backup.Status.AVAILABLE
    assert sorted(p.name for p in folder.iterdir()) == ["big.img"]  # the half-written copy is gone
    assert (folder / "big.img").read_bytes() == CHANGED + CONTENT[len(CHANGED) :]

    again = backups.restore_start(
        backup=backup, body=rules.RestoreBody(disk.resource_id, None), actor=audit.Actor.command()
    )
    assert restoring.execute_restore(again.pk) == Restore.Status.SUCCEEDED
    assert (folder / "big.img").read_bytes() == CONTENT
