"""Repeated failed sign-ins are locked out for a while, per username and client address."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from tests.helpers.api import ContractClient, create_url
from tests.helpers.factories import PASSWORD, UserFactory
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
HOME = "10.0.0.1"


def sign_in(client, username, password, *, url=LOGIN, address=HOME, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail(client, username, times, **kwargs):
    return [sign_in(client, username, "wrong-password", **kwargs) for _ in range(times)]


def signed_in(client) -> bool:
    return client.session.get("_auth_user_id") is not None


def test_the_limit_is_a_few_attempts_and_the_wait_is_minutes():
    assert 3 <= LIMIT <= 10
    assert timedelta(minutes=5) <= settings.AXES_COOLOFF_TIME <= timedelta(hours=1)


def test_failures_below_the_limit_show_the_form_again(client, user):
    answers = fail(client, "alice", LIMIT - 1)
    assert [answer.status_code for answer in answers] == [HTTPStatus.OK] * (LIMIT - 1)
    assert sign_in(client, "alice", PASSWORD).status_code == HTTPStatus.FOUND
    assert signed_in(client)


def test_the_failure_that_reaches_the_limit_gets_the_lockout_page(client, user):
    *_, last = fail(client, "alice", LIMIT)
    assert last.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert last["Content-Type"].startswith("text/html")
    page = last.content.decode()
    assert "Sign-in paused" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"Try again in {minutes} minutes" in page
    assert "alice" in page
    assert last["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def test_a_locked_out_user_is_refused_even_with_the_right_password(client, user):
    fail(client, "alice", LIMIT)
    answer = sign_in(client, "alice", PASSWORD)
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in(client)


def test_the_admin_sign_in_is_locked_out_too(client):
    UserFactory(username="staff", is_staff=True, is_superuser=True)
    *_, last = fail(client, "staff", LIMIT, url=ADMIN_LOGIN)
    assert last.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Sign-in paused" in last.content.decode()
    assert sign_in(client, "staff", PASSWORD, url=ADMIN_LOGIN).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_failures_count_across_the_two_sign_in_pages(client):
    UserFactory(username="staff", is_staff=True, is_superuser=True)
    fail(client, "staff", LIMIT - 1, url=ADMIN_LOGIN)
    assert fail(client, "staff", 1)[0].status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_same_user_from_another_address_can_still_sign_in(client, user):
    fail(client, "alice", LIMIT)
    assert sign_in(client, "alice", PASSWORD, address="10.0.0.2").status_code == HTTPStatus.FOUND


def test_another_user_from_the_same_address_can_still_sign_in(client, user):
    UserFactory(username="bob")
    fail(client, "alice", LIMIT)
    assert sign_in(client, "bob", PASSWORD).status_code == HTTPStatus.FOUND


def test_a_forwarded_for_header_does_not_reset_the_count_by_default(client, user):
    # Without a proxy configured, the header is the client's own word: it must not change who they are.
    for index in range(LIMIT - 1):
        sign_in(client, "alice", "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}")
    answer = sign_in(client, "alice", "wrong-password", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_after_the_wait_the_user_can_sign_in_again(client, user):
    fail(client, "alice", LIMIT)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1))
    assert sign_in(client, "alice", PASSWORD).status_code == HTTPStatus.FOUND
    assert signed_in(client)


def test_a_successful_sign_in_starts_the_count_again(client, user):
    fail(client, "alice", LIMIT - 1)
    assert sign_in(client, "alice", PASSWORD).status_code == HTTPStatus.FOUND
    client.logout()
    answers = fail(client, "alice", LIMIT - 1)
    assert answers[-1].status_code == HTTPStatus.OK


def test_api_tokens_are_not_affected_by_a_lockout(client, user, token, tenant):
    fail(client, "alice", LIMIT)
    response = ContractClient(token).post(create_url(tenant), valid_payload(), REMOTE_ADDR=HOME)
    assert response.status_code == HTTPStatus.OK


def test_bad_api_tokens_do_not_count_as_failed_sign_ins(client, user, tenant):
    for _ in range(LIMIT + 2):
        response = ContractClient("bpc_not-a-token").post(
            create_url(tenant), valid_payload(), REMOTE_ADDR=HOME
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "alice", PASSWORD).status_code == HTTPStatus.FOUND


def test_an_attempt_during_the_wait_starts_the_wait_again(client, user):
    fail(client, "alice", LIMIT)
    half = settings.AXES_COOLOFF_TIME * 2 / 3
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - half)
    assert fail(client, "alice", 1)[0].status_code == HTTPStatus.TOO_MANY_REQUESTS
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - half)
    # The first failure is now longer ago than the wait; the last one is not.
    assert sign_in(client, "alice", PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS
