"""Any name a filesystem allows is a volume or is skipped with a reason; one project's trouble stops no other's runs."""

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from policies import audit, volumes
from policies.management.commands.worker import Scheduler
from policies.models import Backup, BackupTask, Volume
from policies.runs import execution, inventory, scheduler
from tests.helpers.api import ContractClient
from tests.helpers.runs import MONDAY, associate, backup_content, daily_policy, make_volumes

pytestmark = pytest.mark.django_db

Status = BackupTask.Status
ODD = b"disk-\xff\xfe latin1-\xe9.img"  # not UTF-8


def write_odd(project_id: str, content: bytes = b"odd" * 100) -> None:
    folder = os.fsencode(Path(settings.LOCAL_VOLUME_ROOT) / project_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ODD), "wb") as out:
        out.write(content)


def test_a_name_that_is_not_utf8_is_a_volume_with_a_stable_id_and_a_readable_name(tenant):
    write_odd(tenant.project_id)

    inventory.volumes_sync(tenant=tenant)
    first = Volume.objects.get()
    inventory.volumes_sync(tenant=tenant)

    assert Volume.objects.get().resource_id == first.resource_id
    assert first.name == "disk-\\xff\\xfe latin1-\\xe9.img"


def test_a_utf8_name_keeps_the_id_it_always_had(tenant):
    import uuid

    volume = make_volumes(tenant, {"dïsk.img": b"x"})[0]

    namespace = uuid.UUID("6f4c1f4e-2d0a-4a54-9c6e-3b3f6c9c7a11")
    assert volume.resource_id == uuid.uuid5(namespace, f"{tenant.project_id}/dïsk.img")


def test_a_volume_with_a_name_that_is_not_utf8_is_backed_up(tenant):
    write_odd(tenant.project_id, b"the odd one's data")
    inventory.volumes_sync(tenant=tenant)
    policy = daily_policy(tenant, status="OFF")
    associate(policy, Volume.objects.all())

    task = volumes.policy_execute(policy=policy, actor=audit.Actor.command())[0]

    assert execution.execute_task(task.pk) == Status.EXECUTE_SUCCESS
    assert backup_content(Backup.objects.get().locator) == b"the odd one's data"


def test_one_projects_odd_name_does_not_stop_another_projects_run(tenant, other_tenant, settings):
    settings.BACKUP_MISSED_RUN_WINDOW_MINUTES = 24 * 60  # yesterday's last run is due still
    write_odd(tenant.project_id)
    policy = daily_policy(other_tenant, now=timezone.now() - timedelta(days=1))
    associate(policy, make_volumes(other_tenant, {"b.img": b"b"}))

    assert Scheduler(tick_seconds=1, sync_seconds=300).step() is True

    assert BackupTask.objects.filter(policy=policy, status=Status.WAITING).exists()
    assert Volume.objects.filter(tenant=tenant).count() == 1


def test_a_project_whose_sync_fails_unexpectedly_does_not_stop_the_others(
    tenant, other_tenant, monkeypatch, caplog
):
    make_volumes(other_tenant, {"b.img": b"b"})
    real = inventory.volumes_sync

    def sync(*, tenant, **kwargs):
        if tenant.project_id == "tenant-a":
            raise RuntimeError("an odd volume")
        return real(tenant=tenant, **kwargs)

    monkeypatch.setattr(inventory, "volumes_sync", sync)

    results = inventory.volumes_sync_all()

    assert list(results) == ["tenant-b"]
    assert "volume sync of tenant-a failed" in caplog.text


def test_a_failed_tick_is_logged_and_the_next_tick_runs(tenant, monkeypatch, caplog):
    calls = []
    real = scheduler.scheduler_tick

    def tick(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first tick fails")
        return real(**kwargs)

    monkeypatch.setattr(scheduler, "scheduler_tick", tick)
    ticker = Scheduler(tick_seconds=2, sync_seconds=300)

    with caplog.at_level(logging.ERROR):
        ticker.failures = 0 if ticker.step() else 1
    assert ticker.failures == 1
    assert ticker.pause() == 4  # backs off while it fails
    assert "scheduler tick failed" in caplog.text

    assert ticker.step() is True
    assert len(calls) == 2


def test_sync_volumes_lists_a_name_that_is_not_utf8(tenant, capsys):
    write_odd(tenant.project_id)

    call_command("sync_volumes", tenant.project_id)

    assert "tenant-a: 1 added" in capsys.readouterr().out


def test_associating_an_unknown_id_beside_an_odd_file_answers_in_band(tenant, token):
    write_odd(tenant.project_id)
    policy = daily_policy(tenant)
    unknown = "00000000-0000-4000-8000-000000000001"

    response = ContractClient(token).post(
        f"/v2/{tenant.project_id}/backuppolicyresources",
        {
            "backup_policy_id": str(policy.pk),
            "resources": [{"resource_id": unknown, "resource_type": "volume"}],
        },
    )

    assert response.status_code == 200
    assert [item["resource_id"] for item in response.json()["fail_resources"]] == [unknown]


def test_a_policy_that_cannot_be_planned_waits_and_the_others_run(
    tenant, other_tenant, two_volumes, monkeypatch
):
    broken = daily_policy(tenant)
    associate(broken, two_volumes[:1])
    healthy = daily_policy(other_tenant)
    associate(healthy, make_volumes(other_tenant, {"b.img": b"b"}))
    real = scheduler._plan_policy

    def plan(policy, now):
        if policy.pk == broken.pk:
            raise ValueError("a stored value no reading accepts")
        return real(policy, now)

    monkeypatch.setattr(scheduler, "_plan_policy", plan)

    result = scheduler.scheduler_tick(now=MONDAY)

    assert result.unplanned == [broken.pk]
    assert BackupTask.objects.filter(policy=healthy).count() == 1
    assert not BackupTask.objects.filter(policy=broken).exists()
    broken.refresh_from_db()
    assert broken.next_run_at == MONDAY  # still due: planned again at the next tick
