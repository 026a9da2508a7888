"""Delete: a confirmation page that names the policy (GET), the delete itself (POST), the list after."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from policies.models import AuditEvent, Backup, BackupPolicy, PolicyTag
from tests.helpers.dashboard import HTMX, url
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate, make_volumes

pytestmark = pytest.mark.django_db


def policy_url(name, policy):
    return reverse(
        f"policies:{name}", kwargs={"project_id": policy.tenant.project_id, "policy_id": policy.pk}
    )


@pytest.fixture
def nightly(tenant):
    return make_policy(
        tenant, payload=valid_payload(backup_policy_name="nightly", tags=[{"key": "env", "value": "prod"}])
    )


def exists(policy) -> bool:
    return BackupPolicy.objects.filter(pk=policy.pk).exists()


def test_the_confirmation_names_the_policy_and_deletes_nothing(member, tenant, nightly):
    response = member.get(policy_url("policy_delete", nightly))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "<title>Delete “nightly”? · Tenant A (tenant-a)</title>" in body
    assert '<h1 id="delete-title">Delete the backup policy “nightly”?</h1>' in body
    assert "Sunday and Wednesday at 20:00 (UTC+08:00)" in body
    assert '<span class="tag">env=prod</span>' in body
    assert "This cannot be undone." in body
    assert f'<form method="post" action="{policy_url("policy_delete", nightly)}"' in body
    assert '<button type="submit" class="danger">Delete “nightly”</button>' in body
    assert f'href="{url("policy_list", tenant)}">Keep it</a>' in body
    assert exists(nightly)


def test_posting_the_confirmation_deletes_the_policy_and_its_tags_and_says_so(member, tenant, nightly):
    response = member.post(policy_url("policy_delete", nightly), follow=True)
    assert response.redirect_chain == [(url("policy_list", tenant), HTTPStatus.FOUND)]
    body = response.content.decode()
    assert "Policy “nightly” deleted." in body
    assert "0 of 10 policies" in body
    assert not exists(nightly)
    assert not PolicyTag.objects.exists()
    [event] = AuditEvent.objects.filter(action="delete")
    assert (event.action, event.entrance, event.username, event.policy_name) == (
        "delete",
        "dashboard",
        "alice",
        "nightly",
    )


def test_deleting_one_of_ten_policies_enables_new_policy_again(member, tenant, make_policies):
    doomed, *_ = make_policies(10)
    assert "10 of 10 policies" in member.get(url("policy_list", tenant)).content.decode()
    body = member.post(policy_url("policy_delete", doomed), follow=True).content.decode()
    assert "9 of 10 policies" in body
    assert "delete one to create another" not in body
    assert f'<a class="button primary" href="{url("policy_create", tenant)}">New policy</a>' in body


def test_htmx_gets_only_the_confirmation(member, nightly):
    response = member.get(policy_url("policy_delete", nightly), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="delete-confirm"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]
    assert exists(nightly)


def test_an_htmx_delete_is_redirected_by_htmx(member, tenant, nightly):
    response = member.post(policy_url("policy_delete", nightly), **HTMX)
    assert response["HX-Redirect"] == url("policy_list", tenant)
    assert not exists(nightly)


def test_a_policy_deleted_meanwhile_is_not_found(member, nightly):
    member.post(policy_url("policy_delete", nightly))
    assert member.post(policy_url("policy_delete", nightly)).status_code == HTTPStatus.NOT_FOUND
    assert AuditEvent.objects.filter(action="delete").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_policy_is_not_found_and_not_deleted(member, other_tenant, method, headers):
    theirs = make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    response = getattr(member, method)(policy_url("policy_delete", theirs), **headers)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert exists(theirs)


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(client, nightly, method):
    target = policy_url("policy_delete", nightly)
    response = getattr(client, method)(target)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={target}"
    assert exists(nightly)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_a_wrong_method_is_refused(member, nightly, method):
    # DELETE too: the dashboard deletes with a form's POST; the DELETE verb belongs to the API.
    assert getattr(member, method)(policy_url("policy_delete", nightly)).status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )
    assert exists(nightly)


def test_the_delete_form_needs_its_csrf_token(user, nightly):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(policy_url("policy_delete", nightly)).status_code == HTTPStatus.FORBIDDEN
    assert exists(nightly)


def test_each_row_of_the_list_links_its_edit_and_delete_pages(member, tenant, nightly):
    body = member.get(url("policy_list", tenant)).content.decode()
    assert f'<a href="{policy_url("policy_edit", nightly)}">nightly</a>' in body
    edit = f'<a href="{policy_url("policy_edit", nightly)}">Edit<span class="visually-hidden"> nightly</span></a>'
    assert edit in body
    assert f'href="{policy_url("policy_delete", nightly)}" class="danger-text">Delete<span' in body


def test_a_policy_of_another_of_ones_projects_is_not_found_under_this_one(member, user, tenant):
    second = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=user, tenant=second)
    theirs = make_policy(second, payload=valid_payload(backup_policy_name="theirs"))
    target = reverse(
        "policies:policy_delete", kwargs={"project_id": tenant.project_id, "policy_id": theirs.pk}
    )
    assert member.get(target).status_code == HTTPStatus.NOT_FOUND
    assert member.post(target).status_code == HTTPStatus.NOT_FOUND
    assert exists(theirs)


def test_the_confirmation_says_the_volumes_lose_protection_and_the_backups_stay(member, tenant, nightly):
    disks = make_volumes(tenant, {"db.img": b"d" * 100, "logs.img": b"l" * 100})
    associate(nightly, disks)
    made = {"tenant": tenant, "policy": nightly, "volume": disks[0], "resource_id": disks[0].resource_id}
    for manual in (False, False, True):
        Backup.objects.create(
            **made, name="b", provider="local", locator="x", taken_at=timezone.now(), manual=manual
        )

    body = member.get(policy_url("policy_delete", nightly)).content.decode()

    assert "Its 2 volumes (db.img, logs.img) will be <strong>unprotected</strong>" in body
    assert "Its 2 scheduled backups stay and can be restored" in body
    assert "Its 1 manual backup stays until someone deletes it." in body


def test_the_confirmation_of_a_policy_without_volumes_or_backups_says_so(member, nightly):
    body = member.get(policy_url("policy_delete", nightly)).content.decode()

    assert "It holds no volumes." in body
    assert "It has made no backups." in body
