"""A worker process killed mid-backup: its task is taken back, and no partial file is left."""

import signal
from datetime import timedelta

import pytest

from policies import audit, volumes
from policies.models import Backup, BackupTask
from policies.runs import attempts, execution, sweep
from tests.helpers.runs import (
    associate,
    backup_content,
    backup_files,
    backup_midway,
    daily_policy,
    make_volumes,
)
from tests.helpers.worker_process import start_worker, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

CONTENT = bytes(range(256)) * 400  # 100 KiB


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
