"""The openstack provider, through openstacksdk, against a stand-in of the Cinder v3 calls it uses."""

import pytest
from django.utils import timezone

from policies import audit, backups
from policies.domain.contract import backups as rules
from policies.models import Backup, Restore, Volume
from policies.runs import restore as restoring
from policies.runs.inventory import volumes_sync
from policies.runs.providers import ProviderError, ProviderTimeout, TransientProviderError
from policies.runs.providers.openstack import OpenStackProvider
from tests.helpers.cinder_standin import PROJECT, Cinder, serve
from tests.helpers.factories import TenantFactory


@pytest.fixture
def cinder():
    stand_in = Cinder()
    server, base = serve(stand_in)
    stand_in.base = base
    yield stand_in
    server.shutdown()


@pytest.fixture
def provider(cinder):
    return OpenStackProvider(
        poll_seconds=0,
        auth_url=f"{cinder.base}/identity/v3",
        username="demo",
        password="secret",  # noqa: S106 - the stand-in checks nothing
        project_id=PROJECT,
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
        identity_api_version="3",
        load_yaml_config=False,
        load_envvars=False,
    )


def test_the_projects_volumes_are_listed_with_zone_and_host(provider, cinder):
    volume_id = cinder.add_volume("db", size=20, status="in-use")

    [volume] = provider.list_volumes(PROJECT)

    assert (str(volume.resource_id), volume.name, volume.size_gib, volume.status) == (
        volume_id,
        "db",
        20.0,
        "in-use",
    )
    assert (volume.availability_zone, volume.host) == ("nova", "cinder-1@lvm#pool")


def test_a_backup_is_created_and_polled_until_available(provider, cinder):
    volume_id = cinder.add_volume("db", size=2)
    cinder.polls_to_finish = 3

    made = provider.create_backup(PROJECT, volume_id, "autobk_0123456789ab", deadline=float("inf"))

    assert cinder.backups[made.locator]["name"] == "autobk_0123456789ab"
    assert made.size_bytes == 2 * 1024**3
    assert provider.check_backup(PROJECT, made.locator)


def test_a_backup_that_errors_is_a_failure_with_cinders_reason_and_leaves_nothing(provider, cinder):
    volume_id = cinder.add_volume("broken-disk")

    with pytest.raises(ProviderError, match="the backup driver failed") as failure:
        provider.create_backup(PROJECT, volume_id, "autobk_x", deadline=float("inf"))

    assert not failure.value.transient
    assert cinder.backups == {}


def test_a_busy_cinder_is_a_transient_failure(provider, cinder):
    volume_id = cinder.add_volume("db")
    cinder.fail_next_create = 503

    with pytest.raises(TransientProviderError):
        provider.create_backup(PROJECT, volume_id, "autobk_x", deadline=float("inf"))


def test_a_backup_still_creating_at_the_deadline_times_out(provider, cinder):
    volume_id = cinder.add_volume("db")
    cinder.polls_to_finish = 10**6

    with pytest.raises(ProviderTimeout):
        provider.create_backup(PROJECT, volume_id, "autobk_x", deadline=0)


def test_delete_and_discard_remove_backups_and_ignore_missing_ones(provider, cinder):
    volume_id = cinder.add_volume("db")
    made = provider.create_backup(PROJECT, volume_id, "autobk_a", deadline=float("inf"))
    provider.create_backup(PROJECT, volume_id, "autobk_b", deadline=float("inf"))

    provider.delete_backup(PROJECT, made.locator)
    provider.delete_backup(PROJECT, made.locator)
    provider.discard(PROJECT, "autobk_b")

    assert cinder.backups == {}


def test_a_backup_is_restored_into_a_new_volume_through_cinder(provider, cinder):
    made = provider.create_backup(PROJECT, cinder.add_volume("db", size=3), "autobk_a", deadline=float("inf"))
    cinder.polls_to_finish = 2

    info, size = provider.restore_to_new_volume(PROJECT, made.locator, "db-restored", sha256="")

    assert (info.name, info.status, info.size_gib, size) == ("db-restored", "available", 3.0, 3 * 1024**3)
    assert cinder.volumes[str(info.resource_id)]["name"] == "db-restored"


def test_a_cinder_restore_that_errors_is_a_failure_naming_the_volume_left(provider, cinder):
    made = provider.create_backup(PROJECT, cinder.add_volume("db"), "autobk_a", deadline=float("inf"))

    with pytest.raises(ProviderError, match="it is error_restoring; delete that volume"):
        provider.restore_to_new_volume(PROJECT, made.locator, "broken-copy", sha256="")


def test_a_cinder_restore_still_running_at_its_deadline_times_out(provider, cinder):
    made = provider.create_backup(PROJECT, cinder.add_volume("db"), "autobk_a", deadline=float("inf"))
    cinder.polls_to_finish = 10**6
    provider.restore_seconds = 0

    with pytest.raises(ProviderTimeout, match="still restoring-backup"):
        provider.restore_to_new_volume(PROJECT, made.locator, "copy", sha256="")


def test_a_restore_over_an_existing_volume_is_refused_and_cinder_is_not_asked(provider, cinder):
    volume_id = cinder.add_volume("db")
    made = provider.create_backup(PROJECT, volume_id, "autobk_a", deadline=float("inf"))

    with pytest.raises(ProviderError, match="restore into a new volume instead"):
        provider.restore_over_volume(PROJECT, made.locator, volume_id, sha256="")

    assert list(cinder.volumes) == [volume_id]


@pytest.fixture
def cinder_backup(provider, cinder, db):
    """A Cinder volume, its row in the inventory, and a backup of it recorded as the worker does."""
    tenant = TenantFactory(project_id=PROJECT)
    cinder.add_volume("db", size=2)
    volumes_sync(tenant=tenant, provider=provider)
    volume = Volume.objects.get(tenant=tenant, name="db")
    made = provider.create_backup(PROJECT, volume.locator, "autobk_0123456789ab", deadline=float("inf"))
    return Backup.objects.create(
        tenant=tenant,
        volume=volume,
        resource_id=volume.resource_id,
        name="autobk_0123456789ab",
        provider="openstack",
        locator=made.locator,
        size_bytes=made.size_bytes,
        taken_at=timezone.now(),
    )


def restore_of(backup, **target) -> Restore:
    body = rules.RestoreBody(target.get("volume_id"), target.get("name"))
    return backups.restore_start(backup=backup, body=body, actor=audit.Actor.command())


def test_a_restore_on_the_worker_makes_the_new_cinder_volume_and_lists_it(provider, cinder_backup):
    restore = restore_of(cinder_backup, name="db-restored")

    assert restoring.execute_restore(restore.pk, provider=provider) == Restore.Status.SUCCEEDED

    restore.refresh_from_db()
    assert restore.volume.name == "db-restored"
    assert restore.volume.provider == "openstack"
    assert "the provider checked its own copy" in restore.message
    cinder_backup.refresh_from_db()
    assert (cinder_backup.status, cinder_backup.verify_status) == (
        Backup.Status.AVAILABLE,
        Backup.Verify.PENDING,
    )


def test_a_restore_over_a_cinder_volume_fails_on_the_worker_and_gives_the_backup_back(
    provider, cinder_backup
):
    restore = restore_of(cinder_backup, volume_id=cinder_backup.volume.resource_id)

    assert restoring.execute_restore(restore.pk, provider=provider) == Restore.Status.FAILED

    restore.refresh_from_db()
    assert "restore into a new volume instead" in restore.message
    cinder_backup.refresh_from_db()
    assert (cinder_backup.status, cinder_backup.verify_status) == (
        Backup.Status.AVAILABLE,
        Backup.Verify.PENDING,
    )


def test_verification_passes_while_cinder_has_the_backup_available(provider, cinder):
    made = provider.create_backup(PROJECT, cinder.add_volume("db"), "autobk_v", deadline=float("inf"))

    checked = provider.verify_backup(PROJECT, made.locator, "")

    assert checked.ok
    assert "available" in checked.detail


@pytest.mark.parametrize(
    ("change", "detail"),
    [("gone", "Cinder no longer has backup"), ("error", "Cinder reports backup")],
)
def test_verification_fails_when_cinder_lost_the_backup_or_reports_it_error(provider, cinder, change, detail):
    made = provider.create_backup(PROJECT, cinder.add_volume("db"), "autobk_v", deadline=float("inf"))
    if change == "gone":
        del cinder.backups[made.locator]
    else:
        cinder.backups[made.locator].update(status="error", fail_reason="the object store lost it")

    checked = provider.verify_backup(PROJECT, made.locator, "")

    assert not checked.ok
    assert detail in checked.detail
