"""The backup routes (docs/api.md, "Backups and restore") under /v2/ and /volume/v3/: shapes, refusals, tenancy."""

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from policies.models import AuditEvent, Backup, Restore
from policies.runs import execution
from policies.runs.providers import ProviderError
from policies.runs.providers.local import LocalProvider
from policies.runs.restore import execute_restore
from tests.helpers.api import ContractClient, error_of
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.django_db

CONTENT = b"backup me " * 5000
PREFIXES = ["/v2", "/volume/v3"]


@pytest.fixture(params=PREFIXES)
def base(request, tenant):
    return f"{request.param}/{tenant.project_id}"


@pytest.fixture
def volume(tenant):
    return make_volumes(tenant, {"db.img": CONTENT})[0]


def created(api, base, volume, name="first") -> Backup:
    answer = api.post(f"{base}/backups", {"backup": {"volume_id": str(volume.resource_id), "name": name}})
    assert answer.status_code == 202, answer.content
    body = answer.json()["backup"]
    assert set(body) == {"id", "name", "links"}
    backup = Backup.objects.get(pk=body["id"])
    execution.execute_task(backup.task_id)
    backup.refresh_from_db()
    return backup


@pytest.fixture
def backup(api, base, volume) -> Backup:
    return created(api, base, volume)


def test_create_list_detail_and_show(api, base, backup):
    assert backup.status == "available"
    summary = api.request("GET", f"{base}/backups").json()["backups"]
    assert [(b["id"], b["name"]) for b in summary] == [(str(backup.pk), "first")]
    assert summary[0]["links"][0]["href"].endswith(f"{base}/backups/{backup.pk}")
    detail = api.request("GET", f"{base}/backups/detail").json()["backups"][0]
    shown = api.request("GET", f"{base}/backups/{backup.pk}").json()["backup"]
    assert detail == shown
    assert shown["status"] == "available"
    assert shown["os-bpc:sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert shown["size"] == 1
    assert shown["volume_id"] == str(backup.resource_id)
    assert shown["os-bpc:verify_status"] == "pending"
    assert AuditEvent.objects.get(action="backup").entrance == "api"


def test_list_filters_sorts_and_pages_with_a_next_link(api, base, volume):
    made = [created(api, base, volume, name=f"b{i}") for i in range(3)]
    names = [b["name"] for b in api.request("GET", f"{base}/backups?sort=name:asc").json()["backups"]]
    assert names == ["b0", "b1", "b2"]
    page = api.request("GET", f"{base}/backups?sort_key=name&sort_dir=asc&limit=2").json()
    assert [b["name"] for b in page["backups"]] == ["b0", "b1"]
    (link,) = page["backups_links"]
    assert link["rel"] == "next"
    assert f"marker={made[1].pk}" in link["href"]
    rest = api.request("GET", f"{base}/backups?sort=name:asc&marker={made[1].pk}").json()
    assert [b["name"] for b in rest["backups"]] == ["b2"]
    assert "backups_links" not in rest
    only = api.request("GET", f"{base}/backups?name=b1").json()["backups"]
    assert [b["name"] for b in only] == ["b1"]
    assert api.request("GET", f"{base}/backups?status=error").json()["backups"] == []
    assert len(api.request("GET", f"{base}/backups?volume_id={volume.resource_id}").json()["backups"]) == 3


@pytest.mark.parametrize("query", ["status=lost", "limit=0", "sort=size:up", "marker=x", "volume_id=1"])
def test_a_bad_list_query_is_400(api, base, query):
    error_of(api.request("GET", f"{base}/backups?{query}"), 400, "AutoBackup.0013")


def test_restore_into_a_new_volume_gives_back_the_bytes(api, base, tenant, backup):
    answer = api.post(f"{base}/backups/{backup.pk}/restore", {"restore": {"name": "copy.img"}})
    assert answer.status_code == 202, answer.content
    body = answer.json()["restore"]
    assert body["backup_id"] == str(backup.pk)
    assert body["volume_name"] == "copy.img"
    assert api.request("GET", f"{base}/backups/{backup.pk}").json()["backup"]["status"] == "restoring"
    execute_restore(Restore.objects.get().pk)
    restored = Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / "copy.img"
    assert restored.read_bytes() == CONTENT
    volumes = api.request("GET", f"/volume/v3/{tenant.project_id}/volumes?name=copy.img").json()["volumes"]
    assert [v["id"] for v in volumes] == [body["volume_id"]]
    shown = api.request("GET", f"{base}/backups/{backup.pk}").json()["backup"]
    assert shown["status"] == "available"
    assert shown["os-bpc:verify_status"] == "ok"


def test_delete_is_202_and_refused_409_while_restoring(api, base, backup, volume):
    api.post(f"{base}/backups/{backup.pk}/restore", {"restore": {"volume_id": str(volume.resource_id)}})
    error_of(api.request("DELETE", f"{base}/backups/{backup.pk}"), 409, "AutoBackup.0242")
    again = api.post(f"{base}/backups/{backup.pk}/restore", {"restore": {"name": "x.img"}})
    error_of(again, 409, "AutoBackup.0242")
    execute_restore(Restore.objects.get().pk)
    answer = api.request("DELETE", f"{base}/backups/{backup.pk}")
    assert answer.status_code == 202
    assert answer.content == b""
    assert not Backup.objects.exists()


def test_a_delete_the_storage_refuses_is_503_and_the_backup_kept_to_delete_again(
    api, base, backup, monkeypatch
):
    def refuse(self, project_id, locator):
        raise ProviderError("the backup disk is read-only")

    monkeypatch.setattr(LocalProvider, "delete_backup", refuse)
    answer = api.request("DELETE", f"{base}/backups/{backup.pk}")
    error = error_of(answer, 503, "AutoBackup.0245")
    assert "(the backup disk is read-only)" in error["message"]
    backup.refresh_from_db()
    assert (backup.status, backup.fail_reason) == ("error", "the delete failed: the backup disk is read-only")

    monkeypatch.undo()
    assert api.request("DELETE", f"{base}/backups/{backup.pk}").status_code == 202
    assert not Backup.objects.exists()


def test_restore_over_a_volume_being_backed_up_is_409(api, base, backup, volume):
    api.post(f"{base}/backups", {"backup": {"volume_id": str(volume.resource_id)}})  # waits in the queue
    answer = api.post(
        f"{base}/backups/{backup.pk}/restore", {"restore": {"volume_id": str(volume.resource_id)}}
    )
    error_of(answer, 409, "AutoBackup.0243")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"backup": {}}, "AutoBackup.0001"),
        ({"backup": {"volume_id": "not-a-uuid"}}, "AutoBackup.0001"),
        ({"backup": {"volume_id": str(uuid.uuid4()), "name": 5}}, "AutoBackup.0001"),
        ({"backup": {"volume_id": str(uuid.uuid4()), "incremental": True}}, "AutoBackup.0001"),
        ({"volume_id": "x"}, "AutoBackup.0001"),
        ([], "AutoBackup.0001"),
    ],
)
def test_a_bad_create_body_is_400(api, base, body, code):
    error_of(api.post(f"{base}/backups", body), 400, code)
    assert not Backup.objects.exists()


def test_create_of_an_unknown_volume_is_404(api, base):
    answer = api.post(f"{base}/backups", {"backup": {"volume_id": str(uuid.uuid4())}})
    error_of(answer, 404, "AutoBackup.0241")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"restore": {"name": "../x"}}, 400, "AutoBackup.0244"),
        ({"restore": {"name": "db.img"}}, 400, "AutoBackup.0244"),
        # 128 two-byte letters: 128 characters, 256 bytes, past what a file name holds.
        ({"restore": {"name": "é" * 128}}, 400, "AutoBackup.0244"),
        ({"restore": {"volume_id": 7}}, 400, "AutoBackup.0001"),
        ({"restore": {"bogus": 1}}, 400, "AutoBackup.0001"),
        ({"restore": {"volume_id": str(uuid.uuid4())}}, 404, "AutoBackup.0241"),
    ],
)
def test_a_bad_restore_body_is_refused(api, base, backup, body, status, code):
    error_of(api.post(f"{base}/backups/{backup.pk}/restore", body), status, code)
    assert Backup.objects.get().status == "available"


def test_an_empty_or_non_json_body_is_400_or_415(api, base, backup):
    error_of(api.post(f"{base}/backups"), 400, "AutoBackup.0000")
    error_of(api.post(f"{base}/backups", raw="{", content_type="application/json"), 400, "AutoBackup.0008")
    error_of(
        api.post(f"{base}/backups/{backup.pk}/restore", raw="x=1", content_type="text/plain"),
        415,
        "AutoBackup.0007",
    )


def test_another_projects_backup_is_404_on_every_route(api, base, tenant, backup):
    other = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=backup.task.tenant.memberships.first().user, tenant=other)
    for prefix in PREFIXES:
        theirs = f"{prefix}/{other.project_id}/backups/{backup.pk}"
        error_of(api.request("GET", theirs), 404, "AutoBackup.0240")
        error_of(api.request("DELETE", theirs), 404, "AutoBackup.0240")
        error_of(api.post(f"{theirs}/restore", {"restore": {"name": "n.img"}}), 404, "AutoBackup.0240")
        listed = api.request("GET", f"{prefix}/{other.project_id}/backups/detail").json()["backups"]
        assert listed == []
    error_of(api.request("GET", f"{base}/backups/{uuid.uuid4()}"), 404, "AutoBackup.0240")
    error_of(api.request("GET", f"{base}/backups/autobk_123"), 404, "AutoBackup.0240")
    assert Backup.objects.get().status == "available"


def test_a_project_not_of_the_token_is_403_and_no_token_401(base, api, backup):
    stranger = base.rsplit("/", 1)[0] + "/not-mine"
    error_of(api.request("GET", f"{stranger}/backups"), 403, "AutoBackup.0213")
    for method, path in [
        ("GET", "backups"),
        ("GET", "backups/detail"),
        ("GET", f"backups/{backup.pk}"),
        ("DELETE", f"backups/{backup.pk}"),
        ("POST", f"backups/{backup.pk}/restore"),
        ("POST", "backups"),
    ]:
        error_of(ContractClient(None).request(method, f"{base}/{path}"), 401, "AutoBackup.0002")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "backups"),
        ("DELETE", "backups"),
        ("POST", "backups/detail"),
        ("POST", "backups/{id}"),
        ("PUT", "backups/{id}"),
        ("GET", "backups/{id}/restore"),
        ("DELETE", "backups/{id}/restore"),
    ],
)
def test_a_wrong_method_is_405(api, base, backup, method, path):
    error_of(api.request(method, f"{base}/{path.format(id=backup.pk)}"), 405, "AutoBackup.0005")


def test_the_version_document_lists_v3_and_v2_without_a_token(client):
    for path in ("/volume/", "/volume"):
        versions = json.loads(client.get(path).content)["versions"]
        assert [v["id"] for v in versions] == ["v3.0", "v2.0"]
        assert versions[0]["links"][0]["href"].endswith("/volume/v3/")
    assert json.loads(client.get("/volume/v3/").content)["version"]["status"] == "CURRENT"
    error_of(client.get("/volume/v4/x"), 404, "AutoBackup.0004")


def test_each_version_listed_answers_at_its_link_without_a_token(client):
    for listed in json.loads(client.get("/volume/").content)["versions"]:
        link = listed["links"][0]["href"].removeprefix("http://testserver")
        answer = client.get(link)
        assert answer.status_code == 200, link
        assert json.loads(answer.content)["version"]["id"] == listed["id"]
    error_of(client.post("/v2/", {}), 405, "AutoBackup.0005")
