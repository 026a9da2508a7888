"""Shared fixtures: users, tenants, tokens, and an API client that speaks the contract.

Helpers (builders, clients, payloads) are in tests/helpers/; this file holds fixtures only.
"""

import pytest
from django.conf import settings

from policies import accounts
from tests.helpers.api import ContractClient
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory


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
    _, raw = accounts.token_issue(user=user)
    return raw


@pytest.fixture
def api(token):
    return ContractClient(token)


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


def pytest_collection_modifyitems(config, items):
    """A test marked ``postgres`` runs in the PostgreSQL pass only: on SQLite it is deselected (the
    run says so), never collected and skipped, so nothing in a CI run can skip quietly."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    elsewhere = [item for item in items if item.get_closest_marker("postgres")]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
