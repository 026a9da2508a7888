"""Which backups retention counts: automatic ones that exist; manual ones never; orphans by their own rule."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from policies import audit, services, volumes
from policies.domain.contract.volumes import ResourceItem
from policies.models import Backup, BackupTask
from policies.runs import execution, retention, scheduler
from tests.helpers.runs import MONDAY, associate, daily_policy, make_volumes

pytestmark = pytest.mark.django_db

Status = BackupTask.Status


def run_due(moment) -> None:
    """Fire what is due at ``moment`` and run it to the end."""
    scheduler.scheduler_tick(now=moment)
    for task in BackupTask.objects.filter(status=Status.WAITING):
        assert execution.execute_task(task.pk, now=moment) == Status.EXECUTE_SUCCESS


def press_run_now(policy, moment) -> None:
    for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command(), now=moment):
        assert execution.execute_task(task.pk, now=moment) == Status.EXECUTE_SUCCESS


def file_of(backup) -> Path:
    return Path(settings.LOCAL_BACKUP_ROOT) / backup.locator


def test_five_quick_run_now_presses_keep_the_scheduled_backup(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_num=5)
    associate(policy, two_volumes[:1])
    run_due(MONDAY + timedelta(hours=7))
    scheduled = Backup.objects.get()

    for second in range(5):
        press_run_now(policy, MONDAY + timedelta(hours=8, seconds=second))

    assert Backup.objects.filter(pk=scheduled.pk).exists()
    assert file_of(scheduled).exists()
    assert Backup.objects.filter(manual=True).count() == 5


def test_manual_backups_are_not_deleted_by_retention_however_many_runs_follow(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_num=2)
    associate(policy, two_volumes[:1])
    press_run_now(policy, MONDAY + timedelta(hours=1))

    for day in range(4):
        run_due(MONDAY + timedelta(days=day, hours=7))

    assert Backup.objects.filter(manual=True).count() == 1
    assert Backup.objects.filter(manual=False).count() == 2


def test_a_backup_whose_file_is_gone_is_not_counted_as_kept(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_num=2)
    associate(policy, two_volumes[:1])
    run_due(MONDAY + timedelta(hours=7))
    run_due(MONDAY + timedelta(days=1, hours=7))
    first, second = Backup.objects.order_by("taken_at")
    file_of(second).unlink()

    run_due(MONDAY + timedelta(days=2, hours=7))

    # Two backups that exist: the first (intact) and the third. The second's row stays (its loss
    # is visible), and retention keeps the first instead of counting the lost one.
    assert file_of(first).exists()
    assert Backup.objects.filter(pk=first.pk).exists()
    assert Backup.objects.count() == 3


def test_a_deleted_policys_backups_keep_the_rule_it_had(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_day=3, rentention_num=None)
    associate(policy, two_volumes[:1])
    for day in range(3):
        run_due(MONDAY + timedelta(days=day, hours=7))
    services.policy_delete(policy=policy, actor=audit.Actor.command())

    # Three days each: the first two are past theirs on day 4, the third on day 6.
    assert retention.retain_orphaned_backups(now=MONDAY + timedelta(days=4, hours=8)) == 2
    assert retention.retain_orphaned_backups(now=MONDAY + timedelta(days=9)) == 1
    assert not Backup.objects.exists()
    assert not list(Path(settings.LOCAL_BACKUP_ROOT).rglob("autobk_*"))


def test_a_deleted_count_policy_keeps_its_newest_backups_and_no_more(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_num=2)
    associate(policy, two_volumes[:1])
    for day in range(3):
        run_due(MONDAY + timedelta(days=day, hours=7))
    services.policy_delete(policy=policy, actor=audit.Actor.command())

    assert retention.retain_orphaned_backups(now=MONDAY + timedelta(days=30)) == 0
    assert Backup.objects.count() == 2


def test_a_moved_volumes_backups_keep_the_rule_of_the_policy_that_made_them(tenant, two_volumes):
    first = daily_policy(tenant, start_time="07:00", rentention_day=2, rentention_num=None)
    second = daily_policy(tenant, start_time="09:00", rentention_num=5)
    associate(first, two_volumes[:1])
    run_due(MONDAY + timedelta(hours=7))
    associate(second, two_volumes[:1])  # the volume moves
    for day in range(4):
        run_due(MONDAY + timedelta(days=day, hours=9))

    retention.retain_orphaned_backups(now=MONDAY + timedelta(days=4))

    assert not Backup.objects.filter(origin_policy_id=first.pk).exists()
    assert Backup.objects.filter(policy=second).count() == 4


def test_a_volume_removed_from_its_policy_keeps_its_backups_by_that_policys_rule(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_num=2)
    associate(policy, two_volumes[:1])
    for day in range(2):
        run_due(MONDAY + timedelta(days=day, hours=7))
    volumes.policy_volumes_disassociate(
        policy=policy,
        items=[ResourceItem(str(two_volumes[0].resource_id), "volume")],
        actor=audit.Actor.command(),
    )

    assert retention.retain_orphaned_backups(now=MONDAY + timedelta(days=60)) == 0
    assert Backup.objects.count() == 2


def test_orphan_retention_leaves_alone_the_backups_a_policy_still_holds(tenant, two_volumes):
    policy = daily_policy(tenant, start_time="07:00", rentention_day=2, rentention_num=None)
    associate(policy, two_volumes[:1])
    run_due(MONDAY + timedelta(hours=7))

    assert retention.retain_orphaned_backups(now=MONDAY + timedelta(days=30)) == 0
    assert Backup.objects.count() == 1


def test_a_backup_that_would_pass_the_projects_storage_limit_is_refused_before_it_starts(
    tenant, two_volumes, settings
):
    settings.BACKUP_PROJECT_LIMIT_BYTES = 8000  # disk-a is 5000 bytes: room for one backup
    policy = daily_policy(tenant, status="OFF")
    associate(policy, two_volumes[:1])
    press_run_now(policy, MONDAY)

    [task] = volumes.policy_execute(
        policy=policy, actor=audit.Actor.command(), now=MONDAY + timedelta(hours=1)
    )
    assert execution.execute_task(task.pk) == Status.EXECUTE_FAIL

    task.refresh_from_db()
    assert "refused: the project's backups hold 5000 bytes of its 8000-byte storage limit" in task.message
    assert Backup.objects.count() == 1
    assert len(list(Path(settings.LOCAL_BACKUP_ROOT).rglob("autobk_*"))) == 1


def test_another_projects_backups_do_not_count_toward_a_projects_limit(
    tenant, other_tenant, two_volumes, settings
):
    settings.BACKUP_PROJECT_LIMIT_BYTES = 8000
    policy = daily_policy(tenant, status="OFF")
    associate(policy, two_volumes[:1])
    other = daily_policy(other_tenant, status="OFF")

    associate(other, make_volumes(other_tenant, {"b.img": b"b" * 7000}))
    press_run_now(other, MONDAY)

    press_run_now(policy, MONDAY)  # succeeds: tenant-a holds nothing yet

    assert Backup.objects.filter(tenant=tenant).count() == 1
