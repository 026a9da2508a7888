"""The admin site: staff can revoke API tokens; policies are read-only there for now."""

import pytest
from django.urls import reverse

from policies import services
from policies.models import ApiToken

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    return client


def test_the_revoke_action_makes_tokens_unusable(staff_client, user, api, tenant):
    token = ApiToken.objects.get(user=user)
    response = staff_client.post(
        reverse("admin:policies_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.post(f"/v2/{tenant.project_id}/backuppolicy", {}).json()["error"]["code"] == "AutoBackup.0003"


def test_policies_cannot_be_added_in_the_admin_so_no_save_bypasses_the_contract(staff_client):
    assert staff_client.get(reverse("admin:policies_backuppolicy_add")).status_code == 403


def test_every_admin_changelist_renders(staff_client, user):
    services.token_issue(user=user)
    for name in ("tenant", "backuppolicy", "apitoken"):
        assert staff_client.get(reverse(f"admin:policies_{name}_changelist")).status_code == 200
