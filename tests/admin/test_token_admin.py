"""API tokens in the admin: issued through the service with the raw token shown once, never the
digest; revoked with an action, after which the API refuses the token at once."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from policies import accounts
from policies.models import ApiToken, AuditEvent, hash_token
from tests.helpers.admin import admin_url
from tests.helpers.api import ContractClient, create_url
from tests.helpers.factories import UserFactory
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db

CHANGELIST = admin_url("apitoken", "changelist")
ADD = admin_url("apitoken", "add")


def ticket_of(admin_client) -> str:
    """Draw the add page, as a person would, and return its one-use issue ticket."""
    match = re.search(r'name="issue_ticket" value="([^"]+)"', admin_client.get(ADD).content.decode())
    assert match, "the add page carries an issue ticket"
    return match.group(1)


def issue(admin_client, user, days=""):
    return admin_client.post(
        ADD, {"user": user.pk, "expires_in_days": days, "issue_ticket": ticket_of(admin_client)}
    )


def raw_from(response) -> str:
    match = re.search(r'id="raw-token"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "the page shows the raw token"
    return match.group(1)


def test_issuing_shows_the_raw_token_once_and_stores_only_its_digest(admin_client, user):
    response = issue(admin_client, user, days="30")
    assert response.status_code == HTTPStatus.OK
    raw = raw_from(response)
    token = ApiToken.objects.get(user=user)
    assert token.digest == hash_token(raw)
    assert raw.startswith(token.prefix)
    assert "no-store" in response["Cache-Control"]
    assert timezone.now() + timedelta(days=29) < token.expires_at <= timezone.now() + timedelta(days=30)
    # Shown once: no later page has it.
    for url in (
        CHANGELIST,
        admin_url("apitoken", "change", token.pk),
        admin_url("apitoken", "history", token.pk),
    ):
        assert raw not in admin_client.get(url).content.decode()


def test_issuing_goes_through_the_token_service(admin_client, user, monkeypatch):
    calls = []
    issue_token = accounts.token_issue

    def spy(**kwargs):
        calls.append(kwargs)
        return issue_token(**kwargs)

    monkeypatch.setattr(accounts, "token_issue", spy)
    raw = raw_from(issue(admin_client, user, days="2"))
    [call] = calls
    assert (call["user"], call["expires_in"]) == (user, timedelta(days=2))
    assert call["actor"].entrance == "admin"  # the issue is recorded in the audit trail
    assert ApiToken.objects.get().digest == hash_token(raw)


def test_an_issued_token_works_at_the_api_and_its_prefix_is_in_the_audit_trail(admin_client, user, tenant):
    raw = raw_from(issue(admin_client, user))
    assert ApiToken.objects.get(user=user).expires_at is None
    response = ContractClient(raw).post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.OK
    issued, created = AuditEvent.objects.order_by("at", "id")
    assert (issued.action, issued.entrance, issued.username, issued.token_prefix) == (
        "issue",
        "admin",
        "root",
        raw[:10],
    )
    assert (created.entrance, created.username, created.token_prefix) == ("api", "alice", raw[:10])


def test_a_token_is_not_issued_to_a_deactivated_user(admin_client):
    gone = UserFactory(username="gone", is_active=False)
    response = issue(admin_client, gone)
    assert response.status_code == HTTPStatus.OK
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "-1", "3651", "soon"])
def test_a_bad_expiry_is_refused(admin_client, user, days):
    response = issue(admin_client, user, days=days)
    assert "expires_in_days" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_no_admin_page_shows_the_digest(admin_client, user, tenant, token):
    stored = ApiToken.objects.get(user=user)
    ContractClient(token).post(create_url(tenant), valid_payload())  # a use, and an audit record
    pages = [
        CHANGELIST,
        CHANGELIST + f"?q={stored.prefix}",
        ADD,
        admin_url("apitoken", "change", stored.pk),
        admin_url("apitoken", "delete", stored.pk),
        admin_url("apitoken", "history", stored.pk),
        admin_url("auditevent", "changelist"),
        admin_url("auditevent", "change", AuditEvent.objects.get().pk),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        html = response.content.decode()
        assert stored.digest not in html, url
        assert token not in html, url
    assert stored.prefix in admin_client.get(CHANGELIST).content.decode()


def test_the_token_page_is_read_only(admin_client, user, token):
    stored = ApiToken.objects.get(user=user)
    url = admin_url("apitoken", "change", stored.pk)
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert not response.context["adminform"].form.fields  # nothing to edit
    other = UserFactory(username="mallory")
    assert admin_client.post(url, {"user": other.pk, "expires_at_0": "2000-01-01"}).status_code == 403
    stored.refresh_from_db()
    assert (stored.user, stored.expires_at) == (user, None)


def test_the_revoke_action_makes_tokens_unusable_at_once(admin_client, user, api, tenant):
    token = ApiToken.objects.get(user=user)
    assert api.post(create_url(tenant), valid_payload()).status_code == HTTPStatus.OK
    response = admin_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == HTTPStatus.OK
    assert "Revoked 1 token" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = api.post(create_url(tenant), valid_payload(backup_policy_name="second"))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["code"] == "AutoBackup.0003"


def test_revoking_an_already_revoked_token_keeps_its_revocation_time(admin_client, user, token):
    stored = ApiToken.objects.get(user=user)
    accounts.token_revoke(token=stored)
    first = ApiToken.objects.get(pk=stored.pk).revoked_at
    response = admin_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [stored.pk]}, follow=True
    )
    assert "Revoked 0 tokens" in response.content.decode()
    assert ApiToken.objects.get(pk=stored.pk).revoked_at == first


def test_sending_the_issue_form_again_issues_no_second_token(admin_client, user):
    """A reload of the "issued" page resends the POST: it must not issue (and show) another."""
    data = {"user": user.pk, "expires_in_days": "", "issue_ticket": ticket_of(admin_client)}
    first = admin_client.post(ADD, data)
    raw_from(first)
    again = admin_client.post(ADD, data, follow=True)
    assert ApiToken.objects.count() == 1
    assert 'id="raw-token"' not in again.content.decode()
    assert "already used" in again.content.decode()


def test_a_refused_issue_form_keeps_its_ticket_for_the_corrected_send(admin_client, user):
    ticket = ticket_of(admin_client)
    refused = admin_client.post(ADD, {"user": user.pk, "expires_in_days": "0", "issue_ticket": ticket})
    assert refused.status_code == HTTPStatus.OK
    assert ApiToken.objects.count() == 0
    raw_from(admin_client.post(ADD, {"user": user.pk, "expires_in_days": "3", "issue_ticket": ticket}))
    assert ApiToken.objects.count() == 1


def test_an_issue_form_without_a_ticket_issues_nothing(admin_client, user):
    admin_client.post(ADD, {"user": user.pk, "expires_in_days": ""})
    assert ApiToken.objects.count() == 0
