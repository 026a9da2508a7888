"""A full project and a name taken: every entrance reports the one problem the service refuses for.

``services.policy_create`` checks the quota first and refuses a new policy in a full project for
that alone, whatever its name. The dashboard's live and no-JavaScript previews, its save, the
admin's add page and its preview, and the API all say the quota, never the name taken beside it.
"""

import html
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies import audit, services
from policies.dashboard.forms.mapping import form_data_from_payload
from policies.domain.contract import codes, limits, parse
from policies.models import BackupPolicy
from tests.helpers.api import create_url
from tests.helpers.factories import UserFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

QUOTA_WORDS = f"already holds {limits.MAX_POLICIES_PER_TENANT} backup policies"
NAME_TAKEN_WORDS = "already has a policy named"
CLASHING = "EXISTING_03"  # the stored "existing_03", ignoring case
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def full(tenant):
    """The tenant at its quota, one of its policies named like the new one (ignoring case)."""
    for index in range(limits.MAX_POLICIES_PER_TENANT):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"existing_{index:02d}"))
    return tenant


@pytest.fixture
def member(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def staff(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def dashboard_data(**extra) -> dict:
    return {**form_data_from_payload(valid_payload(backup_policy_name=CLASHING)), **extra}


def admin_data(tenant) -> dict:
    """The admin's add page filled in for the same policy, with no tag rows."""
    return {
        "tenant": str(tenant.pk),
        "name": CLASHING,
        "status": "ON",
        "start_time": "12:00",
        "time_zone": "UTC+08:00",
        "time_zone_name": "",
        "frequency": "",
        "week_frequency": "SUN,WED",
        "retention_num": "",
        "retention_day": "30",
        "tags-TOTAL_FORMS": "0",
        "tags-INITIAL_FORMS": "0",
        "tags-MIN_NUM_FORMS": "0",
        "tags-MAX_NUM_FORMS": "1000",
    }


def says_the_quota_only(body: str) -> None:
    text = html.unescape(body)
    assert QUOTA_WORDS in text
    assert NAME_TAKEN_WORDS not in text


def test_the_service_refuses_for_the_quota_alone(full):
    spec = parse.parse_policy(valid_payload(backup_policy_name=CLASHING)).spec
    with pytest.raises(services.PolicyQuotaExceeded):
        services.policy_create(tenant=full, spec=spec, actor=audit.Actor.command())
    assert [p.code for p in services.policy_save_problems(tenant=full, spec=spec)] == [codes.QUOTA]


def test_the_api_says_the_quota_only(api, full):
    response = api.post(create_url(full), valid_payload(backup_policy_name=CLASHING))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == codes.QUOTA
    assert NAME_TAKEN_WORDS not in response.content.decode()


def test_the_dashboard_s_live_preview_says_the_quota_only(member, full):
    response = member.post(
        reverse("policies:policy_preview", args=[full.project_id]), dashboard_data(), **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    says_the_quota_only(response.content.decode())


@pytest.mark.parametrize("extra", [{"preview": "1"}, {}], ids=["no-javascript-preview", "save"])
def test_the_dashboard_s_page_says_the_quota_only(member, full, extra):
    response = member.post(reverse("policies:policy_create", args=[full.project_id]), dashboard_data(**extra))
    assert response.status_code == HTTPStatus.OK
    assert [p.code for p in response.context["form"].problems] == [codes.QUOTA]
    says_the_quota_only(response.content.decode())
    assert BackupPolicy.objects.filter(tenant=full).count() == limits.MAX_POLICIES_PER_TENANT


def test_the_admin_s_add_page_says_the_quota_only(staff, full):
    response = staff.post(reverse("admin:policies_backuppolicy_add"), admin_data(full))
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"tenant"}, errors
    assert any(codes.QUOTA in message for message in errors["tenant"])
    says_the_quota_only(response.content.decode())
    assert BackupPolicy.objects.filter(tenant=full).count() == limits.MAX_POLICIES_PER_TENANT


def test_the_admin_s_preview_says_the_quota_only(staff, full):
    response = staff.post(reverse("admin:policies_backuppolicy_preview"), admin_data(full), **HTMX)
    assert response.status_code == HTTPStatus.OK
    says_the_quota_only(response.content.decode())
