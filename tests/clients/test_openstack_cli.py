"""The ``openstack vbs policy`` commands (python-openstackclient with the otcextensions plugin)
against the live server, each run as its own process through the CLI's ``main()``.

The commands sign in at the identity stand-in (tests/helpers/identity_standin.py) and send every VBS request over HTTP
to the real API; the tests read what the server then holds from the database.
"""

import json

import pytest

from policies.models import BackupPolicy
from tests.helpers.identity_standin import stored
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.usefixtures("transactional_db")


def create(openstack, name="nightly", *extra):
    status, out, err = openstack(
        *("vbs", "policy", "create", name, "--start_time", "12:00", "--frequency", "1"),
        *("--rentention_num", "3", *extra, "-f", "json"),
    )
    assert status == 0, err
    return json.loads(out)


DAILY_OFF = {
    "start_time": "12:00",
    "frequency": 1,
    "rentention_num": 3,
    "remain_first_backup_of_curMonth": "N",
    "status": "OFF",
}


@pytest.fixture
def policy_id(tenant) -> str:
    """A policy made on the server side (each CLI command is a process: make fewer of them)."""
    body = {"backup_policy_name": "nightly", "scheduled_policy": DAILY_OFF}
    return str(make_policy(tenant, payload=body).pk)


def test_create_with_tags_stores_the_policy(openstack):
    shown = create(openstack, "nightly", "--enable", "--remain_first_backup_of_curMonth", "--tag", "env=prod")
    assert shown["name"] == "nightly"
    assert stored(shown["id"]) == {
        "backup_policy_name": "nightly",
        "scheduled_policy": {**DAILY_OFF, "remain_first_backup_of_curMonth": "Y", "status": "ON"},
        "tags": [{"key": "env", "value": "prod"}],
    }


def test_a_refused_create_fails_with_the_servers_message(openstack):
    status, _, err = openstack(
        *("vbs", "policy", "create", "default_x", "--start_time", "12:30"),
        *("--frequency", "1", "--rentention_num", "3"),
    )
    assert status != 0
    assert "starts with 'default'" in err
    assert not BackupPolicy.objects.exists()


def test_list_shows_the_projects_policies(openstack, tenant, other_tenant):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    first = make_policy(tenant, payload=valid_payload(backup_policy_name="first"))
    make_policy(tenant, payload=valid_payload(backup_policy_name="second", tags=[]))
    status, out, err = openstack("vbs", "policy", "list", "-f", "json")
    assert status == 0, err
    listed = json.loads(out)
    assert [row["name"] for row in listed] == ["first", "second"]
    assert listed[0]["id"] == str(first.pk)
    assert listed[0]["tags"] == [{"key": "key", "value": "value"}]
    assert listed[0]["scheduled_policy"]["start_time"] == "12:00"


# `vbs policy update` sends backup_policy_id in the body (the SDK's update): the server ignores it.
def test_update_changes_each_option_given(openstack, policy_id):
    status, _, err = openstack(
        *("vbs", "policy", "update", policy_id, "--name", "renamed", "--start_time", "02:00"),
        *("--frequency", "2", "--rentention_num", "5", "--status", "true"),
        *("--remain_first_backup_of_curMonth", "true"),
    )
    assert status == 0, err
    assert stored(policy_id) == {
        "backup_policy_name": "renamed",
        "scheduled_policy": {
            "start_time": "02:00",
            "frequency": 2,
            "rentention_num": 5,
            "remain_first_backup_of_curMonth": "Y",
            "status": "ON",
        },
    }


def test_update_of_the_status_alone_enables_and_disables(openstack, policy_id):
    assert openstack("vbs", "policy", "update", policy_id, "--status", "true")[0] == 0
    assert stored(policy_id)["scheduled_policy"]["status"] == "ON"
    assert openstack("vbs", "policy", "update", policy_id, "--status", "false")[0] == 0
    assert stored(policy_id)["scheduled_policy"] == DAILY_OFF


def test_a_refused_update_fails_and_changes_nothing(openstack, policy_id):
    status, _, err = openstack("vbs", "policy", "update", policy_id, "--start_time", "12:30")
    assert status != 0
    assert "not a full hour" in err
    assert stored(policy_id)["scheduled_policy"] == DAILY_OFF


def test_delete_removes_the_policy_and_a_second_delete_fails(openstack, policy_id):
    assert openstack("vbs", "policy", "delete", policy_id)[0] == 0
    assert not BackupPolicy.objects.filter(pk=policy_id).exists()
    status, _, err = openstack("vbs", "policy", "delete", policy_id)
    assert status != 0
    assert "no backup policy" in err


def test_show_is_broken_in_the_client_itself(openstack, policy_id):
    # A client bug (the SDK's find_backup_policy, see test_otc_sdk.py): `show` fails before
    # sending anything, whatever the server holds.
    status, _, err = openstack("vbs", "policy", "show", policy_id)
    assert status != 0
    assert "fetch method is not supported" in err


def test_link_unlink_and_execute(openstack, tenant, policy_id):
    from policies.models import BackupTask, Volume
    from tests.helpers.runs import make_volumes

    disks = [str(d.resource_id) for d in make_volumes(tenant, {"a.img": b"a", "b.img": b"b"})]
    status, _, err = openstack("vbs", "policy", "link", policy_id, "--volume", disks[0], "--volume", disks[1])
    assert status == 0, err
    assert Volume.objects.filter(policy_id=policy_id).count() == 2
    assert openstack("vbs", "policy", "unlink", policy_id, "--volume", disks[1])[0] == 0
    assert [str(v.resource_id) for v in Volume.objects.filter(policy_id=policy_id)] == disks[:1]
    assert openstack("vbs", "policy", "execute", policy_id)[0] == 0
    assert [str(t.resource_id) for t in BackupTask.objects.filter(policy_id=policy_id)] == disks[:1]
