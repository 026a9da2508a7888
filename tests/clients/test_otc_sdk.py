"""The OTC Python SDK (``otcextensions`` on ``openstacksdk``) against the live server.

Every call goes over HTTP to the real API; only the identity catalog is a stand-in (tests/helpers/identity_standin.py).
What the server holds afterwards is read from the database, not from the SDK's own objects.
"""

import openstack.exceptions
import pytest

from policies.models import BackupPolicy
from tests.helpers.identity_standin import stored
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.usefixtures("transactional_db")

DAILY = {
    "start_time": "12:00",
    "frequency": 1,
    "rentention_num": 3,
    "remain_first_backup_of_curMonth": "N",
    "status": "ON",
}


def create(vbs, name="nightly", **attrs):
    return vbs.create_backup_policy(name=name, scheduled_policy=dict(DAILY), **attrs)


def test_create_with_tags_stores_the_policy_and_its_tags(vbs, tenant):
    policy = create(vbs, tags=[{"key": "env", "value": "prod"}, {"key": "team", "value": ""}])
    assert stored(policy.id) == {
        "backup_policy_name": "nightly",
        "scheduled_policy": DAILY,
        "tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": ""}],
    }
    assert BackupPolicy.objects.get(pk=policy.id).tenant == tenant


def test_a_refused_create_raises_with_the_servers_message(vbs):
    with pytest.raises(openstack.exceptions.BadRequestException) as refused:
        create(vbs, name="default_nightly")
    assert refused.value.status_code == 400
    assert "starts with 'default'" in str(refused.value)
    assert not BackupPolicy.objects.exists()


def test_the_sdk_drops_the_fields_it_does_not_know_before_sending(vbs):
    # A client-side limit: the SDK's SchedulePolicy has no week_frequency or rentention_day, and
    # its BackupPolicy no time_zone, so they never reach the server (frequency/rentention_num do).
    schedule = {**DAILY, "week_frequency": ["MON"], "rentention_day": 7}
    policy = vbs.create_backup_policy(name="weekly", scheduled_policy=schedule, time_zone="UTC+01:00")
    assert stored(policy.id) == {"backup_policy_name": "weekly", "scheduled_policy": DAILY}


def test_list_reads_every_policy_of_the_project_with_its_schedule_and_tags(vbs, tenant, other_tenant):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    first = create(vbs, name="first", tags=[{"key": "env", "value": "prod"}])
    create(vbs, name="second")
    listed = list(vbs.backup_policies())
    assert [policy.name for policy in listed] == ["first", "second"]
    assert listed[0].id == first.id
    assert listed[0].tags == [{"key": "env", "value": "prod"}]
    assert listed[0].policy_resource_count == 0
    assert listed[0].scheduled_policy.start_time == "12:00"
    assert listed[0].scheduled_policy.rentention_num == 3


# The SDK repeats the ID in the body of every update ("backup_policy_id"): the server ignores it.
def test_update_by_id_changes_the_name_and_the_schedule(vbs):
    policy = create(vbs)
    vbs.update_backup_policy(
        policy.id, name="renamed", scheduled_policy={"start_time": "14:00", "frequency": 2}
    )
    assert stored(policy.id)["backup_policy_name"] == "renamed"
    assert stored(policy.id)["scheduled_policy"] == {**DAILY, "start_time": "14:00", "frequency": 2}


def test_update_by_object_changes_only_what_is_sent(vbs):
    create(vbs)
    listed = next(iter(vbs.backup_policies()))
    vbs.update_backup_policy(listed, scheduled_policy={"rentention_num": 7})
    assert stored(listed.id)["backup_policy_name"] == "nightly"
    assert stored(listed.id)["scheduled_policy"] == {**DAILY, "rentention_num": 7}


def test_a_refused_update_raises_and_changes_nothing(vbs):
    policy = create(vbs)
    with pytest.raises(openstack.exceptions.BadRequestException, match="full hour"):
        vbs.update_backup_policy(policy.id, scheduled_policy={"start_time": "12:30"})
    assert stored(policy.id)["scheduled_policy"] == DAILY


@pytest.mark.parametrize("by", ["id", "object"])
def test_disable_then_enable(vbs, by):
    policy = create(vbs)
    target = policy.id if by == "id" else policy
    vbs.disable_policy(target)
    assert stored(policy.id)["scheduled_policy"]["status"] == "OFF"
    vbs.enable_policy(target)
    assert stored(policy.id)["scheduled_policy"] == DAILY


def test_delete_removes_the_policy_and_a_second_delete_is_not_found(vbs):
    policy = create(vbs)
    vbs.delete_backup_policy(policy.id)
    assert not BackupPolicy.objects.filter(pk=policy.id).exists()
    with pytest.raises(openstack.exceptions.NotFoundException, match="no backup policy"):
        vbs.delete_backup_policy(policy.id, ignore_missing=False)
    assert vbs.delete_backup_policy(policy.id) is None  # ignore_missing: the 404 is swallowed


def test_another_projects_policy_cannot_be_touched(vbs, other_tenant):
    theirs = make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    with pytest.raises(openstack.exceptions.NotFoundException):
        vbs.disable_policy(str(theirs.pk))
    with pytest.raises(openstack.exceptions.NotFoundException):
        vbs.delete_backup_policy(str(theirs.pk), ignore_missing=False)
    assert stored(theirs.pk)["scheduled_policy"]["status"] == "ON"


@pytest.mark.parametrize("name_or_id", ["nightly", "absent"])
def test_find_is_broken_in_the_sdk_itself_and_never_reaches_the_server(vbs, name_or_id):
    # A client bug: find first tries to fetch the policy by ID, which the SDK's BackupPolicy
    # does not allow (allow_fetch is off), and raises before sending anything. So
    # find_backup_policy (and `openstack vbs policy show`) fails whatever the server holds.
    create(vbs)
    with pytest.raises(openstack.exceptions.MethodNotSupported, match="fetch"):
        vbs.find_backup_policy(name_or_id)


def test_without_an_identity_service_a_fixed_endpoint_and_token_work(
    live_server, tenant, token, clean_environment
):
    # The recipe of docs/api.md ("Clients"): keystoneauth's admin_token plugin sends this
    # server's token as it is to the endpoint given; only the VBS service is registered, with
    # the project ID (register_otc_extensions needs one from an identity service).
    import openstack
    from otcextensions import sdk

    url = f"{live_server.url}/v2/{tenant.project_id}"
    conn = openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": url, "token": token},
        vbs_endpoint_override=url,
        load_yaml_config=False,
        load_envvars=False,
    )
    sdk.register_single_service(conn, "volume_backup", project_id=tenant.project_id)
    policy = create(conn.volume_backup)
    assert [listed.id for listed in conn.volume_backup.backup_policies()] == [policy.id]
    assert stored(policy.id)["scheduled_policy"] == DAILY


# --- Volumes and runs (link, unlink, execute, tasks) ----------------------------------------------


@pytest.fixture
def disks(tenant):
    from tests.helpers.runs import make_volumes

    return make_volumes(tenant, {"disk-a.img": b"a" * 10, "disk-b.img": b"b" * 20})


def test_link_and_unlink_volumes(vbs, disks):
    from policies.models import Volume

    policy = create(vbs)
    ids = [str(disk.resource_id) for disk in disks]
    linked = vbs.link_resources_to_policy(policy.id, ids + [ABSENT_VOLUME])
    assert sorted(r.resource_id for r in linked.success_resources) == sorted(ids)
    assert [(r.resource_id, r.code) for r in linked.fail_resources] == [(ABSENT_VOLUME, "AutoBackup.1400")]
    assert Volume.objects.filter(policy_id=policy.id).count() == 2
    unlinked = vbs.unlink_resources_of_policy(policy, ids[:1])
    assert [r.resource_id for r in unlinked.success_resources] == ids[:1]
    assert Volume.objects.filter(policy_id=policy.id).count() == 1


def test_execute_queues_one_task_per_volume(vbs, disks):
    from policies.models import BackupTask

    policy = create(vbs)
    vbs.link_resources_to_policy(policy.id, [str(disk.resource_id) for disk in disks])
    vbs.execute_policy(policy.id)
    tasks = BackupTask.objects.filter(policy_id=policy.id)
    assert sorted(str(task.resource_id) for task in tasks) == sorted(str(d.resource_id) for d in disks)


def test_tasks_is_broken_in_the_sdk_itself_and_never_reaches_the_server(vbs):
    # A client bug: the SDK's BackupTask (otcextensions' sdk_resource.Resource) hands
    # openstacksdk's list a base_path argument that this openstacksdk reads as a query
    # parameter it does not know, and raises before sending anything.
    policy = create(vbs)
    with pytest.raises(openstack.exceptions.InvalidResourceQuery, match="base_path"):
        list(vbs.tasks(policy.id))


ABSENT_VOLUME = "0b5e9c1e-8f43-4c6b-a1d2-93e6f0c4b7aa"
