"""Manual backups, deletes and restores: the services' refusals, the worker's restore, the sweep's take-back."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from policies import audit, backups
from policies.domain.contract import backups as rules
from policies.models import AuditEvent, Backup, BackupTask, Restore, Volume
from policies.runs import execution, retention, sweep
from policies.runs import restore as restoring
from policies.runs.providers import get_provider
from tests.helpers.runs import chunk_files, make_volumes, write_volume

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 200  # 50 KiB
CHANGED = b"written after the backup" * 100


@pytest.fixture
def volume(tenant) -> Volume:
    return make_volumes(tenant, {"db.img": CONTENT})[0]


def made_backup(tenant, volume, name="nightly copy") -> Backup:
    body = rules.CreateBody(volume.resource_id, name, "before the upgrade")
    backup = backups.backup_create(tenant=tenant, body=body, actor=audit.Actor.command())
    assert backup.status == Backup.Status.CREATING
    execution.execute_task(backup.task_id)
    backup.refresh_from_db()
    return backup


@pytest.fixture
def backup(tenant, volume) -> Backup:
    return made_backup(tenant, volume)


def damage(backup) -> None:
    """Flip one byte of the backup's stored bytes (its one chunk: 50 KiB is less than a chunk)."""
    [chunk] = chunk_files(backup.tenant.project_id)
    damaged = bytearray(chunk.read_bytes())
    damaged[100] ^= 0x01
    chunk.write_bytes(bytes(damaged))


def volume_file(tenant, name) -> Path:
    return Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / name


def start(backup, volume_id=None, name=None) -> Restore:
    return backups.restore_start(
        backup=backup, body=rules.RestoreBody(volume_id, name), actor=audit.Actor.command()
    )


def test_a_manual_backup_is_creating_then_available_with_its_name_digest_and_audit(tenant, backup):
    assert backup.status == Backup.Status.AVAILABLE
    assert backup.name == "nightly copy"
    assert backup.description == "before the upgrade"
    assert backup.size_bytes == len(CONTENT)
    assert len(backup.sha256) == 64
    event = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_CREATE)
    assert event.entrance == "command"
    assert event.changes["backup"]["after"] == str(backup.pk)


def test_a_manual_backup_that_fails_is_error_with_its_reason(tenant, volume):
    volume_file(tenant, "db.img").unlink()
    body = rules.CreateBody(volume.resource_id, "", "")
    backup = backups.backup_create(tenant=tenant, body=body, actor=audit.Actor.command())
    execution.execute_task(backup.task_id)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.ERROR
    assert "no longer exists" in backup.fail_reason


def test_a_restore_into_a_new_volume_makes_a_file_the_inventory_lists(tenant, backup):
    restore = start(backup, name="db-restored.img")
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.RESTORING

    assert restoring.execute_restore(restore.pk) == Restore.Status.SUCCEEDED

    assert volume_file(tenant, "db-restored.img").read_bytes() == CONTENT
    restore.refresh_from_db()
    assert restore.volume.name == "db-restored.img"
    assert restore.bytes_done == len(CONTENT)
    assert restore.message.startswith("restored 50 KiB into db-restored.img")  # as the size columns say
    backup.refresh_from_db()
    assert backup.status == Backup.Status.AVAILABLE
    assert backup.verify_status == Backup.Verify.OK
    event = AuditEvent.objects.get(action=AuditEvent.Action.RESTORE)
    assert event.changes["target"]["after"] == "new volume db-restored.img"


@pytest.mark.parametrize("name", ["n" * 255, "é" * 127 + "n"])
def test_a_new_volume_with_the_longest_name_allowed_is_restored(tenant, backup, name):
    # 255 bytes: the longest file name; the file written aside beside it must fit too.
    assert rules.new_volume_name_problem(name) is None
    restore = start(backup, name=name)

    assert restoring.execute_restore(restore.pk) == Restore.Status.SUCCEEDED

    assert volume_file(tenant, name).read_bytes() == CONTENT
    assert [p.name for p in volume_file(tenant, name).parent.iterdir()] == sorted(["db.img", name])


def test_a_restore_over_a_volume_gives_back_the_bytes_of_the_backup(tenant, volume, backup):
    write_volume(tenant.project_id, "db.img", CHANGED)
    restore = start(backup, volume_id=volume.resource_id)
    assert restoring.execute_restore(restore.pk) == Restore.Status.SUCCEEDED
    assert volume_file(tenant, "db.img").read_bytes() == CONTENT
    # The inventory follows the new file, so the next backup reads it.
    again = made_backup(tenant, Volume.objects.get(pk=volume.pk), name="after")
    assert again.status == Backup.Status.AVAILABLE
    assert again.sha256 == backup.sha256


def test_a_damaged_backup_leaves_the_target_untouched_and_fails_verification(tenant, volume, backup):
    write_volume(tenant.project_id, "db.img", CHANGED)
    damage(backup)
    restore = start(backup, volume_id=volume.resource_id)

    assert restoring.execute_restore(restore.pk) == Restore.Status.FAILED

    assert volume_file(tenant, "db.img").read_bytes() == CHANGED
    assert [p.name for p in volume_file(tenant, "db.img").parent.iterdir()] == ["db.img"]
    backup.refresh_from_db()
    assert backup.status == Backup.Status.ERROR
    assert backup.verify_status == Backup.Verify.FAILED
    assert "failed verification" in backup.fail_reason
    assert "untouched" in backup.fail_reason
    restore.refresh_from_db()
    assert restore.status == Restore.Status.FAILED
    assert restore.message == backup.fail_reason


def test_a_damaged_backup_restored_into_a_new_volume_makes_no_volume(tenant, backup):
    damage(backup)
    restore = start(backup)
    assert restoring.execute_restore(restore.pk) == Restore.Status.FAILED
    assert not volume_file(tenant, f"restore-{backup.name}").exists()
    assert not Volume.objects.filter(name=f"restore-{backup.name}").exists()


def test_a_backup_being_restored_is_not_deleted_nor_restored_again(backup):
    start(backup, name="one.img")
    with pytest.raises(backups.BackupBusy) as refused:
        backups.backup_delete(backup=backup, actor=audit.Actor.command())
    assert refused.value.problem.code == "AutoBackup.0242"
    with pytest.raises(backups.BackupBusy):
        start(backup, name="two.img")
    assert Path(settings.LOCAL_BACKUP_ROOT, backup.locator).exists()


def test_a_volume_being_backed_up_or_restored_is_not_restored_over(tenant, volume, backup):
    body = rules.CreateBody(volume.resource_id, "", "")
    backups.backup_create(tenant=tenant, body=body, actor=audit.Actor.command())  # its task waits
    with pytest.raises(backups.VolumeBusy, match="being backed up"):
        start(backup, volume_id=volume.resource_id)
    BackupTask.objects.update(status=BackupTask.Status.EXECUTE_SUCCESS)
    other = made_backup(tenant, volume, name="second")
    start(backup, volume_id=volume.resource_id)
    with pytest.raises(backups.VolumeBusy, match="being restored"):
        start(other, volume_id=volume.resource_id)
    with pytest.raises(backups.VolumeBusy, match="cannot be backed up"):
        backups.backup_create(tenant=tenant, body=body, actor=audit.Actor.command())


def test_a_new_volume_name_must_be_plain_and_free(tenant, backup):
    with pytest.raises(backups.BadVolumeName, match="plain name"):
        start(backup, name="../escape")
    with pytest.raises(backups.BadVolumeName, match="already has a volume"):
        start(backup, name="db.img")
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.AVAILABLE


def test_delete_removes_the_copy_then_the_row_and_is_audited(backup):
    stored = Path(settings.LOCAL_BACKUP_ROOT) / backup.locator
    backups.backup_delete(backup=backup, actor=audit.Actor.command())
    assert not stored.exists()
    assert not Backup.objects.filter(pk=backup.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_DELETE)
    assert event.changes["backup"]["before"] == str(backup.pk)


def test_retention_spares_a_backup_being_restored(tenant, backup):
    Backup.objects.filter(pk=backup.pk).update(manual=False)
    start(backup, name="kept.img")
    spec = type("Spec", (), {"name": "p"})()
    provider = get_provider()
    keeps_none = lambda spec, taken, now: [False] * len(taken)  # noqa: E731
    original = retention.simulation.retention_keeps
    retention.simulation.retention_keeps = keeps_none
    try:
        deleted = retention._retain(Backup.objects.all(), spec, now=timezone.now(), provider=provider)
    finally:
        retention.simulation.retention_keeps = original
    assert deleted == 0
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.RESTORING


def test_a_restore_whose_worker_died_is_taken_back_and_the_backup_available_again(tenant, volume, backup):
    write_volume(tenant.project_id, "db.img", CHANGED)
    restore = start(backup, volume_id=volume.resource_id)
    now = timezone.now()
    assert restoring._claim(restore.pk, now) is not None  # the worker took it, then died
    leftover = volume_file(tenant, ".db.img.restore-0badf00d")
    leftover.write_bytes(CONTENT[:1000])  # what it had written aside

    assert sweep.sweep_stale_tasks(now=now + timedelta(seconds=1)) == 0
    assert Restore.objects.get(pk=restore.pk).status == Restore.Status.RUNNING  # lease not passed
    later = now + timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS + settings.BACKUP_LEASE_GRACE_SECONDS + 1)
    assert sweep.sweep_stale_tasks(now=later) == 1

    restore.refresh_from_db()
    assert restore.status == Restore.Status.FAILED
    assert "lease expired" in restore.message
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.AVAILABLE
    assert volume_file(tenant, "db.img").read_bytes() == CHANGED
    assert not leftover.exists()
    # A late worker finds it settled and does nothing.
    assert restoring.execute_restore(restore.pk) is None


def test_the_restore_command_is_audited_and_checks_the_digest(tenant, backup, tmp_path):
    target = tmp_path / "out.img"
    call_command("restore_backup", backup.name, "--to", str(target))
    assert target.read_bytes() == CONTENT
    event = AuditEvent.objects.get(action=AuditEvent.Action.RESTORE)
    assert event.entrance == "command"
    assert event.changes["target"]["after"] == f"file {target}"
    restore = Restore.objects.get()
    assert restore.status == Restore.Status.SUCCEEDED
    assert restore.bytes_done == len(CONTENT)
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.AVAILABLE


def test_the_restore_command_marks_a_damaged_backup_and_refuses_a_busy_one(tenant, backup, tmp_path):
    damage(backup)
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore_backup", str(backup.pk), "--to", str(tmp_path / "out.img"))
    assert not (tmp_path / "out.img").exists()
    assert Backup.objects.get(pk=backup.pk).verify_status == Backup.Verify.FAILED
    assert Backup.objects.get(pk=backup.pk).status == Backup.Status.ERROR
    assert Restore.objects.get().status == Restore.Status.FAILED
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.AVAILABLE)  # as if repaired
    start(backup, name="busy.img")
    with pytest.raises(CommandError, match="restoring"):
        call_command("restore_backup", str(backup.pk), "--to", str(tmp_path / "out.img"))


def test_an_audit_record_of_a_backup_names_it(backup):
    assert str(AuditEvent.objects.get()) == f"Create a backup {backup.pk} by nobody (command)"


def test_a_volume_being_restored_is_not_backed_up_meanwhile(tenant, volume, backup):
    start(backup, volume_id=volume.resource_id)
    task = BackupTask.objects.create(
        tenant=tenant,
        policy_name="",
        volume=volume,
        resource_id=volume.resource_id,
        scheduled_at=timezone.now(),
        manual=True,
        backup_name="autobk_0123456789ab",
    )
    assert execution.execute_task(task.pk) == BackupTask.Status.EXECUTE_FAIL
    task.refresh_from_db()
    assert "being restored" in task.message
