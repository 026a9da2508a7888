"""What is compressed, and what never is (BREACH: a secret beside reflected input)."""

import gzip
import json
from http import HTTPStatus

import pytest

from tests.helpers.api import create_url
from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

ACCEPTS_GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate"}


def test_the_live_preview_is_compressed_and_holds_no_csrf_token(client, user, tenant):
    client.force_login(user)
    response = client.post(url("policy_preview", tenant), form_data(), **HTMX, **ACCEPTS_GZIP)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = gzip.decompress(response.content).decode()
    assert 'id="utc-preview"' in body
    assert "csrfmiddlewaretoken" not in body


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [("policy_create", "get", None), ("policy_preview", "post", form_data(preview="1"))],
    ids=["the form page", "the preview page without javascript"],
)
def test_a_whole_page_carries_the_csrf_token_and_is_never_compressed(
    client, user, tenant, name, method, data
):
    client.force_login(user)
    send = getattr(client, method)
    response = (
        send(url(name, tenant), data, **ACCEPTS_GZIP) if data else send(url(name, tenant), **ACCEPTS_GZIP)
    )
    assert response.status_code == HTTPStatus.OK
    assert not response.has_header("Content-Encoding")
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_the_api_list_is_compressed_for_a_client_that_accepts_gzip(api, tenant):
    for index in range(3):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{index}"))
    response = api.request("GET", create_url(tenant.project_id), **ACCEPTS_GZIP)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["backup_policies"]) == 3


def test_the_api_list_is_plain_for_a_client_that_does_not_accept_gzip(api, tenant):
    make_policy(tenant, payload=valid_payload(backup_policy_name="p"))
    response = api.request("GET", create_url(tenant.project_id))
    assert not response.has_header("Content-Encoding")
    assert len(response.json()["backup_policies"]) == 1
