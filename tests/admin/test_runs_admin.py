"""The admin lists volumes, backup tasks (read-only) and backups; deleting a backup deletes its copy."""

from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies import audit, volumes
from policies.models import AuditEvent, Backup, BackupTask, Restore, Volume
from policies.runs import execution
from tests.helpers.runs import associate, daily_policy, make_volumes

pytestmark = pytest.mark.django_db


@pytest.fixture
def done(tenant):
    policy = daily_policy(tenant)
    disk = make_volumes(tenant, {"db.img": b"x" * 10})[0]
    associate(policy, [disk])
    task = volumes.policy_execute(policy=policy, actor=audit.Actor.command())[0]
    execution.execute_task(task.pk)
    return task


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-1234-abcd")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ["volume", "backuptask", "backup"])
def test_each_list_answers(staff, done, model):
    response = staff.get(reverse(f"admin:policies_{model}_changelist"))
    assert response.status_code == HTTPStatus.OK
    assert done.backup_name in response.content.decode() or model == "volume"


def test_a_task_cannot_be_changed_or_deleted(staff, done):
    url = reverse("admin:policies_backuptask_change", args=[done.pk])
    assert staff.post(url, {"status": "SKIP"}).status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:policies_backuptask_delete", args=[done.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert BackupTask.objects.get().status == BackupTask.Status.EXECUTE_SUCCESS


def test_deleting_a_backup_deletes_its_copy(staff, done):
    backup = Backup.objects.get()
    copy = Path(settings.LOCAL_BACKUP_ROOT) / backup.locator
    assert copy.exists()

    staff.post(reverse("admin:policies_backup_delete", args=[backup.pk]), {"post": "yes"})

    assert not Backup.objects.exists()
    assert not copy.exists()


def test_the_refresh_action_marks_a_vanished_volume_deleted(staff, done, tenant):
    (Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "db.img").unlink()
    volume = Volume.objects.get()

    staff.post(
        reverse("admin:policies_volume_changelist"),
        {"action": "refresh_inventory", "_selected_action": [volume.pk]},
    )

    volume.refresh_from_db()
    assert (volume.status, volume.policy_id) == (Volume.Status.DELETED, done.policy_id)


def test_the_backups_list_finds_the_manual_backups_retention_never_deletes(staff, done):
    url = reverse("admin:policies_backup_changelist")

    manual = staff.get(url + "?manual__exact=1").content.decode()
    scheduled = staff.get(url + "?manual__exact=0").content.decode()

    assert done.backup_name in manual
    assert done.backup_name not in scheduled


def test_deleting_a_backup_is_audited_with_the_staff_member(staff, done):
    backup = Backup.objects.get()

    staff.post(reverse("admin:policies_backup_delete", args=[backup.pk]), {"post": "yes"})

    record = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_DELETE)
    assert (record.entrance, record.username) == ("admin", "root")


def test_a_backup_being_restored_is_not_deleted_from_the_admin(staff, done):
    backup = Backup.objects.get()
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.RESTORING)

    response = staff.post(
        reverse("admin:policies_backup_delete", args=[backup.pk]), {"post": "yes"}, follow=True
    )

    assert Backup.objects.filter(pk=backup.pk, status=Backup.Status.RESTORING).exists()
    body = response.content.decode()
    assert "is restoring: it cannot be deleted until that finishes" in body
    assert "deleted successfully" not in body


def test_the_restore_action_queues_a_restore_into_a_new_volume(staff, done):
    backup = Backup.objects.get()
    url = reverse("admin:policies_backup_changelist")

    response = staff.post(
        url, {"action": "restore_into_new_volume", "_selected_action": [backup.pk]}, follow=True
    )

    restore = Restore.objects.get()
    assert (restore.backup_id, restore.new_volume, restore.entrance) == (backup.pk, True, "admin")
    assert f"restore into the new volume {restore.volume_name} queued" in response.content.decode()
    assert Backup.objects.get().status == Backup.Status.RESTORING


def test_the_restore_action_says_why_a_busy_backup_is_not_restored(staff, done):
    backup = Backup.objects.get()
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.RESTORING)

    response = staff.post(
        reverse("admin:policies_backup_changelist"),
        {"action": "restore_into_new_volume", "_selected_action": [backup.pk]},
        follow=True,
    )

    assert not Restore.objects.exists()
    assert "is restoring: it cannot be restored until that finishes" in response.content.decode()


def test_the_volume_list_shows_each_volume_s_protection_in_the_core_s_words(staff, done, tenant):
    make_volumes(tenant, {"loose.img": b"l"})
    BackupTask.objects.filter(pk=done.pk).update(status=BackupTask.Status.EXECUTE_FAIL)

    body = staff.get(reverse("admin:policies_volume_changelist")).content.decode()

    assert "At risk: its latest run failed" in body
    assert "Unprotected: no backup policy" in body


def test_the_volume_list_s_queries_do_not_grow_with_its_volumes(staff, done, tenant):
    staff.get(reverse("admin:policies_volume_changelist"))
    with CaptureQueriesContext(connection) as one:
        staff.get(reverse("admin:policies_volume_changelist"))
    associate(daily_policy(tenant), make_volumes(tenant, {f"more-{n}.img": b"m" for n in range(6)}))
    with CaptureQueriesContext(connection) as many:
        staff.get(reverse("admin:policies_volume_changelist"))
    assert len(many) == len(one)
