"""The local provider reads exactly the file it listed: no link of any kind leads it elsewhere."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from policies import audit, volumes
from policies.models import Backup, BackupTask, Volume
from policies.runs import execution, inventory
from policies.runs.providers import ProviderError
from policies.runs.providers.local import LocalProvider
from tests.helpers.runs import associate, daily_policy, is_chunk, make_volumes, write_volume

pytestmark = pytest.mark.django_db

Status = BackupTask.Status
SECRET = b"project B's secret data " * 100


def provider() -> LocalProvider:
    return LocalProvider(settings.LOCAL_VOLUME_ROOT, settings.LOCAL_BACKUP_ROOT)


def listed_volume(tenant) -> Volume:
    """Project A's volume, listed while it is an ordinary file, in a policy."""
    volume = make_volumes(tenant, {"disk.img": b"A" * 4000})[0]
    associate(daily_policy(tenant, status="OFF"), [volume])
    return volume


def back_up(tenant) -> BackupTask:
    task = volumes.policy_execute(
        policy=Volume.objects.get(name="disk.img").policy, actor=audit.Actor.command()
    )[0]
    execution.execute_task(task.pk)
    task.refresh_from_db()
    return task


def every_backup_byte() -> bytes:
    """The bytes of every chunk (and full copy) the backups hold: a volume's data, nothing else."""
    files = [
        p
        for p in Path(settings.LOCAL_BACKUP_ROOT).rglob("*")
        if p.is_file() and (is_chunk(p) or ".store" not in p.parts)
    ]
    return b"".join(p.read_bytes() for p in files)


def volume_path(tenant, name="disk.img") -> Path:
    return Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / name


def replace_with_symlink(path: Path, target) -> None:
    path.unlink()
    path.symlink_to(target)


@pytest.fixture
def secret_of_b(other_tenant) -> Path:
    return write_volume(other_tenant.project_id, "b-secret.img", SECRET)


@pytest.fixture
def outside_file(tmp_path) -> Path:
    path = tmp_path / "shadow"
    path.write_bytes(b"root:$6$secret-hash:19000:0:99999:7:::\n" * 50)
    return path


def assert_refused(task: BackupTask, reason: str) -> None:
    assert task.status == Status.EXECUTE_FAIL
    assert reason in task.message
    assert not Backup.objects.exists()


def test_a_symlink_to_another_projects_file_is_not_copied(tenant, secret_of_b):
    listed_volume(tenant)
    replace_with_symlink(volume_path(tenant), Path("..") / "tenant-b" / "b-secret.img")

    task = back_up(tenant)

    assert_refused(task, "is now a symbolic link: refused")
    assert SECRET[:40] not in every_backup_byte()


def test_a_symlink_to_a_file_outside_the_volumes_is_not_copied(tenant, outside_file):
    listed_volume(tenant)
    replace_with_symlink(volume_path(tenant), outside_file)

    task = back_up(tenant)

    assert_refused(task, "is now a symbolic link: refused")
    assert b"secret-hash" not in every_backup_byte()


def test_a_symlink_to_the_workers_environment_is_not_copied(tenant):
    listed_volume(tenant)
    replace_with_symlink(volume_path(tenant), "/proc/self/environ")

    task = back_up(tenant)

    assert_refused(task, "is now a symbolic link: refused")
    assert b"DJANGO_SETTINGS_MODULE" not in every_backup_byte()
    assert b"PATH=" not in every_backup_byte()


def test_a_hard_link_to_another_projects_file_is_not_copied(tenant, secret_of_b):
    listed_volume(tenant)
    volume_path(tenant).unlink()
    os.link(secret_of_b, volume_path(tenant))

    task = back_up(tenant)

    assert_refused(task, "has 2 hard links: refused")
    assert SECRET[:40] not in every_backup_byte()


def test_a_file_put_in_the_listed_ones_place_is_not_copied_until_a_sync_lists_it(tenant, outside_file):
    volume = listed_volume(tenant)
    other = volume_path(tenant).with_name(".incoming")
    other.write_bytes(b"swapped in")
    other.replace(volume_path(tenant))  # same name, another inode

    assert_refused(back_up(tenant), "is not the file listed")

    inventory.volumes_sync(tenant=tenant)
    volume.refresh_from_db()
    BackupTask.objects.all().delete()
    assert back_up(tenant).status == Status.EXECUTE_SUCCESS


def test_a_project_folder_that_is_a_symlink_is_neither_listed_nor_read(tenant, other_tenant, secret_of_b):
    listed_volume(tenant)
    folder = volume_path(tenant).parent
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.symlink_to(secret_of_b.parent)  # tenant-a -> tenant-b

    with pytest.raises(ProviderError, match="is a symbolic link or not a folder: refused"):
        provider().list_volumes(tenant.project_id)
    write_volume(other_tenant.project_id, "disk.img", SECRET)  # the name the listed volume had
    task = back_up(tenant)

    assert_refused(task, "is a symbolic link or not a folder: refused")
    assert SECRET[:40] not in every_backup_byte()


def test_the_listing_skips_symlinks_and_hard_links_and_says_why(tenant, secret_of_b, outside_file, caplog):
    write_volume(tenant.project_id, "real.img", b"r")
    volume_path(tenant, "link.img").symlink_to(outside_file)
    os.link(secret_of_b, volume_path(tenant, "hard.img"))

    listed = provider().list_volumes(tenant.project_id)

    assert [volume.name for volume in listed] == ["real.img"]
    assert "'link.img' skipped: a symbolic link is never a volume" in caplog.text
    assert "'hard.img' skipped: it has 2 hard links" in caplog.text


def test_an_ordinary_volume_is_still_backed_up(tenant):
    listed_volume(tenant)

    task = back_up(tenant)

    assert task.status == Status.EXECUTE_SUCCESS
    assert every_backup_byte() == b"A" * 4000
