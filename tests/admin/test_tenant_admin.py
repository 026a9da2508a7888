"""Tenants in the admin: the policy count without a query per row, members inline, search, and a
deletion whose policies leave audit records."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import AuditEvent, BackupPolicy, Tenant
from tests.helpers.admin import admin_url, page_data
from tests.helpers.factories import TenantFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

CHANGELIST = admin_url("tenant", "changelist")


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CHANGELIST).status_code == HTTPStatus.OK
    return len(captured)


def test_the_list_counts_each_tenants_policies_without_a_query_per_tenant(admin_client, tenant):
    make_policy(tenant, "p0")
    one = queries(admin_client)
    for n in range(1, 3):
        make_policy(tenant, f"p{n}")
    other = TenantFactory(project_id="other")
    make_policy(other, "q")
    TenantFactory(project_id="empty")
    assert queries(admin_client) == one
    response = admin_client.get(CHANGELIST)
    counts = {t.project_id: t.policy_count for t in response.context["cl"].result_list}
    assert counts == {"tenant-a": 3, "other": 1, "empty": 0}
    assert f'?tenant__id__exact={tenant.pk}">3</a>' in response.content.decode()


@pytest.mark.parametrize(
    ("term", "found"),
    [("tenant-b", ["tenant-b"]), ('"Tenant A"', ["tenant-a"]), ("tenant", ["tenant-a", "tenant-b"])],
)
def test_search_by_project_id_and_name(admin_client, tenant, other_tenant, term, found):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert sorted(t.project_id for t in response.context["cl"].result_list) == found


def test_the_tenant_page_lists_its_members(admin_client, tenant, user):
    response = admin_client.get(admin_url("tenant", "change", tenant.pk))
    assert response.status_code == HTTPStatus.OK
    members = response.context["inline_admin_formsets"][0].formset
    assert [form.instance.user for form in members.initial_forms] == [user]


def test_deleting_a_tenant_deletes_its_policies_through_the_service(admin_client, tenant):
    make_policy(tenant, "one", tags=[("env", "prod")])
    make_policy(tenant, "two")
    response = admin_client.post(admin_url("tenant", "delete", tenant.pk), {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not BackupPolicy.objects.exists()
    deleted = AuditEvent.objects.filter(action="delete", entrance="admin")
    assert sorted(deleted.values_list("policy_name", flat=True)) == ["one", "two"]
    assert set(deleted.values_list("project_id", flat=True)) == {"tenant-a"}  # kept after the tenant


def test_a_projects_id_cannot_be_changed_once_it_exists(admin_client, tenant):
    url = admin_url("tenant", "change", tenant.pk)
    page = admin_client.get(url)
    assert 'name="project_id"' not in page.content.decode()

    response = admin_client.post(url, {**page_data(page), "project_id": "hijacked", "name": "Renamed"})

    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    tenant.refresh_from_db()
    assert (tenant.project_id, tenant.name) == ("tenant-a", "Renamed")


def test_a_new_projects_id_is_given_on_the_add_form(admin_client):
    page = admin_client.get(admin_url("tenant", "add"))
    assert 'name="project_id"' in page.content.decode()

    response = admin_client.post(
        admin_url("tenant", "add"), {**page_data(page), "project_id": "fresh-project"}
    )

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    assert Tenant.objects.filter(project_id="fresh-project").exists()
