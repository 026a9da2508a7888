"""A live answer that replaces the forecast on the page leaves out its calendar and table of days.

The page asks for them (the calendar at once, the days when their section is opened); each part
answered is exactly the one a whole forecast of the same form state holds.
"""

import gzip
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# The founding example's answer after a change of one field: the bound, uncompressed.
SMALL_ANSWER = 8 * 1024
CALENDAR = re.compile(r'<div class="retention-calendar" aria-hidden="true">.*?\n      </div>', re.S)
DAYS = re.compile(r"<table>\s*<caption class=\"visually-hidden\">Days on which.*?</table>", re.S)


def live_preview(member, tenant, data) -> str:
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def shown_key(body: str) -> str:
    return re.search(r'name="forecast_shown" value="([0-9a-f]+)"', body)[1]


def part_url(tenant, part: str) -> str:
    return reverse("policies:policy_preview_part", kwargs={"project_id": tenant.project_id, "part": part})


def part(member, tenant, name, data) -> str:
    response = member.post(part_url(tenant, name), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


@pytest.fixture
def changed(member, tenant):
    """The form after the number of backups kept went from 7 to 3, sent with the shown forecast's key."""
    key = shown_key(live_preview(member, tenant, form_data()))
    return form_data(retention_num="3", forecast_shown=key)


def test_a_new_retention_is_answered_in_under_8_kb_without_the_calendar_and_the_days(member, tenant, changed):
    body = live_preview(member, tenant, changed)
    assert len(body.encode()) < SMALL_ANSWER
    assert shown_key(body) != changed["forecast_shown"]  # the new forecast, with its key ...
    assert '<figure class="retention"' in body  # ... its figure and caption ...
    assert "3 exist at its end" in body
    assert 'title="Backup ' not in body  # ... but not the calendar's days
    assert "Days on which a backup is made or deleted" not in body
    assert f'hx-post="{part_url(tenant, "calendar")}"' in body
    assert 'hx-trigger="load"' in body
    assert f'hx-post="{part_url(tenant, "days")}"' in body
    assert 'hx-trigger="toggle once"' in body


@pytest.mark.parametrize(("name", "pattern"), [("calendar", CALENDAR), ("days", DAYS)])
def test_a_part_is_the_one_a_whole_forecast_of_the_same_form_holds(member, tenant, changed, name, pattern):
    whole = live_preview(member, tenant, {**changed, "forecast_shown": ""})
    assert pattern.search(part(member, tenant, name, changed))[0] == pattern.search(whole)[0]


def test_the_calendar_shows_the_new_retention(member, tenant, changed):
    calendar = part(member, tenant, "calendar", changed)
    before = part(member, tenant, "calendar", {**changed, "retention_num": "7"})
    assert calendar.count('class="mark deleted') > before.count('class="mark deleted')


def test_a_form_state_without_a_retention_picture_gets_an_empty_part(member, tenant, changed):
    assert part(member, tenant, "calendar", {**changed, "status": "OFF"}) == ""
    assert part(member, tenant, "days", {**changed, "hours": []}) == ""


def test_the_first_answer_still_carries_the_whole_forecast(member, tenant):
    body = live_preview(member, tenant, form_data())
    assert CALENDAR.search(body)
    assert DAYS.search(body)
    assert 'hx-trigger="load"' not in body


def test_a_part_is_compressed_for_a_browser_that_accepts_gzip(member, tenant, changed):
    response = member.post(part_url(tenant, "calendar"), changed, **HTMX, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.content).decode()
    assert CALENDAR.search(body)
    assert "csrfmiddlewaretoken" not in body


def test_an_unknown_part_another_project_a_get_and_a_stranger_are_refused(
    client, member, tenant, other_tenant, changed
):
    assert member.post(part_url(tenant, "weather"), changed, **HTMX).status_code == HTTPStatus.NOT_FOUND
    assert member.post(part_url(other_tenant, "calendar"), changed).status_code == HTTPStatus.NOT_FOUND
    assert member.get(part_url(tenant, "calendar")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    client.logout()
    response = client.post(part_url(tenant, "calendar"), changed)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("login"))


def test_a_part_reads_the_session_the_user_and_the_project_only(member, tenant, changed):
    part(member, tenant, "calendar", changed)
    with CaptureQueriesContext(connection) as captured:
        part(member, tenant, "calendar", changed)
    tables = [re.search(r'FROM "(\w+)"', query["sql"])[1] for query in captured.captured_queries]
    assert tables == ["django_session", "auth_user", "policies_tenant"]


def test_the_edit_form_asks_its_own_route_which_reads_the_policy_too(member, tenant):
    nightly = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))
    ids = {"project_id": tenant.project_id, "policy_id": nightly.pk}
    edit = reverse("policies:policy_edit", kwargs=ids)
    key = shown_key(member.get(edit).content.decode())
    data = form_data(name="nightly", retention_num="3", forecast_shown=key)
    body = member.post(reverse("policies:policy_edit_preview", kwargs=ids), data, **HTMX).content.decode()
    calendar_url = reverse("policies:policy_edit_preview_part", kwargs={**ids, "part": "calendar"})
    assert f'hx-post="{calendar_url}"' in body
    with CaptureQueriesContext(connection) as captured:
        response = member.post(calendar_url, data, **HTMX)
    assert CALENDAR.search(response.content.decode())
    tables = [re.search(r'FROM "(\w+)"', query["sql"])[1] for query in captured.captured_queries]
    assert tables == [
        "django_session",
        "auth_user",
        "policies_tenant",
        "policies_backuppolicy",
        "policies_policytag",
    ]
    other = reverse(
        "policies:policy_edit_preview_part", kwargs={**ids, "policy_id": "0" * 32, "part": "days"}
    )
    assert member.post(other, data, **HTMX).status_code == HTTPStatus.NOT_FOUND
