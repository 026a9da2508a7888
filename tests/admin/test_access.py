"""Who reaches the admin: staff only, and each of them only what their permissions allow."""

from http import HTTPStatus

import pytest

from policies.models import AuditEvent
from tests.helpers.admin import admin_url, page_data, staff_with
from tests.helpers.factories import UserFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

MODELS = ["tenant", "backuppolicy", "apitoken", "auditevent"]


@pytest.fixture
def policy(tenant):
    return make_policy(tenant, "nightly", tags=[("env", "prod")])


@pytest.mark.parametrize("model", MODELS)
def test_anonymous_and_non_staff_users_are_sent_to_the_admin_sign_in(client, model):
    url = admin_url(model, "changelist")
    assert client.get(url)["Location"].startswith(f"/admin/login/?next={url}")
    client.force_login(UserFactory(username="member"))  # signed in, but not staff
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(f"/admin/login/?next={url}")


def test_a_non_staff_superuser_flag_alone_does_not_open_the_admin(client):
    client.force_login(UserFactory(username="odd", is_superuser=True, is_staff=False))
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_staff_without_permissions_see_no_model(client, policy):
    client.force_login(staff_with())
    index = client.get("/admin/")
    assert index.status_code == HTTPStatus.OK
    assert index.context["app_list"] == []
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == HTTPStatus.FORBIDDEN
    assert client.get(admin_url("backuppolicy", "change", policy.pk)).status_code == HTTPStatus.FORBIDDEN


def test_view_only_staff_read_policies_but_change_nothing(client, admin_client, policy):
    data = page_data(admin_client.get(admin_url("backuppolicy", "change", policy.pk)))
    client.force_login(staff_with("view_backuppolicy"))
    listing = client.get(admin_url("backuppolicy", "changelist"))
    assert listing.status_code == HTTPStatus.OK
    assert [p.name for p in listing.context["cl"].result_list] == ["nightly"]
    assert listing.context["action_form"] is None  # no enable, disable or delete
    assert "Last change" not in listing.content.decode()  # the audit trail is not theirs to read
    page = client.get(admin_url("backuppolicy", "change", policy.pk))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'name="start_time"' not in html  # shown read-only
    assert "Every record of this policy" not in html
    assert client.get(admin_url("backuppolicy", "add")).status_code == HTTPStatus.FORBIDDEN
    data["status"] = "OFF"
    assert (
        client.post(admin_url("backuppolicy", "change", policy.pk), data).status_code == HTTPStatus.FORBIDDEN
    )
    assert client.post(admin_url("backuppolicy", "delete", policy.pk), {"post": "yes"}).status_code == 403
    refused = client.post(
        admin_url("backuppolicy", "changelist"), {"action": "disable", "_selected_action": [policy.pk]}
    )
    assert refused.status_code == HTTPStatus.OK  # Django answers an unknown action with the list
    policy.refresh_from_db()
    assert policy.status == "ON"
    assert AuditEvent.objects.filter(action="change").count() == 0
    assert client.get(admin_url("auditevent", "changelist")).status_code == HTTPStatus.FORBIDDEN


def test_staff_who_may_change_policies_but_not_tokens_cannot_revoke_or_issue(client, user, token):
    client.force_login(staff_with("view_apitoken"))
    listing = client.get(admin_url("apitoken", "changelist"))
    assert listing.status_code == HTTPStatus.OK
    assert listing.context["action_form"] is None  # no revoke
    assert client.get(admin_url("apitoken", "add")).status_code == HTTPStatus.FORBIDDEN
    assert client.post(admin_url("apitoken", "add"), {"user": user.pk}).status_code == HTTPStatus.FORBIDDEN


def test_a_staff_user_finds_by_a_tag_value_every_policy_and_who_last_changed_it(
    client, tenant, other_tenant, actor
):
    """The issue's "done when", for a staff user holding only the two view permissions."""
    make_policy(tenant, "web", actor=actor, tags=[("tier", "gold")])
    make_policy(other_tenant, "db", tags=[("tier", "gold"), ("env", "prod")])
    make_policy(tenant, "cache", tags=[("tier", "silver")])
    client.force_login(staff_with("view_backuppolicy", "view_auditevent"))
    response = client.get(admin_url("backuppolicy", "changelist"), {"q": "gold"})
    rows = {policy.name: policy.last_event for policy in response.context["cl"].result_list}
    assert sorted(rows) == ["db", "web"]
    assert (rows["web"].username, rows["web"].entrance, rows["web"].action) == ("alice", "api", "create")
    assert rows["db"].entrance == "command"
    html = response.content.decode()
    assert "alice (token bpc_" in html
    assert "via Management command, " in html


def test_every_admin_page_renders_for_a_superuser(admin_client, policy, user, token):
    event = AuditEvent.objects.get()
    pages = [admin_url(model, "changelist") for model in MODELS] + [
        "/admin/",
        admin_url("tenant", "add"),
        admin_url("tenant", "change", policy.tenant.pk),
        admin_url("backuppolicy", "add"),
        admin_url("backuppolicy", "change", policy.pk),
        admin_url("backuppolicy", "delete", policy.pk),
        admin_url("apitoken", "add"),
        admin_url("apitoken", "change", user.api_tokens.get().pk),
        admin_url("auditevent", "change", event.pk),
    ]
    for url in pages:
        assert admin_client.get(url).status_code == HTTPStatus.OK, url
