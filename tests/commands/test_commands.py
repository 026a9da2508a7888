"""The management commands: create_tenant, issue_token and seed_demo (called as operators do)."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from policies import selectors
from policies.management.commands.seed_demo import DEMO_POLICIES, DEMO_PROJECT
from policies.models import ApiToken, BackupPolicy, Membership, Tenant
from tests.helpers.api import ContractClient, create_url
from tests.helpers.factories import TenantFactory, UserFactory
from tests.helpers.payloads import valid_payload

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def last_line(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


# --- create_tenant ----------------------------------------------------------------------------


def test_create_tenant_creates_a_new_tenant_with_its_name():
    output = run("create_tenant", "my-project", "--name", "My project")
    assert Tenant.objects.get(project_id="my-project").name == "My project"
    assert "created my-project" in output


def test_create_tenant_creates_every_project_named():
    run("create_tenant", "p1", "p2", "p_3")
    assert sorted(Tenant.objects.values_list("project_id", flat=True)) == ["p1", "p2", "p_3"]


def test_create_tenant_leaves_an_existing_tenant_as_it_is():
    TenantFactory(project_id="my-project", name="Original")
    output = run("create_tenant", "my-project", "--name", "Renamed")
    assert Tenant.objects.get(project_id="my-project").name == "Original"
    assert Tenant.objects.count() == 1
    assert "exists" in output


@pytest.mark.parametrize("project_id", ["has space", "p" * 65, "", "proj/1", "café"])
def test_create_tenant_refuses_an_invalid_project_id(project_id):
    with pytest.raises(CommandError):
        run("create_tenant", project_id)
    assert not Tenant.objects.exists()


def test_create_tenant_creates_none_when_one_of_the_ids_is_invalid():
    with pytest.raises(CommandError, match="nothing was created"):
        run("create_tenant", "good-one", "bad id")
    assert not Tenant.objects.exists()


# --- issue_token ------------------------------------------------------------------------------


def test_issue_token_creates_the_user_and_the_memberships():
    TenantFactory(project_id="p1")
    TenantFactory(project_id="p2")
    run("issue_token", "bob", "--project", "p1", "--project", "p2")
    bob = get_user_model().objects.get(username="bob")
    assert sorted(Membership.objects.filter(user=bob).values_list("tenant__project_id", flat=True)) == [
        "p1",
        "p2",
    ]


def test_issue_token_prints_the_raw_token_alone_on_the_last_line_and_it_authenticates():
    tenant = TenantFactory(project_id="p1")
    raw = last_line(run("issue_token", "bob", "--project", "p1"))
    assert re.fullmatch(r"bpc_[A-Za-z0-9_-]{43}", raw)
    response = ContractClient(raw).post(create_url(tenant), valid_payload())
    assert response.status_code == 200, response.content


def test_issue_token_stores_only_the_hash_of_the_token():
    TenantFactory(project_id="p1")
    raw = last_line(run("issue_token", "bob", "--project", "p1"))
    token = ApiToken.objects.get()
    assert raw not in (token.digest, token.prefix)
    assert selectors.token_for_raw(raw=raw) == token


def test_issue_token_for_an_existing_user_reuses_the_user_and_adds_a_token():
    TenantFactory(project_id="p1")
    alice = UserFactory(username="alice")
    first = last_line(run("issue_token", "alice", "--project", "p1"))
    second = last_line(run("issue_token", "alice", "--project", "p1"))
    assert first != second
    assert get_user_model().objects.filter(username="alice").count() == 1
    assert ApiToken.objects.filter(user=alice).count() == 2
    assert Membership.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize("projects", [["nope"], ["p1", "nope"]])
def test_issue_token_for_an_unknown_project_fails_and_creates_nothing(projects):
    TenantFactory(project_id="p1")
    args = [arg for project in projects for arg in ("--project", project)]
    with pytest.raises(CommandError, match="nope"):
        run("issue_token", "bob", *args)
    assert not get_user_model().objects.filter(username="bob").exists()
    assert not ApiToken.objects.exists()
    assert not Membership.objects.exists()


def test_issue_token_without_expires_in_issues_a_token_that_does_not_expire():
    TenantFactory(project_id="p1")
    run("issue_token", "bob", "--project", "p1")
    assert ApiToken.objects.get().expires_at is None


def test_issue_token_with_expires_in_sets_the_expiry_that_many_seconds_after_issue():
    TenantFactory(project_id="p1")
    run("issue_token", "bob", "--project", "p1", "--expires-in", "3600")
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(seconds=3600)


@pytest.mark.parametrize("seconds", ["0", "-5"])
def test_issue_token_refuses_a_lifetime_that_is_not_positive(seconds):
    TenantFactory(project_id="p1")
    with pytest.raises(CommandError, match="expires-in"):
        run("issue_token", "bob", "--project", "p1", "--expires-in", seconds)
    assert not ApiToken.objects.exists()


# --- seed_demo --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_password_from_the_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)


def test_seed_demo_creates_the_demo_tenant_and_its_policies():
    run("seed_demo")
    tenant = Tenant.objects.get(project_id=DEMO_PROJECT)
    assert sorted(BackupPolicy.objects.filter(tenant=tenant).values_list("name", flat=True)) == sorted(
        policy["backup_policy_name"] for policy in DEMO_POLICIES
    )


def test_seed_demo_run_twice_keeps_the_same_policies_tenants_and_users():
    run("seed_demo")
    counts = (BackupPolicy.objects.count(), Tenant.objects.count(), get_user_model().objects.count())
    run("seed_demo")
    assert (BackupPolicy.objects.count(), Tenant.objects.count(), get_user_model().objects.count()) == counts


def test_seed_demo_prints_a_curl_example_whose_token_creates_a_policy():
    output = run("seed_demo", "--base-url", "http://example.test:9000/")
    curl = next(line for line in output.splitlines() if "curl" in line)
    assert f"http://example.test:9000/v2/{DEMO_PROJECT}/backuppolicy" in curl
    token = re.search(r"X-Auth-Token: (bpc_[A-Za-z0-9_-]+)", curl).group(1)
    body = re.search(r"-d '(.*)'", curl).group(1)
    response = ContractClient(token).post(create_url(DEMO_PROJECT), raw=body.encode())
    assert response.status_code == 200, response.content


def signs_in(client, username: str, password: str) -> bool:
    # Through the sign-in page, as a person would (client.login() would call authenticate()
    # without the request, which the sign-in lockout needs).
    client.post("/accounts/login/", {"username": username, "password": password})
    return client.session.get("_auth_user_id") is not None


def test_seed_demo_makes_the_admin_a_superuser_who_can_sign_in_with_the_printed_password(client):
    output = run("seed_demo")
    password = re.search(r"Sign in as: admin / (\S+)", output).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert signs_in(client, "admin", password)


def test_seed_demo_uses_the_password_from_the_environment(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "from-the-environment-42")
    run("seed_demo")
    assert signs_in(client, "admin", "from-the-environment-42")


def test_seed_demo_run_again_keeps_the_admin_password():
    first = re.search(r"Sign in as: admin / (\S+)", run("seed_demo")).group(1)
    second_output = run("seed_demo")
    assert first not in second_output
    assert get_user_model().objects.get(username="admin").check_password(first)
