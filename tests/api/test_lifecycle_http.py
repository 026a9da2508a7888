"""The lifecycle routes over real HTTP (live_server): what a socket sees that the test client hides."""

import http.client
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest

from policies.models import BackupPolicy
from tests.helpers.api import assert_policy_id, create_url, policy_url, project_tags_url
from tests.helpers.live_http import send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def policy(tenant):
    return make_policy(tenant, payload=valid_payload())


def raw_exchange(live_server, request: bytes) -> bytes:
    """Send bytes as they are and read the whole answer (the server closes the connection)."""
    import socket

    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_delete_is_204_with_no_body_and_no_content_type_over_http(live_server, tenant, token, policy):
    path = policy_url(tenant, policy)
    request = (
        f"DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = raw_exchange(live_server, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204"), head
    assert body == b""
    names = [line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")[1:]]
    assert b"content-type" not in names
    assert not BackupPolicy.objects.filter(pk=policy.pk).exists()


def test_put_with_a_json_body_modifies_over_http(live_server, tenant, token, policy):
    body = {"backup_policy_name": "renamed", "scheduled_policy": {"frequency": 2}}
    answer = send(live_server, "PUT", policy_url(tenant, policy), body, token=token)
    assert answer.status == HTTPStatus.OK, answer.raw
    assert answer.headers["Content-Type"] == "application/json"
    assert assert_policy_id(answer.body) == policy.pk
    stored = BackupPolicy.objects.get(pk=policy.pk)
    assert (stored.name, stored.frequency, stored.week_frequency) == ("renamed", 2, "")


def test_a_refused_put_is_the_envelope_over_http(live_server, tenant, token, policy):
    answer = send(live_server, "PUT", policy_url(tenant, policy), b"{}", token=token)
    answer.error(400, "AutoBackup.0000")


def test_the_list_over_http_shows_what_was_created(live_server, tenant, token):
    created = send(live_server, "POST", create_url(tenant), valid_payload(), token=token).body
    answer = send(live_server, "GET", create_url(tenant), token=token)
    assert answer.status == HTTPStatus.OK
    assert [item["backup_policy_id"] for item in answer.body["backup_policies"]] == [
        created["backup_policy_id"]
    ]


def test_the_tag_routes_over_http(live_server, tenant, token, policy):
    tags = f"{policy_url(tenant, policy)}/tags"
    added = send(live_server, "POST", tags, {"tag": {"key": "env", "value": "prod"}}, token=token)
    assert (added.status, added.raw) == (204, b"")
    batch = {"action": "delete", "tags": [{"key": "key"}]}
    assert send(live_server, "POST", f"{tags}/action", batch, token=token).status == 204
    assert send(live_server, "GET", tags, token=token).body == {"tags": [{"key": "env", "value": "prod"}]}
    assert send(live_server, "GET", project_tags_url(tenant), token=token).body == {
        "tags": [{"key": "env", "values": ["prod"]}]
    }
    removed = send(live_server, "DELETE", f"{tags}/env", token=token, headers={"Content-Type": ""})
    assert (removed.status, removed.raw) == (204, b"")
    send(live_server, "DELETE", f"{tags}/env", token=token).error(404, "AutoBackup.0216")


def test_a_trailing_slash_on_a_policy_is_404_not_a_redirect_over_http(live_server, tenant, token, policy):
    answer = send(live_server, "GET", policy_url(tenant, policy) + "/", token=token)
    answer.error(404, "AutoBackup.0004")
    assert "Location" not in answer.headers


def test_keep_alive_connections_survive_a_204(live_server, tenant, token, policy):
    # A 204 must not carry a body the client would read as the start of the next answer.
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    try:
        tags = f"{policy_url(tenant, policy)}/tags"
        connection.request("POST", tags, body=b'{"tag": {"key": "a", "value": "b"}}', headers=headers)
        first = connection.getresponse()
        assert (first.status, first.read()) == (204, b"")
        connection.request("GET", tags, headers=headers)
        second = connection.getresponse()
        assert second.status == 200
        assert b'"key":"a"' in second.read()
    finally:
        connection.close()
