"""Fixtures of the admin site's tests: a signed-in superuser, and the API user as an actor."""

import pytest

from policies import audit
from tests.helpers.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def actor(user, token):
    """Changes made by the API user ``alice`` with her token, as the API would make them."""
    return audit.Actor.api(user, user.api_tokens.get())
