"""The inventory's protection: each volume protected, at risk or unprotected, with its last good backup; bounded queries."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policies import audit, volumes
from policies.models import Backup, BackupTask
from policies.runs import execution
from tests.helpers.runs import associate, daily_policy, make_volumes

pytestmark = pytest.mark.django_db


def inventory(api, tenant) -> dict[str, dict]:
    response = api.request("GET", f"/v2/{tenant.project_id}/volumes")
    assert response.status_code == HTTPStatus.OK
    return {item["name"]: item for item in response.json()["volumes"]}


def backed_up(policy, volume) -> Backup:
    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    execution.execute_task(task.pk)
    return Backup.objects.get(task=task)


def test_a_volume_backed_up_just_now_is_protected_with_when(api, tenant):
    disk = make_volumes(tenant, {"db.img": b"d" * 100})[0]
    policy = daily_policy(tenant, now=timezone.now())
    associate(policy, [disk])
    backup = backed_up(policy, disk)

    item = inventory(api, tenant)["db.img"]

    assert item["protection"] == "protected"
    assert item["last_backup_at"] == backup.taken_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{backup.taken_at.microsecond // 1000:03d}"
    )


def test_a_volume_whose_last_backup_is_older_than_the_gap_and_grace_is_at_risk(api, tenant):
    disk = make_volumes(tenant, {"db.img": b"d" * 100})[0]
    policy = daily_policy(tenant, now=timezone.now())
    associate(policy, [disk])
    backup = backed_up(policy, disk)
    old = timezone.now() - timedelta(days=1, minutes=31)
    Backup.objects.filter(pk=backup.pk).update(taken_at=old)
    type(disk).objects.filter(pk=disk.pk).update(policy_since=old)

    assert inventory(api, tenant)["db.img"]["protection"] == "at_risk"


def test_a_failed_latest_run_or_a_failed_verification_is_at_risk(api, tenant):
    one, two = make_volumes(tenant, {"one.img": b"1" * 100, "two.img": b"2" * 100})
    policy = daily_policy(tenant, now=timezone.now())
    associate(policy, [one, two])
    for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command()):
        execution.execute_task(task.pk)
    BackupTask.objects.filter(volume=one).update(status=BackupTask.Status.EXECUTE_FAIL)
    Backup.objects.filter(volume=two).update(verify_status=Backup.Verify.FAILED, status=Backup.Status.ERROR)

    found = inventory(api, tenant)

    assert (found["one.img"]["protection"], found["two.img"]["protection"]) == ("at_risk", "at_risk")
    assert found["two.img"]["last_backup_at"] is None  # a backup that failed verification is no good one


def test_a_volume_of_a_policy_turned_off_is_unprotected(api, tenant):
    disk = make_volumes(tenant, {"db.img": b"d" * 100})[0]
    policy = daily_policy(tenant, now=timezone.now(), status="OFF")
    associate(policy, [disk])
    assert inventory(api, tenant)["db.img"]["protection"] == "unprotected"


def test_the_inventory_s_queries_do_not_grow_with_its_volumes_policies_and_backups(api, tenant):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            inventory(api, tenant)
        return len(captured)

    disk = make_volumes(tenant, {"v00.img": b"x"})[0]
    associate(daily_policy(tenant, now=timezone.now()), [disk])
    inventory(api, tenant)  # the token's first use is written once
    few = queries()
    for index in range(3):
        disks = make_volumes(tenant, {f"v{index}{n}.img": b"x" for n in range(4)})
        policy = daily_policy(tenant, now=timezone.now())
        associate(policy, disks)
        for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command()):
            execution.execute_task(task.pk)

    assert queries() == few
