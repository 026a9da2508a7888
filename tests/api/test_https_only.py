"""Where the deployment redirects HTTP to HTTPS, the API refuses plain HTTP instead of redirecting."""

from http import HTTPStatus

import pytest

from tests.helpers.api import create_url
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.usefixtures("https_only")
def test_plain_http_to_the_api_is_refused_in_the_envelope_without_a_redirect(api, tenant):
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Location" not in response
    error = response.json()["error"]
    assert error["code"] == "AutoBackup.0014"
    assert f"https://testserver{create_url(tenant)}" in error["message"]


@pytest.mark.usefixtures("https_only", "user")
def test_https_to_the_api_is_served(api, tenant):
    response = api.post(create_url(tenant), valid_payload(), secure=True)
    assert response.status_code == HTTPStatus.OK


@pytest.mark.usefixtures("https_only")
def test_the_dashboard_and_the_docs_are_still_redirected(client):
    for path in ("/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
        assert response["Location"].startswith("https://")


def test_without_the_redirect_setting_plain_http_is_served(api, tenant, user, settings):
    settings.SECURE_SSL_REDIRECT = False
    assert api.post(create_url(tenant), valid_payload()).status_code == HTTPStatus.OK
