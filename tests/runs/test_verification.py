"""Verification: each backup read back and its digest compared, soon after it is made and then periodically."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policies import audit, volumes
from policies.management.commands.worker import Scheduler
from policies.models import Backup, BackupTask, Event
from policies.runs import execution, heartbeat, verify
from policies.runs.attempts import lease_length
from policies.runs.providers import TransientProviderError, chunkstore
from tests.helpers.runs import (
    MONDAY,
    associate,
    backup_root,
    daily_policy,
    flip_one_byte,
    make_volumes,
    run_queued_verifications,
)

pytestmark = pytest.mark.django_db

Verify = Backup.Verify


def made_backup(tenant, name="db.img", content=b"D" * 50_000) -> Backup:
    volume = make_volumes(tenant, {name: content})[0]
    policy = daily_policy(tenant, now=timezone.now())  # its first run still to come
    associate(policy, [volume])
    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    assert execution.execute_task(task.pk) == BackupTask.Status.EXECUTE_SUCCESS
    return Backup.objects.get(task=task)


def damage_backup_of(backup) -> None:
    """Flip a byte of a chunk of this backup (a volume whose content no other backup holds)."""
    store = backup_root() / backup.tenant.project_id / ".store"
    digest = chunkstore.read_index(backup_root() / backup.locator, store_root=store).chunks[0][0]
    chunk = store / "chunks" / digest[:2] / digest
    damaged = bytearray(chunk.read_bytes())
    damaged[7] ^= 0x01
    chunk.write_bytes(bytes(damaged))


def minutes_after(backup, minutes):
    return backup.created_at + timedelta(minutes=minutes)


def test_a_backup_is_verified_once_its_first_minutes_have_passed_and_not_before(tenant):
    backup = made_backup(tenant)

    assert verify.queue_due_verifications(now=minutes_after(backup, 9)) == 0
    assert verify.queue_due_verifications(now=minutes_after(backup, 11)) == 1
    assert run_queued_verifications(now=minutes_after(backup, 12)) == [verify.OK]

    backup.refresh_from_db()
    assert (backup.verify_status, backup.status) == (Verify.OK, Backup.Status.AVAILABLE)
    assert backup.verified_at == minutes_after(backup, 12)
    assert backup.verify_lease_until is None


def test_a_tick_with_no_verification_due_reads_once_and_opens_no_transaction(tenant):
    backup = made_backup(tenant)

    with CaptureQueriesContext(connection) as quiet:
        assert verify.queue_due_verifications(now=minutes_after(backup, 9)) == 0
    assert len(quiet) == 1, [query["sql"] for query in quiet]
    with CaptureQueriesContext(connection) as due:
        assert verify.queue_due_verifications(now=minutes_after(backup, 11)) == 1
    assert any("FOR UPDATE" in query["sql"] or "SAVEPOINT" in query["sql"] for query in due)


def test_one_flipped_byte_is_found_the_backup_becomes_error_and_backup_verify_failed_is_written(tenant):
    backup = made_backup(tenant)
    flip_one_byte(tenant.project_id)

    verify.queue_due_verifications(now=minutes_after(backup, 11))
    assert run_queued_verifications(now=minutes_after(backup, 11)) == [verify.FAILED]

    backup.refresh_from_db()
    assert (backup.verify_status, backup.status) == (Verify.FAILED, Backup.Status.ERROR)
    assert "1 of its stored chunks are damaged" in backup.fail_reason
    assert "cannot be restored" in backup.fail_reason
    [event] = Event.objects.filter(type=Event.Type.BACKUP_VERIFY_FAILED)
    assert (event.backup_id, event.volume_id, event.policy_id) == (
        backup.pk,
        backup.resource_id,
        backup.policy_id,
    )
    assert event.details["message"] == backup.fail_reason


def test_a_verified_backup_is_verified_again_after_the_days_and_not_before(tenant, settings):
    settings.BACKUP_VERIFY_EVERY_DAYS = 30
    backup = made_backup(tenant)
    verify.queue_due_verifications(now=minutes_after(backup, 11))
    run_queued_verifications(now=minutes_after(backup, 11))
    verified = minutes_after(backup, 11)

    assert verify.queue_due_verifications(now=verified + timedelta(days=29, hours=23)) == 0
    assert verify.queue_due_verifications(now=verified + timedelta(days=30)) == 1


def test_a_due_backup_is_queued_once_however_many_schedulers_tick(tenant):
    backup = made_backup(tenant)
    now = minutes_after(backup, 11)

    assert [verify.queue_due_verifications(now=now) for _ in range(3)] == [1, 0, 0]


def test_a_verification_waits_while_its_volume_is_backed_up(tenant):
    backup = made_backup(tenant)
    BackupTask.objects.filter(pk=backup.task_id).update(status=BackupTask.Status.RUNNING)
    now = minutes_after(backup, 11)

    assert verify.queue_due_verifications(now=now) == 0
    BackupTask.objects.filter(pk=backup.task_id).update(status=BackupTask.Status.EXECUTE_SUCCESS)
    assert verify.queue_due_verifications(now=now) == 1


def test_a_backup_started_after_the_claim_postpones_the_verification(tenant):
    backup = made_backup(tenant)
    now = minutes_after(backup, 11)
    [claimed] = verify._claim(verify.due_for_verification(now), now, 5)
    BackupTask.objects.filter(pk=backup.task_id).update(status=BackupTask.Status.RUNNING)

    assert verify.execute_verification(backup.pk, lease=claimed.lease, now=now).result == verify.POSTPONED
    backup.refresh_from_db()
    assert (backup.verify_status, backup.verify_lease_until) == (Verify.PENDING, None)


def test_a_worker_killed_mid_verification_leaves_the_backup_pending_taken_again_after_its_lease(tenant):
    backup = made_backup(tenant)
    now = minutes_after(backup, 11)
    assert verify.queue_due_verifications(now=now) == 1  # then the worker dies: nothing settles

    backup.refresh_from_db()
    assert (backup.verify_status, backup.status) == (Verify.PENDING, Backup.Status.AVAILABLE)
    assert verify.queue_due_verifications(now=now + timedelta(minutes=5)) == 0
    assert verify.queue_due_verifications(now=now + lease_length() + timedelta(seconds=1)) == 1
    # The dead worker's lease no longer settles anything: the new claim's does.
    stale = verify.execute_verification(backup.pk, lease=now + lease_length(), now=now)
    assert stale.result == ""
    # The dead worker's queue entry finds the backup no longer its own; the new one verifies it.
    assert run_queued_verifications(now=now + lease_length() + timedelta(minutes=1)) == ["", verify.OK]


class Unreadable:
    name = "local"

    def verify_backup(self, project_id, locator, sha256):
        raise TransientProviderError("the backup disk is not mounted")


def test_a_store_that_cannot_be_read_now_leaves_the_backup_as_it_was(tenant):
    backup = made_backup(tenant)
    now = minutes_after(backup, 11)
    [claimed] = verify._claim(verify.due_for_verification(now), now, 5)

    outcome = verify.execute_verification(backup.pk, lease=claimed.lease, now=now, provider=Unreadable())

    assert outcome.result == verify.POSTPONED
    backup.refresh_from_db()
    assert (backup.verify_status, backup.status, backup.fail_reason) == (Verify.PENDING, "available", "")
    assert not Event.objects.filter(type=Event.Type.BACKUP_VERIFY_FAILED).exists()


def test_verification_deletes_nothing_even_when_it_fails(tenant):
    backup = made_backup(tenant)
    chunk = flip_one_byte(tenant.project_id)
    verify.queue_due_verifications(now=minutes_after(backup, 11))
    run_queued_verifications(now=minutes_after(backup, 11))

    assert chunk.exists()
    assert Backup.objects.filter(pk=backup.pk).exists()


def test_verify_backups_prints_each_outcome_and_exits_zero_when_all_pass(tenant, capsys):
    backup = made_backup(tenant)

    call_command("verify_backups", tenant.project_id)

    out = capsys.readouterr().out
    assert f"{tenant.project_id} {backup.name} ({backup.pk}): ok: read back 50000 bytes" in out
    backup.refresh_from_db()
    assert backup.verify_status == Verify.OK


def test_verify_backups_exits_non_zero_naming_the_damaged_backup(tenant, capsys):
    good = made_backup(tenant, "a.img", b"A" * 50_000)
    bad = made_backup(tenant, "b.img", b"B" * 50_000)
    damage_backup_of(bad)

    with pytest.raises(CommandError, match=r"1 backup\(s\) failed verification") as raised:
        call_command("verify_backups")

    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert f"{bad.name} ({bad.pk}): failed: verification failed" in out
    assert f"{good.name} ({good.pk}): ok" in out


def test_verify_backups_refuses_an_unknown_project(tenant):
    with pytest.raises(CommandError, match="no such project: nope"):
        call_command("verify_backups", "nope")


def test_verify_backups_postpones_a_backup_whose_volume_is_being_backed_up(tenant, capsys):
    backup = made_backup(tenant)
    BackupTask.objects.filter(pk=backup.task_id).update(status=BackupTask.Status.WAITING)

    call_command("verify_backups")

    assert f"({backup.pk}): postponed" in capsys.readouterr().out
    backup.refresh_from_db()
    assert backup.verify_status == Verify.PENDING


def test_the_worker_s_scheduler_queues_the_due_verifications_at_each_step(tenant, settings):
    settings.BACKUP_VERIFY_FIRST_MINUTES = 0
    backup = made_backup(tenant)

    assert Scheduler(tick_seconds=1, sync_seconds=300).step() is True

    assert run_queued_verifications() == [verify.OK]
    backup.refresh_from_db()
    assert backup.verify_status == Verify.OK


def test_a_failing_verification_batch_is_logged_and_the_tick_still_runs(tenant, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("the batch fails")

    monkeypatch.setattr(verify, "queue_due_verifications", broken)

    assert Scheduler(tick_seconds=1, sync_seconds=300).step() is False
    assert "queueing verifications failed" in caplog.text
    assert heartbeat.scheduler_state().last_tick is not None  # the tick itself ran


def test_a_backup_that_failed_verification_is_no_restore_point_for_retention_nor_deleted_by_it(tenant):
    volume = make_volumes(tenant, {"db.img": b"D" * 500})[0]
    policy = daily_policy(tenant, now=timezone.now(), rentention_num=2)
    associate(policy, [volume])
    scheduler_runs = [MONDAY + timedelta(days=day) for day in range(3)]
    made = []
    for moment in scheduler_runs:
        task = BackupTask.objects.create(
            tenant=tenant,
            policy=policy,
            policy_name=policy.name,
            volume=volume,
            resource_id=volume.resource_id,
            scheduled_at=moment,
            backup_name=f"autobk_{moment:%d}0000000000",
        )
        execution.execute_task(task.pk, now=moment)
        made.append(Backup.objects.get(task=task))
        if len(made) == 2:  # the second backup fails verification before the third is made
            Backup.objects.filter(pk=made[1].pk).update(
                verify_status=Verify.FAILED, status=Backup.Status.ERROR
            )

    left = set(Backup.objects.values_list("pk", flat=True))
    # Two good ones kept (the first and the third), and the damaged one left for a person to see.
    assert left == {made[0].pk, made[1].pk, made[2].pk}
