"""Every dashboard view: anonymous, another tenant's project, wrong method, htmx or not."""

import html
import re
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model

from policies.models import BackupTask, Volume
from policies.runs import execution
from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.django_db

TENANT_VIEWS = [
    ("policy_list", "get"),
    ("policy_create", "get"),
    ("policy_create", "post"),
    ("policy_preview", "post"),
]
WRONG_METHODS = [
    ("home", None, "post"),
    ("policy_list", "tenant", "post"),
    ("policy_list", "tenant", "delete"),
    ("policy_create", "tenant", "put"),
    ("policy_create", "tenant", "delete"),
    ("policy_preview", "tenant", "get"),
    ("policy_preview", "tenant", "put"),
]


def _send(client, method, target, **extra):
    data = form_data() if method == "post" else None
    return (
        getattr(client, method)(target, data, **extra) if data else getattr(client, method)(target, **extra)
    )


@pytest.mark.parametrize(("name", "method"), [("home", "get"), *TENANT_VIEWS])
def test_anonymous_is_sent_to_sign_in(client, tenant, name, method):
    target = url(name) if name == "home" else url(name, tenant)
    response = _send(client, method, target)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={target}"


@pytest.mark.parametrize(("name", "method"), TENANT_VIEWS)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_project_is_not_found(member, other_tenant, name, method, headers):
    response = _send(member, method, url(name, other_tenant), **headers)
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(("name", "method"), TENANT_VIEWS)
def test_a_project_that_does_not_exist_is_not_found_either(member, name, method):
    assert _send(member, method, url(name, "no-such-project")).status_code == HTTPStatus.NOT_FOUND


def test_a_policy_deleted_meanwhile_is_a_page_that_says_so_and_leads_back(member, tenant):
    policy = make_policy(tenant, "nightly")
    edit = f"/p/{tenant.project_id}/policy/{policy.pk}/edit"
    assert member.get(edit).status_code == HTTPStatus.OK
    policy.delete()

    response = member.get(edit)

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.content.decode()
    assert "may have been deleted meanwhile" in body
    assert 'href="/">Back to your projects</a>' in body


@pytest.mark.parametrize(("name", "where", "method"), WRONG_METHODS)
def test_wrong_method_is_refused(member, tenant, name, where, method):
    target = url(name, tenant) if where else url(name)
    assert getattr(member, method)(target).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize(("name", "where", "method"), WRONG_METHODS)
def test_wrong_method_is_refused_even_before_sign_in(client, tenant, name, where, method):
    target = url(name, tenant) if where else url(name)
    assert getattr(client, method)(target).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_posted_create_form_needs_its_csrf_token(user, tenant):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(url("policy_create", tenant), form_data())
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_the_page_carries_the_csrf_token_for_htmx(member, tenant):
    response = member.get(url("policy_create", tenant))
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()


# --- Home and the tenant switcher ----------------------------------------------------------


def test_home_sends_a_member_of_one_project_to_its_policies(member, tenant):
    response = member.get(url("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == url("policy_list", tenant)


def test_home_lists_every_project_of_a_member_of_several(member, user, tenant):
    second = TenantFactory(project_id="tenant-c", name="Tenant C")
    MembershipFactory(user=user, tenant=second)
    response = member.get(url("home"))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert f'href="{url("policy_list", tenant)}"' in body
    assert f'href="{url("policy_list", second)}"' in body


def test_home_answers_the_same_full_page_to_htmx(member, user, tenant):
    MembershipFactory(user=user, tenant=TenantFactory(project_id="tenant-c"))
    response = member.get(url("home"), **HTMX)
    assert "<html" in response.content.decode()


def test_home_tells_a_member_of_no_project_what_to_do(client, db):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(url("home"))
    assert response.status_code == HTTPStatus.OK
    assert "not a member of any project" in response.content.decode()


def test_a_superuser_sees_and_opens_every_project(client, tenant, other_tenant):
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    body = client.get(url("home")).content.decode()
    assert url("policy_list", tenant) in body
    assert url("policy_list", other_tenant) in body
    assert client.get(url("policy_list", other_tenant)).status_code == HTTPStatus.OK


def test_the_switcher_links_the_other_projects_of_the_member(member, user, tenant):
    second = TenantFactory(project_id="tenant-c", name="Tenant C")
    MembershipFactory(user=user, tenant=second)
    body = member.get(url("policy_list", tenant)).content.decode()
    assert '<details class="tenant-switcher">' in body  # in the header's navigation
    assert f'href="{url("policy_list", tenant)}" aria-current="page"' in body
    assert f'href="{url("policy_list", second)}"' in body


def test_the_project_switcher_is_a_disclosure_naming_the_current_project(member, tenant, user):
    for _ in range(12):
        MembershipFactory(user=user, tenant=TenantFactory())
    body = member.get(url("policy_list", tenant)).content.decode()
    switcher = body[body.index('<details class="tenant-switcher"') : body.index("</details>")]
    assert "open" not in switcher.split(">", 1)[0]
    assert re.search(rf"<summary>Project: <strong>{re.escape(str(tenant))}</strong>", html.unescape(switcher))
    assert "13 projects" in switcher


def test_sign_in_leads_to_the_dashboard(client, user, tenant):
    from tests.helpers.factories import PASSWORD

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == url("policy_list", tenant)


def test_the_project_list_shows_policies_volumes_and_the_last_run(member, user, tenant):
    second = TenantFactory(project_id="tenant-c", name="Tenant C")
    MembershipFactory(user=user, tenant=second)
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))
    disks = make_volumes(tenant, {"disk-a": b"a", "disk-b": b"b"})
    Volume.objects.filter(pk=disks[0].pk).update(policy=policy)
    member.post(url("policy_list", tenant) + f"policy/{policy.pk}/run")
    execution.execute_task(BackupTask.objects.get().pk)

    body = member.get(url("home")).content.decode()

    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/p/tenant-a/\">.*?</tr>", body, re.S)[0]
    cells = re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row, re.S)
    assert cells[1:3] == [("Backup policies", "1 of 10"), ("Volumes", "2")]
    assert cells[3][1].startswith("Succeeded, 20")
    assert "none yet" in body  # tenant-c has run nothing
