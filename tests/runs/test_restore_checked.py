"""restore_backup checks the backup's digest and writes aside: a damaged backup or a failure leaves PATH as it was."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from policies import audit, volumes
from policies.models import Backup
from policies.runs import execution
from tests.helpers.runs import associate, chunk_files, daily_policy, make_volumes
from tests.helpers.worker_process import ROOT, database_url

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 200  # 50 KiB
OLD = b"what PATH held before"


@pytest.fixture
def backup(tenant) -> Backup:
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"db.img": CONTENT}))
    execution.execute_task(volumes.policy_execute(policy=policy, actor=audit.Actor.command())[0].pk)
    return Backup.objects.get()


@pytest.fixture
def target(tmp_path) -> Path:
    path = tmp_path / "restored.img"
    path.write_bytes(OLD)
    return path


def stored(backup) -> Path:
    """The file that holds the backup's bytes: its one chunk (50 KiB is less than a chunk)."""
    [chunk] = chunk_files(backup.tenant.project_id)
    return chunk


def restore(reference, target, capsys=None) -> str:
    call_command("restore_backup", reference, "--to", str(target), "--force")
    return capsys.readouterr().out if capsys else ""


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_an_intact_backup_is_restored_by_id_and_its_real_size_reported(backup, target, capsys):
    out = restore(str(backup.pk), target, capsys)

    assert target.read_bytes() == CONTENT
    assert f"({len(CONTENT)} bytes, SHA-256 {backup.sha256[:12]}… verified)" in out
    assert leftovers(target.parent) == ["restored.img"]


def test_a_backup_is_found_by_its_name_too(backup, target):
    restore(backup.name, target)

    assert target.read_bytes() == CONTENT


def test_a_backup_with_one_flipped_byte_is_refused_and_path_is_untouched(backup, target):
    damaged = bytearray(stored(backup).read_bytes())
    damaged[1000] ^= 0x01
    stored(backup).write_bytes(bytes(damaged))

    with pytest.raises(CommandError, match="is damaged: chunk 0 .*does not match its digest"):
        restore(str(backup.pk), target)

    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == ["restored.img"]


def test_a_truncated_backup_is_refused_with_the_size_actually_read(backup, target):
    stored(backup).write_bytes(stored(backup).read_bytes()[:100])

    with pytest.raises(CommandError, match=f"100 bytes instead of {len(CONTENT)}"):
        restore(str(backup.pk), target)

    assert target.read_bytes() == OLD


def test_a_full_disk_leaves_path_untouched_and_no_partial_file(backup, target, monkeypatch):
    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("policies.runs.providers.local.os.fsync", disk_full)

    with pytest.raises(CommandError, match="No space left on device"):
        restore(str(backup.pk), target)

    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == ["restored.img"]


def test_a_folder_that_cannot_be_synced_after_the_rename_is_reported_as_such(backup, target, monkeypatch):
    real_fsync = os.fsync

    def folder_fails(fd):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr("policies.runs.providers.local.os.fsync", folder_fails)

    with pytest.raises(CommandError, match="wrote it, but its folder could not be synced") as refused:
        restore(str(backup.pk), target)

    assert "left as it was" not in str(refused.value)  # it is not: the restored bytes are in place
    assert target.read_bytes() == CONTENT
    assert leftovers(target.parent) == ["restored.img"]


def test_a_dangling_symlink_at_path_is_refused_and_its_target_not_written(backup, tmp_path):
    link = tmp_path / "link.img"
    link.symlink_to(tmp_path / "elsewhere.img")

    with pytest.raises(CommandError, match="is a symbolic link: refused"):
        restore(str(backup.pk), link)

    assert not (tmp_path / "elsewhere.img").exists()
    assert link.is_symlink()


def test_a_symlink_to_an_existing_file_at_path_is_refused(backup, tmp_path, target):
    link = tmp_path / "link.img"
    link.symlink_to(target)

    with pytest.raises(CommandError, match="is a symbolic link: refused"):
        restore(str(backup.pk), link)

    assert target.read_bytes() == OLD


def test_a_hard_linked_path_is_refused(backup, tmp_path, target):
    os.link(target, tmp_path / "other-name.img")

    with pytest.raises(CommandError, match="has 2 hard links: refused"):
        restore(str(backup.pk), target)

    assert target.read_bytes() == OLD


def test_an_unknown_name_is_refused(backup, target):
    with pytest.raises(CommandError, match="no backup 'autobk_nope'"):
        restore("autobk_nope", target)


def test_a_path_in_a_missing_folder_is_refused_with_a_message(backup, tmp_path):
    with pytest.raises(CommandError, match="cannot write into .*: No such file or directory"):
        restore(str(backup.pk), tmp_path / "nowhere" / "out.img")


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_on_a_damaged_backup(backup, target):
    stored(backup).write_bytes(b"x" * 100)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOCAL_VOLUME_ROOT": str(settings.LOCAL_VOLUME_ROOT),
        "LOCAL_BACKUP_ROOT": str(settings.LOCAL_BACKUP_ROOT),
    }

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "restore_backup",
            str(backup.pk),
            "--to",
            str(target),
            "--force",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 1
    assert "is damaged" in done.stderr
    assert target.read_bytes() == OLD
