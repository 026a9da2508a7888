"""Backups in the project's chunk store: unchanged data stored once, collected after retention, old full copies kept usable."""

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import blake3
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from policies import audit, volumes
from policies.models import Backup, BackupTask
from policies.runs import execution, retention, scheduler
from policies.runs.providers import ProviderError, chunkstore, get_provider
from tests.helpers.runs import (
    MONDAY,
    associate,
    backup_content,
    backup_files,
    chunk_files,
    daily_policy,
    make_volumes,
    write_volume,
)

pytestmark = pytest.mark.django_db

Status = BackupTask.Status
BLOCK = chunkstore.CHUNK_SIZE
SHARED = bytes(range(256)) * (BLOCK // 256)  # one whole chunk that every backup below holds


def run_now(policy) -> BackupTask:
    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    assert execution.execute_task(task.pk) == Status.EXECUTE_SUCCESS
    task.refresh_from_db()
    return task


def age_chunks(project_id: str, seconds: float = 86400) -> None:
    """Make every chunk look older than the collector's margin (as if written a day ago)."""
    then = time.time() - seconds
    for chunk in chunk_files(project_id):
        os.utime(chunk, (then, then))


def test_a_second_backup_of_an_unchanged_volume_writes_no_new_chunk(tenant):
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": SHARED + b"tail" * 1000}))
    first = run_now(policy)
    chunks = {path: path.stat().st_ino for path in chunk_files(tenant.project_id)}

    second = run_now(policy)

    assert len(chunks) == 2
    assert {path: path.stat().st_ino for path in chunk_files(tenant.project_id)} == chunks
    assert "(0 B new in 0 of 2 chunks)" in second.message
    assert "(4 MiB new in 2 of 2 chunks)" in first.message
    assert [backup_content(b.locator) for b in Backup.objects.all()] == [SHARED + b"tail" * 1000] * 2


def test_a_changed_volume_writes_only_its_changed_chunk(tenant):
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": SHARED + b"monday"}))
    run_now(policy)
    write_volume(tenant.project_id, "disk.img", SHARED + b"tuesday")

    second = run_now(policy)

    assert "(7 B new in 1 of 2 chunks)" in second.message
    assert len(chunk_files(tenant.project_id)) == 3


def test_retention_then_collection_remove_the_chunks_only_the_deleted_backup_named(tenant):
    policy = daily_policy(tenant, start_time="06:00", rentention_num=2)
    associate(policy, make_volumes(tenant, {"disk.img": SHARED + b"day 0"}))
    tails = {}
    for day in range(3):
        write_volume(tenant.project_id, "disk.img", SHARED + f"day {day}".encode())
        tails[day] = blake3.blake3(f"day {day}".encode()).hexdigest()
        moment = MONDAY + timedelta(days=day, hours=6)
        scheduler.scheduler_tick(now=moment)
        [task] = BackupTask.objects.filter(status=Status.WAITING)
        age_chunks(tenant.project_id)  # what is in the store is a day old when this backup starts
        assert execution.execute_task(task.pk, now=moment) == Status.EXECUTE_SUCCESS

    names = {path.name for path in chunk_files(tenant.project_id)}
    assert Backup.objects.count() == 2
    assert tails[0] not in names  # only day 0's backup named it: gone with it
    assert {tails[1], tails[2], blake3.blake3(SHARED).hexdigest()} == names
    assert sorted(p.name for p in backup_files()) == sorted(
        Path(locator).name for locator in Backup.objects.values_list("locator", flat=True)
    )


def test_without_retention_deleting_nothing_no_chunk_is_collected(tenant):
    policy = daily_policy(tenant, start_time="06:00", rentention_num=5)
    associate(policy, make_volumes(tenant, {"disk.img": b"x"}))
    for day in range(3):
        write_volume(tenant.project_id, "disk.img", f"day {day}".encode())
        moment = MONDAY + timedelta(days=day, hours=6)
        scheduler.scheduler_tick(now=moment)
        [task] = BackupTask.objects.filter(status=Status.WAITING)
        age_chunks(tenant.project_id)
        assert execution.execute_task(task.pk, now=moment) == Status.EXECUTE_SUCCESS

    assert len(chunk_files(tenant.project_id)) == 3


def test_the_hourly_collection_runs_once_per_project_and_hour(tenant, other_tenant):
    for project in (tenant, other_tenant):
        policy = daily_policy(project, status="OFF")
        associate(policy, make_volumes(project, {"disk.img": b"data of " + project.project_id.encode()}))
        run_now(policy)
    provider = get_provider()
    [backup] = Backup.objects.filter(tenant=tenant)
    provider.delete_backup(tenant.project_id, backup.locator)
    backup.delete()
    age_chunks(tenant.project_id)
    nine = MONDAY + timedelta(hours=9)

    assert retention.collect_hourly(now=nine) == 2
    assert chunk_files(tenant.project_id) == []
    assert len(chunk_files(other_tenant.project_id)) == 1
    assert retention.collect_hourly(now=nine + timedelta(minutes=59)) == 0
    assert retention.collect_hourly(now=nine + timedelta(hours=1)) == 2


def test_the_storage_limit_counts_the_stores_chunks_once(tenant, two_volumes, settings):
    # disk-a is 5000 bytes: two backups of it hold 5000 bytes of chunks, so a third fits in 12000.
    settings.BACKUP_PROJECT_LIMIT_BYTES = 12000
    policy = daily_policy(tenant, status="OFF")
    associate(policy, two_volumes[:1])
    run_now(policy)
    run_now(policy)

    run_now(policy)

    assert Backup.objects.count() == 3


def test_the_storage_limit_still_refuses_what_the_stores_chunks_do_not_leave_room_for(
    tenant, two_volumes, settings
):
    settings.BACKUP_PROJECT_LIMIT_BYTES = 9999
    policy = daily_policy(tenant, status="OFF")
    associate(policy, two_volumes[:1])
    run_now(policy)

    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    assert execution.execute_task(task.pk) == Status.EXECUTE_FAIL

    task.refresh_from_db()
    assert "refused: the project's backups hold 5000 bytes of its 9999-byte storage limit" in task.message


# -- backups made before the store: full copies


OLD_CONTENT = b"a backup made as a full copy" * 100


@pytest.fixture
def full_copy(tenant, two_volumes) -> Backup:
    """A backup as the provider wrote them before the store: a file named by the backup."""
    folder = Path(settings.LOCAL_BACKUP_ROOT) / tenant.project_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "autobk_0ld0ld00-1").write_bytes(OLD_CONTENT)
    return Backup.objects.create(
        tenant=tenant,
        volume=two_volumes[0],
        resource_id=two_volumes[0].resource_id,
        name="autobk_0ld0ld00",
        provider="local",
        locator=f"{tenant.project_id}/autobk_0ld0ld00-1",
        size_bytes=len(OLD_CONTENT),
        sha256=hashlib.sha256(OLD_CONTENT).hexdigest(),
        taken_at=MONDAY,
        manual=True,
    )


def test_an_old_full_copy_backup_is_checked_restored_and_deleted(full_copy, tmp_path):
    provider = get_provider()
    target = tmp_path / "restored.img"

    assert provider.check_backup(full_copy.tenant.project_id, full_copy.locator)
    call_command("restore_backup", str(full_copy.pk), "--to", str(target))
    assert target.read_bytes() == OLD_CONTENT

    provider.delete_backup(full_copy.tenant.project_id, full_copy.locator)
    assert backup_files() == []
    assert not provider.check_backup(full_copy.tenant.project_id, full_copy.locator)


def test_an_old_full_copy_with_a_flipped_byte_is_refused(full_copy, tmp_path):
    path = Path(settings.LOCAL_BACKUP_ROOT) / full_copy.locator
    path.write_bytes(b"A" + OLD_CONTENT[1:])
    target = tmp_path / "restored.img"

    with pytest.raises(CommandError, match="is damaged: its SHA-256 is"):
        call_command("restore_backup", str(full_copy.pk), "--to", str(target))
    assert not target.exists()


# -- a damaged chunk


def test_a_flipped_byte_in_a_chunk_fails_the_restore_by_name_and_leaves_the_target_untouched(
    tenant, tmp_path
):
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": SHARED + b"tail" * 1000}))
    run_now(policy)
    tail = blake3.blake3(b"tail" * 1000).hexdigest()
    [chunk] = [path for path in chunk_files(tenant.project_id) if path.name == tail]
    damaged = bytearray(chunk.read_bytes())
    damaged[10] ^= 0x01
    chunk.write_bytes(bytes(damaged))
    target = tmp_path / "restored.img"
    target.write_bytes(b"what the target held")

    with pytest.raises(CommandError) as refused:
        call_command("restore_backup", str(Backup.objects.get().pk), "--to", str(target), "--force")

    assert f"is damaged: chunk 1 ({tail})" in str(refused.value)
    assert "its content does not match its digest" in str(refused.value)
    assert f"{target} is left as it was" in str(refused.value)
    assert target.read_bytes() == b"what the target held"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["restored.img"]


def test_a_missing_chunk_makes_the_backup_not_usable_so_retention_does_not_count_it(tenant):
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": b"only chunk"}))
    run_now(policy)
    backup = Backup.objects.get()
    provider = get_provider()
    assert provider.check_backup(tenant.project_id, backup.locator)

    [chunk] = chunk_files(tenant.project_id)
    chunk.unlink()

    assert not provider.check_backup(tenant.project_id, backup.locator)


def test_a_locator_into_another_projects_store_is_refused(tenant, other_tenant):
    policy = daily_policy(other_tenant, status="OFF")
    associate(policy, make_volumes(other_tenant, {"disk.img": b"B's data"}))
    run_now(policy)
    theirs = Backup.objects.get().locator

    with pytest.raises(ProviderError, match="is not a backup of project"):
        get_provider().delete_backup(tenant.project_id, theirs)
    assert get_provider().check_backup(other_tenant.project_id, theirs)


def test_an_unchanged_volume_file_is_not_read_again_but_a_changed_one_is(tenant, monkeypatch):
    # Trust the file's times at once: the test's volume is written a moment before its backup.
    monkeypatch.setattr(chunkstore.write, "SETTLED_SECONDS", -60.0)
    policy = daily_policy(tenant, status="OFF")
    associate(policy, make_volumes(tenant, {"disk.img": SHARED + b"monday"}))
    run_now(policy)

    unchanged = run_now(policy)
    with open(Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "disk.img", "r+b") as volume:
        volume.seek(BLOCK)
        volume.write(b"sunday")  # same size, same inode: only its times say it changed
    changed = run_now(policy)

    assert "(unchanged since its previous backup, not read again)" in unchanged.message
    assert "(6 B new in 1 of 2 chunks)" in changed.message
    contents = [backup_content(b.locator) for b in Backup.objects.order_by("created_at")]
    assert contents == [SHARED + b"monday", SHARED + b"monday", SHARED + b"sunday"]
