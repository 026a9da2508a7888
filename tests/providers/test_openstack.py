"""The openstack provider, through openstacksdk, against a stand-in of the Cinder v3 calls it uses."""

import pytest

from policies.runs.providers import ProviderError, ProviderTimeout, TransientProviderError
from policies.runs.providers.openstack import OpenStackProvider
from tests.helpers.cinder_standin import PROJECT, Cinder, serve


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
