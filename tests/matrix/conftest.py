"""Fixtures of the matrix: the time of the request pinned, and the world of one cell."""

import pytest

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
    kind = KINDS[kind_name]
    return World(season, now, tenant, member, kind, make_subject(tenant, kind, season))
