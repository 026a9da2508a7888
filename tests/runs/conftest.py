"""Fixtures of the runs: two volume files of the local provider."""

import pytest

from tests.helpers.runs import make_volumes


@pytest.fixture
def two_volumes(tenant):
    return make_volumes(tenant, {"disk-a.img": b"A" * 5000, "disk-b.img": b"B" * 7000})
