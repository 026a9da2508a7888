"""The routes of the lifecycle (docs/api.md, "Conventions" and "The policy lifecycle"): precedence, methods, the gate, protocol errors."""

import pytest

from policies.models import BackupPolicy
from tests.helpers.api import ContractClient, error_of, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# (method, path under /v2/{project_id}/backuppolicy, body): every operation of section 3.
OPERATIONS = [
    ("GET", "", None),
    ("POST", "", valid_payload(backup_policy_name="new")),
    ("GET", "/tags", None),
    ("POST", "/resource_instances/action", {"action": "count"}),
    ("PUT", "/{id}", {"scheduled_policy": {"status": "OFF"}}),
    ("DELETE", "/{id}", None),
    ("GET", "/{id}/tags", None),
    ("POST", "/{id}/tags", {"tag": {"key": "a", "value": "b"}}),
    ("DELETE", "/{id}/tags/key", None),
    ("POST", "/{id}/tags/action", {"action": "create", "tags": [{"key": "a", "value": "b"}]}),
    ("DELETE", "/{id}/tags/action", None),
]
OPERATION_IDS = [f"{method} {path or '/'}" for method, path, _ in OPERATIONS]

# The methods each path does not serve.
WRONG_METHODS = [
    ("", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    ("/tags", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    ("/{id}", ["GET", "POST", "PATCH", "OPTIONS"]),
    ("/{id}/tags", ["PUT", "PATCH", "DELETE", "OPTIONS"]),
    ("/{id}/tags/key", ["GET", "POST", "PUT", "PATCH", "OPTIONS"]),
    ("/{id}/tags/action", ["GET", "PUT", "PATCH", "OPTIONS"]),
    ("/resource_instances/action", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]),
]
ALLOWED = {
    "": "GET, POST",
    "/tags": "GET",
    "/{id}": "PUT, DELETE",
    "/{id}/tags": "GET, POST",
    "/{id}/tags/key": "DELETE",
    "/{id}/tags/action": "POST, DELETE",
    "/resource_instances/action": "POST",
}


@pytest.fixture
def policy(tenant):
    tags = [{"key": "key", "value": "v"}, {"key": "action", "value": "a"}]
    return make_policy(tenant, payload=valid_payload(tags=tags))


def url(tenant, path: str, policy=None) -> str:
    project_id = getattr(tenant, "project_id", tenant)
    return f"/v2/{project_id}/backuppolicy{path.replace('{id}', str(getattr(policy, 'pk', policy)))}"


# --- every operation answers, and literal routes win ---------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
def test_every_operation_succeeds_for_the_owner(api, tenant, policy, method, path, body):
    response = send(api, method, url(tenant, path, policy), body)
    assert response.status_code in (200, 204), response.content


def test_the_project_tag_list_is_not_read_as_a_policy_lookup(api, tenant, policy):
    response = send(api, "GET", url(tenant, "/tags"))
    assert response.status_code == 200
    assert response.json() == {"tags": [{"key": "action", "values": ["a"]}, {"key": "key", "values": ["v"]}]}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_write_to_the_project_tag_list_is_405_not_a_missing_policy(api, tenant, method):
    response = send(api, method, url(tenant, "/tags"), {"backup_policy_name": "x"})
    error_of(response, 405, "AutoBackup.0005")
    assert response["Allow"] == "GET"


def test_the_batch_route_is_not_read_as_a_tag_key(api, tenant, policy):
    body = {"action": "delete", "tags": [{"key": "key"}]}
    assert send(api, "POST", url(tenant, "/{id}/tags/action", policy), body).status_code == 204
    assert [tag.key for tag in policy.tags.all()] == ["action"]


# --- methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, methods in WRONG_METHODS for method in methods],
    ids=[f"{method} {path or '/'}" for path, methods in WRONG_METHODS for method in methods],
)
def test_a_method_a_path_does_not_serve_is_405_before_the_token_with_allow(
    anonymous, tenant, policy, path, method
):
    response = anonymous.request(method, url(tenant, path, policy))
    assert response.status_code == 405
    if method != "HEAD":
        error_of(response, 405, "AutoBackup.0005")
    assert response["Allow"] == ALLOWED[path]
    assert BackupPolicy.objects.filter(pk=policy.pk).exists()


# --- the gate: 401, then 403, then 404 ------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
def test_no_token_is_401_0002_on_every_route(anonymous, tenant, policy, method, path, body):
    error_of(send(anonymous, method, url(tenant, path, policy), body), 401, "AutoBackup.0002")


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
def test_an_unknown_token_is_401_0003_on_every_route(tenant, policy, method, path, body):
    client = ContractClient("bpc_unknown")
    error_of(send(client, method, url(tenant, path, policy), body), 401, "AutoBackup.0003")


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
@pytest.mark.parametrize("project", ["tenant-b", "no-such-project"])
def test_a_project_not_of_the_token_is_403_0213_on_every_route(
    api, other_tenant, policy, method, path, body, project
):
    # The caller's own policy ID under a project they are not in: the project is checked first.
    error_of(send(api, method, url(project, path, policy), body), 403, "AutoBackup.0213")
    assert BackupPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS[4:], ids=OPERATION_IDS[4:])
def test_the_policy_of_another_project_is_404_0205_on_every_policy_route(
    api, tenant, other_tenant, method, path, body
):
    theirs = make_policy(other_tenant, payload=valid_payload())
    error_of(send(api, method, url(tenant, path, theirs), body), 404, "AutoBackup.0205")
    assert BackupPolicy.objects.get(pk=theirs.pk).to_spec().to_payload() == valid_payload()


# --- protocol errors on the new routes --------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
def test_a_trailing_slash_is_a_404_0004_never_a_redirect(api, tenant, policy, method, path, body):
    response = send(api, method, url(tenant, path, policy) + "/", body)
    error = error_of(response, 404, "AutoBackup.0004")
    assert "Location" not in response
    assert "no trailing slash" in error["message"]


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=OPERATION_IDS)
def test_an_accept_without_json_is_406_on_every_route(api, tenant, policy, method, path, body):
    response = send(api, method, url(tenant, path, policy), body, HTTP_ACCEPT="text/html")
    error_of(response, 406, "AutoBackup.0015")


@pytest.mark.parametrize(
    "path", ["/{id}/tags/key/extra", "/{id}/extra", "/{id}/tags/action/x", "/tags/x", "/{id}//tags"]
)
def test_a_path_beyond_the_routes_is_404_0004(api, tenant, policy, path):
    error_of(send(api, "GET", url(tenant, path, policy)), 404, "AutoBackup.0004")


@pytest.mark.parametrize(
    ("method", "path", "body"), [op for op in OPERATIONS if op[2] is not None], ids=lambda v: None
)
def test_a_body_that_is_not_declared_as_json_is_415_on_every_route_that_reads_one(
    api, tenant, policy, method, path, body
):
    response = send(api, method, url(tenant, path, policy), body, content_type="text/plain")
    error_of(response, 415, "AutoBackup.0007")


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS", "DELETE"])
@pytest.mark.parametrize("path", ["/v2/tenant-a/nothing", "/v2/tenant-a/backuppolicy/"])
def test_a_404_names_no_allowed_method(api, method, path):
    # No route serves the path, so no method is allowed there: not even OPTIONS.
    response = send(api, method, path)
    error_of(response, 404, "AutoBackup.0004")
    assert "Allow" not in response
