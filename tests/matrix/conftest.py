"""Fixtures of the matrix: the time of the request pinned, and the world of one cell."""

import pytest
from django.test import Client

from policies import accounts
from tests.helpers.api import ContractClient
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.matrix import KINDS, SEASONS, World, make_subject


@pytest.fixture
def world(kind, season, db, monkeypatch):
    """Build the cell's world at its season's time, which every entrance then reads as its now."""
    kind_name = kind
    now = SEASONS[season]
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    tenant = TenantFactory(project_id="matrix", name="Matrix")
    member = UserFactory(username="member")
    MembershipFactory(user=member, tenant=tenant)
    _, raw = accounts.token_issue(user=member)
    web, admin = Client(), Client()
    web.force_login(member)
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    kind = KINDS[kind_name]
    return World(
        season, now, tenant, ContractClient(raw), web, admin, kind, make_subject(tenant, kind, season)
    )
