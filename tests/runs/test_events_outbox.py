"""The outbox: each outcome of a backup or a restore writes its event with the change, and only then."""

from datetime import timedelta

import pytest
from django.db import transaction

from policies.models import BackupTask, Event, Restore
from policies.runs import execution, sweep
from policies.runs import restore as restoring
from policies.runs.providers import TransientProviderError
from tests.helpers.runs import MONDAY, associate, daily_policy
from tests.runs.test_backups_given_back import damage, made_backup, start, volume_file
from tests.runs.test_execution import FlakyProvider, queued_task

pytestmark = pytest.mark.django_db

Type = Event.Type


def only_event() -> Event:
    [event] = Event.objects.all()
    return event


def test_a_successful_backup_writes_backup_succeeded_naming_its_backup(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])
    execution.execute_task(task.pk, now=MONDAY)

    event = only_event()
    assert event.type == Type.BACKUP_SUCCEEDED
    assert (event.task_id, event.policy_id, event.volume_id) == (task.pk, task.policy_id, task.resource_id)
    assert event.backup_id == task.backup.pk
    payload = event.payload()
    assert payload["type"] == "backup.succeeded"
    assert payload["timestamp"] == MONDAY.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert payload["data"]["project_id"] == tenant.project_id
    assert payload["data"]["backup_name"] == task.backup_name


def test_a_failed_backup_writes_backup_failed_with_the_providers_message(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])
    volume_file(tenant, "disk-a.img").unlink()
    assert execution.execute_task(task.pk, now=MONDAY) == BackupTask.Status.EXECUTE_FAIL

    event = only_event()
    assert (event.type, event.task_id, event.backup_id) == (Type.BACKUP_FAILED, task.pk, None)
    assert event.details["message"] == "volume file 'disk-a.img' no longer exists"


def test_a_retried_attempt_writes_no_event_until_the_task_ends(tenant, two_volumes, settings):
    settings.BACKUP_MAX_ATTEMPTS = 2
    task = queued_task(tenant, two_volumes[0])
    flaky = FlakyProvider(failures=2, error=TransientProviderError)

    assert execution.execute_task(task.pk, now=MONDAY, provider=flaky) == BackupTask.Status.WAITING
    assert not Event.objects.exists()
    assert execution.execute_task(task.pk, now=MONDAY, provider=flaky) == BackupTask.Status.EXECUTE_FAIL
    assert only_event().type == Type.BACKUP_FAILED


def test_a_task_the_sweep_gives_up_on_writes_backup_failed(tenant, two_volumes, settings):
    settings.BACKUP_MAX_ATTEMPTS = 1
    task = queued_task(tenant, two_volumes[0])
    claimed = execution._claim(task.pk, MONDAY)

    sweep.sweep_stale_tasks(now=claimed.lease_until + timedelta(seconds=1))

    event = only_event()
    assert event.type == Type.BACKUP_FAILED
    assert "gave up after 1 attempts" in event.details["message"]


def run_then_roll_back(task) -> int:
    with transaction.atomic():
        execution.execute_task(task.pk, now=MONDAY)
        written = Event.objects.count()
        raise RuntimeError(f"the transaction around it fails after {written} event")


def test_an_outcome_that_rolls_back_leaves_no_event(tenant, two_volumes):
    task = queued_task(tenant, two_volumes[0])
    with pytest.raises(RuntimeError, match="after 1 event"):
        run_then_roll_back(task)
    assert not Event.objects.exists()


def test_a_restore_writes_restore_succeeded(tenant, two_volumes):
    backup = made_backup(tenant, two_volumes[0])
    Event.objects.all().delete()
    restore = start(backup, name="copy of db")

    assert restoring.execute_restore(restore.pk) == Restore.Status.SUCCEEDED

    event = only_event()
    assert (event.type, event.restore_id, event.backup_id) == (Type.RESTORE_SUCCEEDED, restore.pk, backup.pk)
    assert event.details["volume_name"] == "copy of db"


def test_a_restore_of_a_damaged_backup_writes_verify_failed_and_restore_failed(tenant, two_volumes):
    backup = made_backup(tenant, two_volumes[0])
    Event.objects.all().delete()
    damage(backup)
    restore = start(backup, volume_id=two_volumes[0].resource_id)

    assert restoring.execute_restore(restore.pk) == Restore.Status.FAILED

    assert sorted(Event.objects.values_list("type", flat=True)) == [
        Type.BACKUP_VERIFY_FAILED,
        Type.RESTORE_FAILED,
    ]
    # The same event as verification writes: it names the backup's own volume, policy and task.
    flagged = Event.objects.get(type=Type.BACKUP_VERIFY_FAILED)
    assert (flagged.volume_id, flagged.policy_id, flagged.task_id) == (
        backup.resource_id,
        backup.policy_id,
        backup.task_id,
    )


def test_events_name_what_they_concern_after_it_is_deleted(tenant, two_volumes):
    policy = daily_policy(tenant, now=MONDAY)
    associate(policy, [two_volumes[0]])
    task = queued_task(tenant, two_volumes[1])
    execution.execute_task(task.pk, now=MONDAY)
    policy_id = task.policy_id
    task.policy.delete()

    assert only_event().policy_id == policy_id
