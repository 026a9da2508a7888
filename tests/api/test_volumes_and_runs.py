"""Volumes and runs (docs/api.md, "Volumes and runs") through Django's test client, every answer named there."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings

from policies.models import AuditEvent, BackupTask, Volume
from policies.runs import execution, inventory, queue
from tests.helpers.factories import TenantFactory
from tests.helpers.live_http import send_in_process
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.usefixtures("db")


def said_twice(message: str) -> bool:
    """Whether a message names its field twice ("limit: limit: ..."), as it once did."""
    return re.match(r"^([^:]+): \1: ", message) is not None


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")


@pytest.fixture
def policy(tenant):
    return make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))


@pytest.fixture
def disks(tenant):
    return make_volumes(tenant, {"disk-a.img": b"a" * 100, "disk-b.img": b"b" * 200, "disk-c.img": b"c"})


def associate_url(tenant) -> str:
    return f"/v2/{tenant.project_id}/backuppolicyresources"


def items(*volumes) -> list[dict]:
    return [{"resource_id": str(v.resource_id), "resource_type": "volume"} for v in volumes]


def associate(client, token, tenant, policy, resources):
    return send_in_process(
        client,
        "POST",
        associate_url(tenant),
        {"backup_policy_id": str(policy.pk), "resources": resources},
        token=token,
    )


# --- 4.1 associate -----------------------------------------------------------------------------


def test_associating_volumes_answers_each_success_with_its_zone_and_host(
    client, token, tenant, policy, disks
):
    answer = associate(client, token, tenant, policy, items(*disks[:2]))

    assert answer.status == HTTPStatus.OK, answer.raw
    assert answer.body["fail_resources"] == []
    assert [item["resource_id"] for item in answer.body["success_resources"]] == [
        str(disks[0].resource_id),
        str(disks[1].resource_id),
    ]
    assert set(answer.body["success_resources"][0]) == {
        "resource_id",
        "resource_type",
        "availability_zone",
        "os_vol_host_attr",
    }
    assert answer.body["success_resources"][0]["availability_zone"] == "local"
    assert Volume.objects.filter(policy=policy).count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ASSOCIATE, policy_id=policy.pk).count() == 1


def test_partial_success_is_reported_in_band_with_200(client, token, tenant, policy, disks):
    (Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "disk-b.img").unlink()
    inventory.volumes_sync(tenant=tenant)  # its file is gone: the volume is 'deleted'
    unknown = str(uuid.uuid4())
    resources = [
        *items(disks[0]),
        {"resource_id": unknown, "resource_type": "volume"},
        {"resource_id": str(disks[1].resource_id), "resource_type": "volume"},
        {"resource_id": str(disks[2].resource_id), "resource_type": "server"},
    ]

    answer = associate(client, token, tenant, policy, resources)

    assert answer.status == HTTPStatus.OK
    assert [item["resource_id"] for item in answer.body["success_resources"]] == [str(disks[0].resource_id)]
    failures = {item["resource_id"]: item["code"] for item in answer.body["fail_resources"]}
    assert failures == {
        unknown: "AutoBackup.1400",
        str(disks[1].resource_id): "AutoBackup.0206",
        str(disks[2].resource_id): "AutoBackup.0211",
    }
    assert all(item["message"] and item["resource_type"] for item in answer.body["fail_resources"])


def test_a_volume_listed_twice_counts_once_and_one_already_there_changes_nothing(
    client, token, tenant, policy, disks
):
    associate(client, token, tenant, policy, items(disks[0]))

    answer = associate(client, token, tenant, policy, items(disks[0], disks[0]))

    assert len(answer.body["success_resources"]) == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ASSOCIATE).count() == 1


def test_a_volume_in_another_policy_moves_and_both_sides_are_audited(client, token, tenant, policy, disks):
    other = make_policy(tenant, payload=valid_payload(backup_policy_name="weekly"))
    associate(client, token, tenant, other, items(disks[0]))

    answer = associate(client, token, tenant, policy, items(disks[0]))

    assert answer.status == HTTPStatus.OK
    assert Volume.objects.get(pk=disks[0].pk).policy_id == policy.pk
    left = AuditEvent.objects.get(action=AuditEvent.Action.DISASSOCIATE, policy_id=other.pk)
    assert left.changes["moved_to"]["after"] == str(policy.pk)


def test_another_projects_volume_is_unknown(client, token, tenant, policy):
    stranger = TenantFactory(project_id="tenant-z")
    theirs = make_volumes(stranger, {"secret.img": b"x"})

    answer = associate(client, token, tenant, policy, items(*theirs))

    assert [item["code"] for item in answer.body["fail_resources"]] == ["AutoBackup.1400"]
    assert Volume.objects.get(pk=theirs[0].pk).policy_id is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"resources": [{"resource_id": "x"}]}, "AutoBackup.0006"),
        ({"backup_policy_id": "P"}, "AutoBackup.0207"),
        ({"backup_policy_id": "P", "resources": []}, "AutoBackup.0207"),
        ({"backup_policy_id": "P", "resources": [{"resource_type": "volume"}]}, "AutoBackup.0209"),
        ({"backup_policy_id": "P", "resources": [{"resource_id": 7}]}, "AutoBackup.0209"),
        ({"backup_policy_id": "P", "resources": [{"resource_id": "x"}], "extra": 1}, "AutoBackup.0001"),
        ([], "AutoBackup.0000"),
    ],
)
def test_a_bad_associate_body_is_400_in_the_envelope(client, token, tenant, policy, body, code):
    if isinstance(body, dict) and body.get("backup_policy_id") == "P":
        body["backup_policy_id"] = str(policy.pk)
    error = send_in_process(client, "POST", associate_url(tenant), body, token=token).error(400, code)
    assert not said_twice(error["message"]), error["message"]


def test_associating_with_an_unknown_policy_is_404(client, token, tenant, disks):
    body = {"backup_policy_id": str(uuid.uuid4()), "resources": items(disks[0])}
    send_in_process(client, "POST", associate_url(tenant), body, token=token).error(404, "AutoBackup.0205")


def test_the_65th_volume_is_refused_and_nothing_changes(client, token, tenant, policy):
    many = make_volumes(tenant, {f"v{index:02d}.img": b"x" for index in range(65)})
    assert associate(client, token, tenant, policy, items(*many[:64])).status == HTTPStatus.OK

    associate(client, token, tenant, policy, items(many[64])).error(400, "AutoBackup.0204")

    assert Volume.objects.filter(policy=policy).count() == 64


def test_another_project_is_403_and_no_token_is_401(client, token, tenant, policy, disks):
    stranger = TenantFactory(project_id="tenant-z")
    body = {"backup_policy_id": str(policy.pk), "resources": items(disks[0])}
    send_in_process(client, "POST", associate_url(stranger), body, token=token).error(403, "AutoBackup.0213")
    send_in_process(client, "POST", associate_url(tenant), body).error(401, "AutoBackup.0002")


# --- 4.2 disassociate --------------------------------------------------------------------------


def disassociate_url(tenant, policy) -> str:
    return f"/v2/{tenant.project_id}/backuppolicyresources/{getattr(policy, 'pk', policy)}/deleted_resources"


def test_disassociating_removes_held_volumes_and_fails_the_others_in_band(
    client, token, tenant, policy, disks
):
    associate(client, token, tenant, policy, items(disks[0]))
    body = {
        "resources": [{"resource_id": str(disks[0].resource_id)}, {"resource_id": str(disks[1].resource_id)}]
    }

    answer = send_in_process(client, "POST", disassociate_url(tenant, policy), body, token=token)

    assert answer.status == HTTPStatus.OK
    assert answer.body == {
        "success_resources": [{"resource_id": str(disks[0].resource_id)}],
        "fail_resources": [
            {
                "resource_id": str(disks[1].resource_id),
                "code": "AutoBackup.0208",
                "message": "the volume is not associated with this policy",
            }
        ],
    }
    assert Volume.objects.get(pk=disks[0].pk).policy_id is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DISASSOCIATE, policy_id=policy.pk).exists()


def test_disassociate_refuses_missing_resources_and_an_unknown_policy(client, token, tenant, policy):
    send_in_process(client, "POST", disassociate_url(tenant, policy), {"resources": []}, token=token).error(
        400, "AutoBackup.0207"
    )
    body = {"resources": [{"resource_id": str(uuid.uuid4())}]}
    send_in_process(client, "POST", disassociate_url(tenant, uuid.uuid4()), body, token=token).error(
        404, "AutoBackup.0205"
    )


# --- 4.3 execute now ---------------------------------------------------------------------------


def action_url(tenant, policy) -> str:
    return f"/v2/{tenant.project_id}/backuppolicy/{getattr(policy, 'pk', policy)}/action"


@pytest.mark.parametrize("body", [None, {}], ids=["no body", "empty object"])
def test_execute_queues_one_task_per_volume_and_answers_204(client, token, tenant, policy, disks, body):
    associate(client, token, tenant, policy, items(*disks[:2]))

    answer = send_in_process(client, "POST", action_url(tenant, policy), body, token=token)

    assert answer.status == HTTPStatus.NO_CONTENT
    assert answer.raw == b""
    assert sorted(t.volume_id for t in BackupTask.objects.filter(policy=policy, manual=True)) == sorted(
        d.pk for d in disks[:2]
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXECUTE, policy_id=policy.pk).exists()


def test_execute_while_a_run_executes_is_409(client, token, tenant, policy, disks):
    associate(client, token, tenant, policy, items(disks[0]))
    send_in_process(client, "POST", action_url(tenant, policy), None, token=token)

    send_in_process(client, "POST", action_url(tenant, policy), None, token=token).error(
        409, "AutoBackup.0225"
    )


def test_execute_after_the_run_finished_is_accepted_again(client, token, tenant, policy, disks):
    associate(client, token, tenant, policy, items(disks[0]))
    send_in_process(client, "POST", action_url(tenant, policy), None, token=token)
    execution.execute_task(BackupTask.objects.get().pk)

    assert (
        send_in_process(client, "POST", action_url(tenant, policy), None, token=token).status
        == HTTPStatus.NO_CONTENT
    )


def test_execute_without_volumes_is_400_saying_to_associate_first(client, token, tenant, policy):
    error = send_in_process(client, "POST", action_url(tenant, policy), None, token=token).error(
        400, "AutoBackup.0207"
    )
    assert "associate volumes first" in error["message"]


def test_execute_an_unknown_policy_is_404_and_a_body_with_fields_is_400(client, token, tenant, policy):
    send_in_process(client, "POST", action_url(tenant, uuid.uuid4()), None, token=token).error(
        404, "AutoBackup.0205"
    )
    error = send_in_process(client, "POST", action_url(tenant, policy), {"now": True}, token=token).error(
        400, "AutoBackup.0001"
    )
    assert error["message"] == "unknown field 'now'; this request takes no fields"  # named once


# --- 4.4 backup tasks --------------------------------------------------------------------------


def tasks_url(tenant, policy, query="") -> str:
    return f"/v2/{tenant.project_id}/backuppolicy/{getattr(policy, 'pk', policy)}/backuptasks{query}"


@pytest.fixture
def history(tenant, policy, disks):
    """Five tasks of one volume, one per minute, the last two finished."""
    start = datetime(2026, 3, 2, 9, 6, 46, 706000, tzinfo=UTC)
    made = []
    for index in range(5):
        task = queue.new_task(policy, disks[0], start + timedelta(minutes=index))
        task.created_at = start + timedelta(minutes=index)
        if index >= 3:
            task.status = BackupTask.Status.EXECUTE_SUCCESS
            task.finished_at = task.created_at + timedelta(seconds=15, milliseconds=411)
        task.save(force_insert=True)
        made.append(task)
    return made


def test_tasks_are_listed_newest_first_with_millisecond_utc_times(client, token, tenant, policy, history):
    answer = send_in_process(client, "GET", tasks_url(tenant, policy), token=token)

    assert answer.status == HTTPStatus.OK
    assert answer.body["count"] == 5
    newest = answer.body["tasks"][0]
    assert newest == {
        "job_id": str(history[4].job_id),
        "status": "EXECUTE_SUCCESS",
        "created_at": "2026-03-02T09:10:46.706",
        "finished_at": "2026-03-02T09:11:02.117",
        "backup_name": history[4].backup_name,
        "resource_id": str(history[4].resource_id),
        "resource_type": "volume",
    }
    waiting = answer.body["tasks"][-1]
    assert "finished_at" not in waiting
    assert TIMESTAMP.match(waiting["created_at"])


def test_tasks_page_with_limit_offset_marker_and_sort_dir(client, token, tenant, policy, history):
    def jobs(query):
        body = send_in_process(client, "GET", tasks_url(tenant, policy, query), token=token).body
        return [task["job_id"] for task in body["tasks"]], body["count"]

    ids = [str(task.job_id) for task in history]
    assert jobs("?sort_dir=asc&limit=2") == (ids[:2], 5)
    assert jobs("?sort_dir=asc&limit=2&offset=2") == (ids[2:4], 5)
    assert jobs(f"?sort_dir=asc&marker={ids[1]}") == (ids[2:], 5)
    assert jobs(f"?marker={ids[3]}&sort_key=created_at") == (ids[2::-1], 5)


def test_tasks_filter_by_status_and_job_id_and_count_the_matches(client, token, tenant, policy, history):
    body = send_in_process(
        client, "GET", tasks_url(tenant, policy, "?status=EXECUTE_SUCCESS&limit=1"), token=token
    ).body
    assert (len(body["tasks"]), body["count"]) == (1, 2)
    body = send_in_process(
        client, "GET", tasks_url(tenant, policy, f"?job_id={history[0].job_id}"), token=token
    ).body
    assert [task["job_id"] for task in body["tasks"]] == [str(history[0].job_id)]


@pytest.mark.parametrize(
    "query",
    [
        "?sort_dir=up",
        "?sort_key=finished_at",
        "?limit=0",
        "?limit=1001",
        "?offset=-1",
        "?marker=nope",
        f"?marker={uuid.UUID(int=1)}",
        "?job_id=7",
        "?status=DONE",
        "?page=2",
        "?limit=1&limit=2",
    ],
)
def test_a_bad_task_query_is_400_in_the_envelope(client, token, tenant, policy, history, query):
    error = send_in_process(client, "GET", tasks_url(tenant, policy, query), token=token).error(
        400, "AutoBackup.0013"
    )
    assert not said_twice(error["message"]), error["message"]


def test_tasks_of_an_unknown_policy_are_404(client, token, tenant):
    send_in_process(client, "GET", tasks_url(tenant, uuid.uuid4()), token=token).error(404, "AutoBackup.0205")


# --- The inventory and the list's count --------------------------------------------------------


def test_the_volume_inventory_lists_ids_sizes_and_policies(client, token, tenant, policy, disks):
    associate(client, token, tenant, policy, items(disks[0]))

    answer = send_in_process(client, "GET", f"/v2/{tenant.project_id}/volumes", token=token)

    assert answer.status == HTTPStatus.OK
    first = answer.body["volumes"][0]
    assert first == {
        "id": str(disks[0].resource_id),
        "name": "disk-a.img",
        "size": pytest.approx(100 / 1024**3, abs=1e-6),
        "status": "available",
        "availability_zone": "local",
        "backup_policy_id": str(policy.pk),
        "protection": "protected",  # waiting for its first run
        "last_backup_at": None,
    }
    assert answer.body["volumes"][1]["backup_policy_id"] is None
    assert answer.body["volumes"][1]["protection"] == "unprotected"


def test_the_policy_list_counts_each_policys_volumes(client, token, tenant, policy, disks):
    associate(client, token, tenant, policy, items(*disks[:2]))
    make_policy(tenant, payload=valid_payload(backup_policy_name="empty"))

    body = send_in_process(client, "GET", f"/v2/{tenant.project_id}/backuppolicy", token=token).body

    assert [p["policy_resource_count"] for p in body["backup_policies"]] == [2, 0]
