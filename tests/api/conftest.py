"""Fixtures of the API tests (Django's test client and real HTTP)."""

import pytest

from tests.helpers.api import ContractClient


@pytest.fixture
def anonymous():
    return ContractClient(None)
