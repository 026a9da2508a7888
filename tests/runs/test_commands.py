"""The commands of the runs: sync_volumes and restore_backup (the worker runs in other tests)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from policies import audit, services, volumes
from policies.models import Backup, Volume
from policies.runs import execution
from tests.helpers.runs import associate, daily_policy, make_volumes, write_volume

pytestmark = pytest.mark.django_db


def test_sync_volumes_adds_new_files_and_marks_a_vanished_associated_one_deleted(tenant):
    disk = make_volumes(tenant, {"old.img": b"o"})[0]
    associate(daily_policy(tenant), [disk])
    (Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "old.img").unlink()
    write_volume(tenant.project_id, "new.img", b"n")

    call_command("sync_volumes", tenant.project_id)

    statuses = dict(Volume.objects.values_list("name", "status"))
    assert statuses == {"old.img": "deleted", "new.img": "available"}
    assert Volume.objects.get(name="old.img").policy_id is not None  # still shown in its policy


def test_sync_volumes_refuses_an_unknown_project(tenant):
    with pytest.raises(CommandError, match="no such project: nope"):
        call_command("sync_volumes", "nope")


def test_restore_backup_writes_the_backup_out_even_after_its_policy_is_deleted(tenant, tmp_path):
    policy = daily_policy(tenant)
    disk = make_volumes(tenant, {"db.img": b"content at copy time"})[0]
    associate(policy, [disk])
    task = volumes.policy_execute(policy=policy, actor=audit.Actor.command())[0]
    execution.execute_task(task.pk)
    services.policy_delete(policy=policy, actor=audit.Actor.command())
    backup = Backup.objects.get()

    call_command("restore_backup", str(backup.pk), "--to", str(tmp_path / "out.img"))

    assert (tmp_path / "out.img").read_bytes() == b"content at copy time"
    assert backup.policy_name == policy.name


def test_restore_backup_refuses_an_unknown_id_and_an_existing_file(tenant, tmp_path):
    with pytest.raises(CommandError, match="no backup"):
        call_command("restore_backup", "nope", "--to", str(tmp_path / "x"))
    (tmp_path / "x").write_bytes(b"")
    with pytest.raises(CommandError, match="no backup"):
        call_command("restore_backup", "00000000-0000-0000-0000-000000000000", "--to", str(tmp_path / "x"))
