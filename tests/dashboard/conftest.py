"""Fixtures for the dashboard's view tests: a signed-in member, and form data a person sends."""

import pytest

from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy


@pytest.fixture
def member(client, user):
    """The test client, signed in as a member of ``tenant`` (and of no other tenant)."""
    client.force_login(user)
    return client


@pytest.fixture
def make_policies(tenant):
    """Create ``n`` valid policies in ``tenant`` (or in the tenant given)."""

    def make(n, *, into=None, prefix="existing"):
        return [
            make_policy(into or tenant, payload=valid_payload(backup_policy_name=f"{prefix}_{i:02d}"))
            for i in range(n)
        ]

    return make
