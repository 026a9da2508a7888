"""API tokens in the dashboard: a user lists, issues (shown once) and revokes their own tokens."""

import html
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies import accounts
from policies.models import ApiToken, AuditEvent, hash_token
from tests.helpers.api import ContractClient, create_url
from tests.helpers.dashboard import HTMX
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db

LIST = reverse("policies:token_list")
ISSUE = reverse("policies:token_issue")


def revoke_url(token) -> str:
    return reverse("policies:token_revoke", kwargs={"token_id": token.pk})


def ticket_of(body: str) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', body)[1]


def issue(client, project_id="tenant-a", expires="90", headers=None):
    ticket = ticket_of(client.get(LIST).content.decode())
    return client.post(
        ISSUE, {"project": project_id, "expires": expires, "ticket": ticket}, **(headers or {})
    )


def raw_of(response) -> str:
    return re.search(r'id="raw-token" type="text" readonly value="([^"]+)"', response.content.decode())[1]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_member_issues_a_token_that_works_at_the_api_and_is_shown_once(member, user, tenant, headers):
    response = issue(member, headers=headers)
    assert response.status_code == HTTPStatus.OK
    assert "no-cache" in response["Cache-Control"]
    body = html.unescape(response.content.decode())
    assert ("<html" in body) is not bool(headers)  # the partial alone to htmx
    raw = raw_of(response)
    token = ApiToken.objects.get(user=user)
    assert token.digest == hash_token(raw)
    assert f"curl -H 'X-Auth-Token: {raw}' http://testserver/v2/tenant-a/backuppolicy" in body
    assert ContractClient(raw).post(create_url(tenant), valid_payload()).status_code == HTTPStatus.OK
    assert raw not in member.get(LIST).content.decode()  # never again


def test_the_list_shows_prefix_created_last_used_and_expiry_in_one_date_format(member, user):
    token, _raw = accounts.token_issue(user=user)
    body = member.get(LIST).content.decode()
    assert f"{token.prefix}…" in body
    created = token.created_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f'<td data-label="Created">{created}</td>' in body
    assert '<td data-label="Last used">never</td>' in body


def test_issue_and_revoke_are_audited_with_the_dashboard_as_entrance(member, user):
    raw = raw_of(issue(member))
    token = ApiToken.objects.get(user=user)
    member.post(revoke_url(token))
    issued, revoked = AuditEvent.objects.order_by("at", "id")
    assert (issued.action, issued.entrance, issued.username, issued.token_prefix, issued.project_id) == (
        "issue",
        "dashboard",
        "alice",
        raw[:10],
        "tenant-a",
    )
    assert (revoked.action, revoked.entrance, revoked.token_prefix) == ("revoke", "dashboard", raw[:10])


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_revoked_token_is_refused_by_the_api_and_the_page_says_so(member, user, tenant, headers):
    token, raw = accounts.token_issue(user=user)
    response = member.post(revoke_url(token), **headers, follow=not headers)
    body = html.unescape(response.content.decode())
    assert f"Token {token.prefix}… revoked" in body
    assert 'id="messages"' in body  # the one place for confirmations
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        ContractClient(raw).post(create_url(tenant), valid_payload()).status_code == HTTPStatus.UNAUTHORIZED
    )


def test_reloading_the_issued_page_does_not_issue_a_second_token(member, user):
    ticket = ticket_of(member.get(LIST).content.decode())
    data = {"project": "tenant-a", "expires": "", "ticket": ticket}
    member.post(ISSUE, data)
    again = member.post(ISSUE, data, follow=True)
    assert "no token was issued now" in again.content.decode()
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_token_cannot_be_issued_for_another_tenants_project(member, user, other_tenant):
    response = issue(member, project_id=other_tenant.project_id)
    assert response.status_code == HTTPStatus.OK
    assert "project-errors" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_another_users_token_is_neither_listed_nor_revocable(member, tenant):
    bob = UserFactory(username="bob")
    MembershipFactory(user=bob, tenant=tenant)
    theirs, _raw = accounts.token_issue(user=bob)
    assert theirs.prefix not in member.get(LIST).content.decode()
    assert member.post(revoke_url(theirs)).status_code == HTTPStatus.NOT_FOUND
    assert member.post(reverse("policies:token_revoke", kwargs={"token_id": "x"})).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(
    ("method", "target"), [("get", LIST), ("post", ISSUE), ("post", "/tokens/1/revoke")], ids=str
)
def test_anonymous_is_sent_to_sign_in(client, db, method, target):
    response = getattr(client, method)(target)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("method", "target"), [("post", LIST), ("get", ISSUE), ("get", "/tokens/1/revoke")])
def test_the_wrong_method_is_refused(member, method, target):
    assert getattr(member, method)(target).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_expiry_choice_sets_when_it_stops_working(member, user):
    issue(member, expires="30")
    token = ApiToken.objects.get(user=user)
    assert (token.expires_at - token.created_at).days == 30


def test_a_member_of_several_projects_picks_the_example_project(member, user):
    second = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=user, tenant=second)
    body = html.unescape(issue(member, project_id="tenant-c").content.decode())
    assert "/v2/tenant-c/backuppolicy" in body
