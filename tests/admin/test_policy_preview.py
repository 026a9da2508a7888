"""The admin's policy form shows the dashboard's live preview of the same payload."""

import html
import re
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from policies.models import BackupPolicy
from tests.helpers.admin import add_data, admin_url, page_data, set_tags
from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

ADD_PREVIEW = reverse("admin:policies_backuppolicy_preview")


def fields(tenant, **overrides):
    data = {
        "tenant": str(tenant.pk),
        "name": "nightly",
        "status": "ON",
        "start_time": "22:00,00:00,02:00",
        "time_zone": "UTC+02:00",
        "week_frequency": "MON",
        "frequency": "",
        "retention_num": "7",
        "retention_day": "",
    }
    data.update(overrides)
    return data


def test_the_add_form_previews_its_fields_with_the_dashboards_partial(admin_client, tenant):
    response = admin_client.post(ADD_PREVIEW, fields(tenant), **HTMX)
    assert response.status_code == HTTPStatus.OK
    body = html.unescape(response.content.decode())
    assert body.lstrip().startswith('<section id="utc-preview"')
    assert "Ready to save: nothing to fix." in body
    assert "Mon 00:00 local = Sun 22:00 UTC" in body
    assert not BackupPolicy.objects.exists()  # a preview never writes


def test_the_admin_preview_says_a_name_taken_ignoring_case(admin_client, tenant):
    make_policy(tenant, payload=valid_payload(backup_policy_name="Nightly"))
    body = html.unescape(admin_client.post(ADD_PREVIEW, fields(tenant), **HTMX).content.decode())
    assert "already has a policy named 'Nightly'" in body


def test_the_change_form_previews_what_saving_would_change(admin_client, tenant):
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))
    target = reverse("admin:policies_backuppolicy_preview_change", args=[policy.pk])
    data = fields(tenant, start_time=policy.start_time, time_zone=policy.time_zone, retention_num="9")
    body = html.unescape(admin_client.post(target, data, **HTMX).content.decode())
    assert "<dt>Backups to keep</dt>" in body


def test_fields_the_dashboards_form_cannot_draw_get_the_cores_answer(admin_client, tenant):
    body = html.unescape(
        admin_client.post(ADD_PREVIEW, fields(tenant, start_time="12:30"), **HTMX).content.decode()
    )
    assert "Not yet valid: 1 problem to fix." in body
    assert "The start times '12:30' is not a full hour; use 12:00." in body


def test_both_members_of_a_pair_preview_the_one_the_save_keeps(admin_client, tenant):
    data = fields(tenant, start_time="02:00", frequency="2", retention_day="30")
    body = html.unescape(admin_client.post(ADD_PREVIEW, data, **HTMX).content.decode())
    assert "Ready to save: nothing to fix." in body
    assert "every 2 days" in body
    assert '"rentention_num": 7' in body


def test_the_change_form_page_carries_the_preview_region(admin_client, tenant):
    body = admin_client.get(reverse("admin:policies_backuppolicy_add")).content.decode()
    assert f'hx-post="{ADD_PREVIEW}"' in body
    assert 'id="utc-preview"' in body


def test_the_preview_is_post_only_and_staff_only(admin_client, user, tenant):
    assert admin_client.get(ADD_PREVIEW).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    member = Client()
    member.force_login(user)  # a member of the project, but not staff
    response = member.post(ADD_PREVIEW, fields(tenant))
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_an_unknown_policy_has_no_preview(admin_client, tenant):
    target = reverse(
        "admin:policies_backuppolicy_preview_change", args=["00000000-0000-0000-0000-000000000000"]
    )
    assert admin_client.post(target, fields(tenant)).status_code == HTTPStatus.NOT_FOUND


WINTER = datetime(2026, 1, 12, 9, tzinfo=UTC)  # before the real clock: the session stays valid


@pytest.mark.parametrize(
    ("zone", "start_time", "run"),
    [
        ("Europe/Berlin", "01:00", "Mon 02:00 local = Mon 01:00 UTC"),
        ("America/New_York", "04:00", "Mon 23:00 local = Tue 04:00 UTC"),
    ],
)
def test_the_change_page_of_a_named_zone_policy_announces_no_change_before_any(
    admin_client, tenant, monkeypatch, zone, start_time, run
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: WINTER)
    schedule = {"start_time": start_time, "week_frequency": ["MON"], "rentention_num": 7, "status": "ON"}
    policy = make_policy(
        tenant, payload={"backup_policy_name": "zoned", "time_zone_name": zone, "scheduled_policy": schedule}
    )
    data = page_data(admin_client.get(admin_url("backuppolicy", "change", policy.pk)))
    target = reverse("admin:policies_backuppolicy_preview_change", args=[policy.pk])
    body = html.unescape(admin_client.post(target, data, **HTMX).content.decode())
    assert "None yet: the form shows the policy as stored." in body
    assert run in body


def test_the_admin_preview_reads_its_payload_without_the_dashboards_form(admin_client, tenant, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the admin's preview built the dashboard's form")

    monkeypatch.setattr("policies.dashboard.forms.policy.PolicyForm.__init__", refuse)
    body = html.unescape(admin_client.post(ADD_PREVIEW, fields(tenant), **HTMX).content.decode())
    assert "Ready to save: nothing to fix." in body


def _problems(body: str) -> list[str]:
    return re.findall(r"<li><strong>([^<]*):</strong> ([^<]*)</li>", html.unescape(body))


@pytest.mark.parametrize(
    ("admin", "dashboard"),
    [
        ({"name": "Default_x", "retention_num": "99"}, {"name": "Default_x", "retention_num": "99"}),
        (
            {"week_frequency": "", "frequency": "2"},
            {"schedule_kind": "days", "week_days": [], "frequency": "2"},
        ),
        ({"name": ""}, {"name": ""}),
    ],
)
def test_the_admin_preview_words_each_problem_as_the_dashboard_does(
    admin_client, user, tenant, admin, dashboard
):
    member = Client()
    member.force_login(user)
    admin_body = admin_client.post(ADD_PREVIEW, fields(tenant, **admin), **HTMX).content.decode()
    dashboard_body = member.post(
        url("policy_preview", tenant), form_data(**dashboard), **HTMX
    ).content.decode()
    assert _problems(admin_body) == _problems(dashboard_body) != []


def test_the_change_form_previews_a_changed_tag_as_a_change_to_save(admin_client, tenant):
    policy = make_policy(tenant, "nightly", tags=[("env", "prod")])
    data = page_data(admin_client.get(admin_url("backuppolicy", "change", policy.pk)))
    target = reverse("admin:policies_backuppolicy_preview_change", args=[policy.pk])
    unchanged = html.unescape(admin_client.post(target, data, **HTMX).content.decode())
    assert "None yet: the form shows the policy as stored." in unchanged
    data["tags-0-value"] = "staging"
    body = html.unescape(admin_client.post(target, data, **HTMX).content.decode())
    assert "<dt>Tags</dt>" in body
    assert "env=staging" in body


@pytest.mark.parametrize(("count", "problem"), [(10, None), (11, "A policy has at most 10 tags; remove 1.")])
def test_the_add_form_previews_its_tag_rows_under_the_contracts_limit(admin_client, tenant, count, problem):
    data = set_tags(add_data(admin_client, tenant), [(f"k{n}", "v") for n in range(count)])
    body = admin_client.post(ADD_PREVIEW, data, **HTMX).content.decode()
    if problem is None:
        assert "Ready to save: nothing to fix." in html.unescape(body)
        assert '"key": "k9"' in html.unescape(body)  # the API request the preview shows
    else:
        assert _problems(body) == [("Tags", problem)]
