"""The create contract over real HTTP, against the served app (pytest-django's live_server).

Django's test client calls the app in-process; these tests go through a socket, the WSGI server
and separate database connections per request, as a real client does. They hold what only a
socket shows: a create committed and answered with its headers, one refusal's envelope, and
parallel requests racing for the quota and a name; every refusal's status and code is tested
through the test client (tests/api/test_create.py, tests/api/test_routes.py).
"""

import threading
from http import HTTPStatus

import pytest

from policies.models import BackupPolicy
from tests.helpers.api import assert_policy_id, create_url
from tests.helpers.live_http import Answer, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import fill

pytestmark = pytest.mark.usefixtures("transactional_db")

PARALLEL = 8


def test_a_valid_policy_is_created_over_http(live_server, tenant, token):
    answer = send(live_server, "POST", create_url(tenant), valid_payload(), token=token)
    assert answer.status == HTTPStatus.OK
    assert answer.headers["Content-Type"] == "application/json"
    policy_id = assert_policy_id(answer.body)
    assert BackupPolicy.objects.get(pk=policy_id).name == "policy_01"


def test_a_full_project_is_refused_over_http(live_server, tenant, token):
    fill(tenant, 10)
    send(live_server, "POST", create_url(tenant), valid_payload(), token=token).error(400, "AutoBackup.0203")


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
