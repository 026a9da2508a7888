"""The sign-in routes: only signing in and out exist; nothing sends mail."""

from http import HTTPStatus

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/password_change/",
    ],
)
def test_password_reset_and_change_pages_do_not_exist(client, path):
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    assert client.post(path, {"email": "alice@example.com"}).status_code == HTTPStatus.NOT_FOUND


def test_no_route_is_named_password_reset(client):
    # The admin's sign-in page offers "Forgotten your password?" only when this name exists.
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert b"password_reset" not in client.get("/admin/login/").content


def test_signing_in_and_out_are_still_served(client, user):
    assert client.get("/accounts/login/").status_code == HTTPStatus.OK
    response = client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FOUND


def test_a_nul_byte_in_the_project_id_of_a_dashboard_page_is_404(client, user, tenant):
    client.force_login(user)
    assert client.get(f"/p/{tenant.project_id}/").status_code == HTTPStatus.OK
    assert client.get(f"/p/{tenant.project_id}%00/").status_code == HTTPStatus.NOT_FOUND
