"""Fixtures for the dashboard's view tests: a signed-in member, and form data a person sends."""

import pytest

from tests.helpers.dashboard import policy_from_payload
from tests.helpers.payloads import valid_payload


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
            policy_from_payload(into or tenant, valid_payload(backup_policy_name=f"{prefix}_{i:02d}"))
            for i in range(n)
        ]

    return make
