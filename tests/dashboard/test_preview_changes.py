"""The live preview answers what changed: an unchanged forecast is not sent again."""

import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.helpers.dashboard import HTMX, form_data, url

pytestmark = pytest.mark.django_db

PRESERVED = '<div class="forecast" id="forecast" hx-preserve="true"></div>'
# The founding example's answer after a change of one field: the bound, uncompressed.
SMALL_ANSWER = 8 * 1024


def live_preview(member, tenant, data) -> str:
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def shown_key(body: str) -> str:
    return re.search(
        r'<input type="hidden" name="forecast_shown" value="([0-9a-f]+)" form="policy-form">', body
    )[1]


def test_the_first_preview_sends_the_forecast_with_its_key(member, tenant):
    body = live_preview(member, tenant, form_data())
    assert '<figure class="retention"' in body
    assert len(shown_key(body)) == 32


def test_a_new_name_keeps_the_forecast_on_the_screen_and_the_answer_small(member, tenant):
    key = shown_key(live_preview(member, tenant, form_data()))
    body = live_preview(member, tenant, form_data(name="renamed", forecast_shown=key))
    assert PRESERVED in body
    assert "retention-calendar" not in body
    assert "renamed" in body  # the rest of the preview is the new one
    assert len(body.encode()) < SMALL_ANSWER


def test_a_new_tag_keeps_the_forecast_on_the_screen(member, tenant):
    key = shown_key(live_preview(member, tenant, form_data()))
    tagged = form_data(tag_key=["env", "", ""], tag_value=["prod", "", ""], forecast_shown=key)
    assert PRESERVED in live_preview(member, tenant, tagged)


@pytest.mark.parametrize(
    "change",
    [{"retention_num": "3"}, {"hours": ["22", "0"]}, {"week_days": ["MON", "TUE"]}, {"status": "OFF"}],
    ids=["retention", "start times", "weekdays", "status"],
)
def test_a_change_of_what_the_forecast_shows_sends_the_new_one(member, tenant, change):
    key = shown_key(live_preview(member, tenant, form_data()))
    body = live_preview(member, tenant, form_data(**change, forecast_shown=key))
    assert PRESERVED not in body
    assert shown_key(body) != key


def test_a_key_that_is_not_the_forecast_s_gets_the_whole_forecast(member, tenant):
    body = live_preview(member, tenant, form_data(forecast_shown="0" * 32))
    assert PRESERVED not in body
    assert '<figure class="retention"' in body


def test_without_javascript_the_page_always_shows_the_forecast(member, tenant):
    key = shown_key(live_preview(member, tenant, form_data()))
    response = member.post(url("policy_create", tenant), form_data(preview="1", forecast_shown=key))
    assert response.status_code == HTTPStatus.OK
    assert '<figure class="retention"' in response.content.decode()


def test_the_live_preview_reads_the_session_the_user_the_project_and_its_two_save_checks_only(member, tenant):
    live_preview(member, tenant, form_data())
    with CaptureQueriesContext(connection) as captured:
        live_preview(member, tenant, form_data(name="again"))
    tables = [re.search(r'FROM "(\w+)"', query["sql"])[1] for query in captured.captured_queries]
    # The name taken ignoring case and the quota, said before saving: one small read.
    assert tables == [
        "django_session",
        "auth_user",
        "policies_tenant",
        "policies_backuppolicy",
    ]
