import pytest

from .conftest import create_url
from .factories import valid_payload

pytestmark = pytest.mark.django_db


def test_the_founding_example_is_created(api, tenant):
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == 200, response.content
