"""The create contract over real HTTP, against the served app (pytest-django's live_server).

Django's test client calls the app in-process; these tests go through a socket, the WSGI server
and separate database connections per request, as a real client does.
"""

import threading
from http import HTTPStatus

import pytest

from policies.models import BackupPolicy
from tests.helpers.api import assert_policy_id, create_url
from tests.helpers.live_http import Answer, send
from tests.helpers.payloads import ERROR_ROWS, valid_payload
from tests.helpers.policies import fill

pytestmark = pytest.mark.usefixtures("transactional_db")

PARALLEL = 8


def test_a_valid_policy_is_created_over_http(live_server, tenant, token):
    answer = send(live_server, "POST", create_url(tenant), valid_payload(), token=token)
    assert answer.status == HTTPStatus.OK
    assert answer.headers["Content-Type"] == "application/json"
    policy_id = assert_policy_id(answer.body)
    assert BackupPolicy.objects.get(pk=policy_id).name == "policy_01"


@pytest.mark.parametrize(
    ("body", "status", "code"), [row[1:] for row in ERROR_ROWS], ids=[r[0] for r in ERROR_ROWS]
)
def test_every_row_of_the_error_table_is_answered_over_http(live_server, tenant, token, body, status, code):
    send(live_server, "POST", create_url(tenant), body, token=token).error(status, code)
    assert not BackupPolicy.objects.exists()


def test_a_full_project_is_refused_over_http(live_server, tenant, token):
    fill(tenant, 10)
    send(live_server, "POST", create_url(tenant), valid_payload(), token=token).error(400, "AutoBackup.0203")


def test_a_name_clash_is_409_over_http(live_server, tenant, token):
    fill(tenant, 1, prefix="Nightly")
    body = valid_payload(backup_policy_name="NIGHTLY_0")
    send(live_server, "POST", create_url(tenant), body, token=token).error(409, "AutoBackup.0230")


def test_a_post_with_a_trailing_slash_is_not_redirected(live_server, tenant, token):
    answer = send(live_server, "POST", create_url(tenant) + "/", valid_payload(), token=token)
    answer.error(404, "AutoBackup.0004")
    assert "Location" not in answer.headers
    assert not BackupPolicy.objects.exists()


@pytest.mark.parametrize("path", ["/v2/nowhere", "/v2/tenant-a/backuppolicy/extra/more", "/v2"])
def test_an_unknown_route_is_a_json_404_over_http(live_server, path):
    send(live_server, "GET", path, headers={"Accept": "text/html"}).error(404, "AutoBackup.0004")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_wrong_method_is_405_over_http(live_server, tenant, token, method):
    send(live_server, method, create_url(tenant), token=token).error(405, "AutoBackup.0005")


def test_an_accept_without_json_is_406_over_http(live_server, tenant, token):
    answer = send(
        live_server, "POST", create_url(tenant), valid_payload(), token=token, headers={"Accept": "text/html"}
    )
    answer.error(406, "AutoBackup.0015")


def test_a_body_that_is_not_json_is_415_over_http(live_server, tenant, token):
    answer = send(
        live_server,
        "POST",
        create_url(tenant),
        b"name=x",
        token=token,
        headers={"Content-Type": "text/plain"},
    )
    answer.error(415, "AutoBackup.0007")


@pytest.mark.parametrize(
    ("raw_token", "code"),
    [(None, "AutoBackup.0002"), ("", "AutoBackup.0002"), ("bpc_nope", "AutoBackup.0003")],
)
def test_a_missing_or_unknown_token_is_401_over_http(live_server, tenant, raw_token, code):
    send(live_server, "POST", create_url(tenant), valid_payload(), token=raw_token).error(401, code)


def test_another_project_is_403_over_http(live_server, token, other_tenant):
    send(live_server, "POST", create_url(other_tenant), valid_payload(), token=token).error(
        403, "AutoBackup.0213"
    )


# --- the quota under parallel requests --------------------------------------------------------


def post_in_parallel(live_server, path: str, token: str, bodies: list[dict]) -> list[Answer]:
    """POST every body at once, one thread and one connection each; return the answers in order."""
    barrier = threading.Barrier(len(bodies))
    answers: list[Answer | BaseException | None] = [None] * len(bodies)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = send(live_server, "POST", path, bodies[index], token=token)
        except BaseException as exc:  # reported below, in the test's thread
            answers[index] = exc

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [answer for answer in answers if not isinstance(answer, Answer)]
    assert not failures, failures
    return answers


def test_parallel_creates_on_a_project_holding_9_policies_make_exactly_one(live_server, tenant, token):
    fill(tenant, 9)
    bodies = [valid_payload(backup_policy_name=f"parallel_{index}") for index in range(PARALLEL)]
    answers = post_in_parallel(live_server, create_url(tenant), token, bodies)
    assert sorted(answer.status for answer in answers) == [200] + [400] * (PARALLEL - 1)
    for answer in answers:
        if answer.status == HTTPStatus.BAD_REQUEST:
            answer.error(400, "AutoBackup.0203")
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


def test_parallel_creates_of_one_name_make_exactly_one(live_server, tenant, token):
    bodies = [valid_payload(backup_policy_name="Same" if index % 2 else "same") for index in range(PARALLEL)]
    answers = post_in_parallel(live_server, create_url(tenant), token, bodies)
    assert sorted(answer.status for answer in answers) == [200] + [409] * (PARALLEL - 1)
    for answer in answers:
        if answer.status == HTTPStatus.CONFLICT:
            answer.error(409, "AutoBackup.0230")
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 1
