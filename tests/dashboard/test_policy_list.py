"""The per-tenant policy list."""

import re
from http import HTTPStatus

import pytest

from tests.helpers.dashboard import HTMX, url
from tests.helpers.payloads import founding_payload, founding_schedule, schedule_payload, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def test_the_list_shows_each_policy_in_local_time_and_in_utc(member, tenant):
    make_policy(
        tenant,
        payload=founding_payload(
            backup_policy_name="nightly",
            scheduled_policy=founding_schedule(status="OFF"),
            tags=[{"key": "env", "value": "prod"}],
        ),
    )
    response = member.get(url("policy_list", tenant))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "nightly" in body
    assert "Monday at 00:00, 02:00, 04:00 (UTC+02:00)" in body
    assert "Sun 22:00, Mon 00:00, Mon 02:00 UTC" in body
    assert "Keeps 7 backups" in body
    assert ">Off<" in body
    assert "env=prod" in body
    assert "1 of 10 policies" in body


def test_a_schedule_of_every_n_days_reads_as_such(member, tenant):
    make_policy(
        tenant,
        payload=schedule_payload(start_time="20:00,21:00", frequency=2, rentention_day=30, status="ON"),
    )
    body = member.get(url("policy_list", tenant)).content.decode()
    assert "Every 2 days at 04:00, 05:00 (UTC+08:00)" in body
    assert "every 2 days at 20:00 (day before), 21:00 (day before) UTC" in body
    assert "Keeps backups for 30 days" in body


def test_the_list_shows_only_the_tenants_own_policies(member, tenant, other_tenant):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    make_policy(tenant, payload=valid_payload(backup_policy_name="ours"))
    body = member.get(url("policy_list", tenant)).content.decode()
    assert "ours" in body
    assert "theirs" not in body


def test_an_empty_list_invites_the_first_policy(member, tenant):
    body = member.get(url("policy_list", tenant)).content.decode()
    assert "No backup policies yet" in body
    assert "0 of 10 policies" in body
    assert f'href="{url("policy_create", tenant)}"' in body


def test_at_ten_policies_the_create_button_is_disabled_with_the_reason(member, tenant, make_policies):
    make_policies(10)
    body = member.get(url("policy_list", tenant)).content.decode()
    assert "10 of 10 policies" in body
    assert "delete one to create another" in body
    assert 'disabled aria-describedby="quota">New policy</button>' in body
    assert f'href="{url("policy_create", tenant)}"' not in body


def test_htmx_gets_only_the_table(member, tenant, make_policies):
    make_policies(1)
    response = member.get(url("policy_list", tenant), **HTMX)
    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert body.lstrip().startswith('<div id="policy-table"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_full_page_varies_on_htmx_too(member, tenant):
    response = member.get(url("policy_list", tenant))
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_the_list_reads_a_fixed_number_of_queries_however_many_policies(
    member, tenant, make_policies, django_assert_max_num_queries
):
    make_policies(1, prefix="first")
    member.get(url("policy_list", tenant))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        member.get(url("policy_list", tenant))
    make_policies(8, prefix="more")
    with django_assert_max_num_queries(len(one.captured_queries)):
        member.get(url("policy_list", tenant))


def test_each_table_cell_carries_its_column_name_for_the_phone_cards(member, tenant, make_policies):
    make_policies(1)
    body = member.get(url("policy_list", tenant)).content.decode()
    labels = re.findall(r'<td data-label="([^"]+)"', body)
    assert labels == [
        "Schedule (local time)",
        "Schedule (UTC)",
        "Retention",
        "Status",
        "Tags",
        "Volumes",
        "Last run",
    ]
    assert '<th scope="col">Schedule (local time)</th>' in body
