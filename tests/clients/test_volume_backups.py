"""``openstack volume backup list|show|create|restore|delete`` and openstacksdk's ``block_storage`` proxy
against the live server, through the identity stand-in's catalog (``volumev2``, ``volumev3``,
``block-storage``).

The CLI runs as a process of its own; the SDK in this process, over HTTP. Neither is told anything
but the identity URL: they find the server in the catalog and discover its version at ``/volume/``.
The worker's part (the backup, the restore) is run here, as the worker would run it.
"""

import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings

from policies.models import AuditEvent, Backup, Restore
from policies.runs import execution
from policies.runs.restore import execute_restore
from tests.helpers.runs import make_volumes, write_volume

pytestmark = pytest.mark.usefixtures("transactional_db")

CONTENT = bytes(range(256)) * 400
DIGEST = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def volume(tenant):
    return make_volumes(tenant, {"db.img": CONTENT})[0]


def made(backup_id) -> Backup:
    """Run the worker's part of a backup asked for through a client."""
    backup = Backup.objects.get(pk=backup_id)
    execution.execute_task(backup.task_id)
    backup.refresh_from_db()
    return backup


def volume_file(tenant, name) -> Path:
    return Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / name


def test_the_cli_creates_lists_shows_restores_and_deletes(openstack, tenant, volume):
    status, out, err = openstack(
        "volume", "backup", "create", "--name", "before-upgrade", "db.img", "-f", "json"
    )
    assert status == 0, err
    created = json.loads(out)
    backup = made(created["id"])
    assert backup.sha256 == DIGEST
    assert backup.name == "before-upgrade"

    status, out, err = openstack("volume", "backup", "list", "-f", "json")
    assert status == 0, err
    listed = json.loads(out)
    assert [(row["ID"], row["Name"], row["Status"]) for row in listed] == [
        (str(backup.pk), "before-upgrade", "available")
    ]

    status, out, err = openstack("volume", "backup", "show", "before-upgrade", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["id"] == str(backup.pk)

    # Over the volume, changed since the backup: --force, as the CLI asks for an existing volume.
    write_volume(tenant.project_id, "db.img", b"changed since")
    status, out, err = openstack(
        "volume", "backup", "restore", "before-upgrade", "db.img", "--force", "-f", "json"
    )
    assert status == 0, err
    assert json.loads(out)["volume_id"] == str(volume.resource_id)
    assert execute_restore(Restore.objects.get().pk) == Restore.Status.SUCCEEDED
    assert hashlib.sha256(volume_file(tenant, "db.img").read_bytes()).hexdigest() == DIGEST

    # Into a new volume: the name is not a volume of the project.
    status, out, err = openstack("volume", "backup", "restore", str(backup.pk), "fresh.img", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["volume_name"] == "fresh.img"
    execute_restore(Restore.objects.get(volume_name="fresh.img").pk)
    assert hashlib.sha256(volume_file(tenant, "fresh.img").read_bytes()).hexdigest() == DIGEST

    status, _, err = openstack("volume", "backup", "delete", "before-upgrade")
    assert status == 0, err
    assert not Backup.objects.exists()
    entrances = set(
        AuditEvent.objects.filter(action__in=["backup", "restore", "delete_bk"]).values_list(
            "entrance", flat=True
        )
    )
    assert entrances == {"api"}


def test_the_cli_shows_the_servers_refusal(openstack, tenant, volume):
    status, out, err = openstack("volume", "backup", "create", "db.img", "-f", "json")
    assert status == 0, err
    backup = made(json.loads(out)["id"])
    openstack_status, _, _ = openstack("volume", "backup", "restore", str(backup.pk), "one.img")
    assert openstack_status == 0
    status, _, err = openstack("volume", "backup", "delete", str(backup.pk))
    assert status != 0
    assert "restoring" in err
    assert Backup.objects.filter(pk=backup.pk).exists()


def test_the_sdk_creates_lists_gets_restores_and_deletes(block_storage, tenant, volume):
    created = block_storage.create_backup(volume_id=str(volume.resource_id), name="sdk-copy")
    backup = made(created.id)
    assert [b.id for b in block_storage.backups()] == [str(backup.pk)]
    fetched = block_storage.get_backup(created.id)
    assert fetched.status == "available"
    assert fetched.name == "sdk-copy"
    assert [b.name for b in block_storage.backups(details=True, name="sdk-copy")] == ["sdk-copy"]

    block_storage.restore_backup(created.id, name="sdk-restored.img")
    assert execute_restore(Restore.objects.get().pk) == Restore.Status.SUCCEEDED
    assert hashlib.sha256(volume_file(tenant, "sdk-restored.img").read_bytes()).hexdigest() == DIGEST

    block_storage.delete_backup(created.id)
    assert not Backup.objects.exists()


def test_the_sdk_sees_no_backup_of_another_project(block_storage, other_tenant):
    theirs = make_volumes(other_tenant, {"theirs.img": b"x"})[0]
    from policies import audit, backups
    from policies.domain.contract import backups as rules

    backup = backups.backup_create(
        tenant=other_tenant,
        body=rules.CreateBody(theirs.resource_id, "theirs", ""),
        actor=audit.Actor.command(),
    )
    from openstack import exceptions

    with pytest.raises(exceptions.NotFoundException):
        block_storage.get_backup(str(backup.pk))
    assert list(block_storage.backups()) == []
