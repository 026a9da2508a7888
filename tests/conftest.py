"""Shared fixtures: users, tenants, tokens, and an API client that speaks the contract."""

import json
import os

import pytest
from rest_framework.test import APIClient

from policies import services
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip a test that lacks a real part on a developer's machine; in CI, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: CI must run every test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def tenant(db):
    return TenantFactory(project_id="tenant-a", name="Tenant A")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(project_id="tenant-b", name="Tenant B")


@pytest.fixture
def user(db, tenant):
    member = UserFactory(username="alice")
    MembershipFactory(user=member, tenant=tenant)
    return member


@pytest.fixture
def token(user):
    _, raw = services.token_issue(user=user)
    return raw


class ContractClient:
    """Send raw JSON bodies with X-Auth-Token, as an API client would."""

    def __init__(self, token: str | None) -> None:
        self.client = APIClient()
        self.token = token

    def _headers(self, extra):
        headers = {"HTTP_X_AUTH_TOKEN": self.token} if self.token else {}
        headers.update(extra)
        return headers

    def post(self, url, body=None, *, raw=None, content_type="application/json", **extra):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic("POST", url, data, content_type=content_type, **self._headers(extra))

    def request(self, method, url, **extra):
        return self.client.generic(method, url, "", **self._headers(extra))


@pytest.fixture
def api(token):
    return ContractClient(token)


def create_url(project_id) -> str:
    project_id = getattr(project_id, "project_id", project_id)
    return f"/v2/{project_id}/backuppolicy"


@pytest.fixture(autouse=True)
def fast_password_hashers(settings):
    """Hash passwords with MD5 in tests: PBKDF2 costs ~0.3 s per user, and tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def local_provider_roots(settings, tmp_path_factory):
    """Every test gets its own volume and backup folders: none writes into the project's var/."""
    root = tmp_path_factory.mktemp("local-provider")
    settings.LOCAL_VOLUME_ROOT = root / "volumes"
    settings.LOCAL_BACKUP_ROOT = root / "backups"
    settings.BACKUP_PROVIDER = "local"
    settings.LOCAL_COPY_BYTES_PER_SECOND = None
    return root
