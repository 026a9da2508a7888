"""Our forecast routes: next runs and retention, for a create body and for a stored policy."""

import json
import uuid
from http import HTTPStatus
from urllib.parse import urlencode

import pytest

from policies import accounts
from policies.domain.contract import codes
from tests.helpers.api import ContractClient, assert_envelope, create_url
from tests.helpers.factories import MembershipFactory, UserFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# Europe/Berlin in winter (UTC+01:00), Monday at local 02:00: 01:00 UTC.
BERLIN_MONDAY = {
    "backup_policy_name": "berlin",
    "scheduled_policy": {
        "start_time": "01:00",
        "week_frequency": ["MON"],
        "rentention_num": 7,
        "remain_first_backup_of_curMonth": "N",
        "status": "ON",
    },
    "time_zone": "UTC+01:00",
}
JANUARY = "2026-01-12T09:00:00Z"  # a Monday, after that day's run


def url(project, what, policy=None, **query) -> str:
    project = getattr(project, "project_id", project)
    middle = f"{policy.pk}/" if hasattr(policy, "pk") else (f"{policy}/" if policy else "")
    return f"/v2/{project}/backuppolicy/{middle}{what}" + (f"?{urlencode(query)}" if query else "")


def body_of(response, status=HTTPStatus.OK) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def payload(**scheduled) -> dict:
    return {**BERLIN_MONDAY, "scheduled_policy": {**BERLIN_MONDAY["scheduled_policy"], **scheduled}}


@pytest.fixture
def stored(tenant):
    return make_policy(tenant, payload=BERLIN_MONDAY)


# --- next runs -----------------------------------------------------------------------------------


def test_next_runs_of_a_create_body_are_given_in_utc_at_the_stored_offset_and_in_the_zone(api, tenant):
    response = api.post(
        url(tenant, "nextruns", count=3, zone="Europe/Berlin", **{"from": JANUARY}), BERLIN_MONDAY
    )
    body = body_of(response)
    assert body["from"] == JANUARY
    assert body["count"] == 3
    assert body["time_zone"] == "UTC+01:00"
    assert body["zone"] == "Europe/Berlin"
    # 12 Jan's run (01:00 UTC) is before 09:00 UTC: the next is Monday 19 Jan, then weekly.
    assert body["runs"] == [
        {
            "utc": f"2026-01-{day}T01:00:00Z",
            "local": f"2026-01-{day}T02:00:00+01:00",
            "zone_local": f"2026-01-{day}T02:00:00+01:00",
            "offset_stale": False,
        }
        for day in ("19", "26")
    ] + [
        {
            "utc": "2026-02-02T01:00:00Z",
            "local": "2026-02-02T02:00:00+01:00",
            "zone_local": "2026-02-02T02:00:00+01:00",
            "offset_stale": False,
        }
    ]
    # Berlin moves to UTC+02:00 on Sun 29 Mar 2026 at 01:00 UTC: from Mon 30 Mar the run is at 03:00.
    spring, autumn = body["local_time_changes"]
    assert spring["at"] == "2026-03-29T01:00:00Z"
    assert spring["first_run"] == {
        "utc": "2026-03-30T01:00:00Z",
        "local": "2026-03-30T02:00:00+01:00",
        "zone_local": "2026-03-30T03:00:00+02:00",
        "offset_stale": True,
    }
    assert spring["local_times"] == ["03:00"]
    assert spring["chosen_local_times"] == ["02:00"]
    assert spring["message"].startswith("From Mon 30 Mar 2026, the runs happen at 03:00 in Europe/Berlin")
    assert autumn["offset_stale"] is False
    assert autumn["first_run"]["zone_local"] == "2026-10-26T02:00:00+01:00"


def test_next_runs_without_a_zone_have_no_zone_fields(api, tenant):
    body = body_of(api.post(url(tenant, "nextruns", count=2, **{"from": JANUARY}), BERLIN_MONDAY))
    assert body["zone"] is None
    assert set(body["runs"][0]) == {"utc", "local"}
    assert "local_time_changes" not in body


def test_next_runs_default_to_ten_from_now(api, tenant):
    body = body_of(api.post(url(tenant, "nextruns"), BERLIN_MONDAY))
    assert len(body["runs"]) == 10
    assert body["runs"][0]["utc"] >= body["from"][:19]
    # Whole seconds, as the docs show it: "2026-11-27T08:22:59Z", not "...59.588803Z".
    assert "." not in body["from"]


def test_a_policy_that_is_off_has_no_next_runs_and_says_so(api, tenant):
    body = body_of(api.post(url(tenant, "nextruns", **{"from": JANUARY}), payload(status="OFF")))
    assert body["runs"] == []
    assert "OFF" in body["note"]


def test_next_runs_of_a_stored_policy(api, tenant, stored):
    body = body_of(api.request("GET", url(tenant, "nextruns", stored, count=1, **{"from": JANUARY})))
    assert body["runs"] == [{"utc": "2026-01-19T01:00:00Z", "local": "2026-01-19T02:00:00+01:00"}]


# --- retention -----------------------------------------------------------------------------------


def test_retention_of_a_create_body_lists_each_backup_each_day_and_the_steady_state(api, tenant):
    response = api.post(url(tenant, "retention", start="2026-03-02", weeks=9), BERLIN_MONDAY)
    body = body_of(response)
    assert body["start"] == "2026-03-02"
    assert body["weeks"] == 9
    assert body["from"] == "2026-03-01T23:00:00Z"  # local midnight at UTC+01:00
    assert len(body["days"]) == 63
    # Nine Mondays from 2 Mar; the newest 7 are kept, so the 8th deletes the 1st, the 9th the 2nd.
    assert [b["created_local"][:10] for b in body["backups"]] == [
        "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30",
        "2026-04-06", "2026-04-13", "2026-04-20", "2026-04-27",
    ]  # fmt: skip
    first, second = body["backups"][:2]
    assert (first["deleted_at"], first["reason"]) == ("2026-04-20T01:00:00Z", "count")
    assert (second["deleted_at"], second["reason"]) == ("2026-04-27T01:00:00Z", "count")
    assert all(b["kept"] and b["reason"] == "newest" for b in body["backups"][2:])
    assert body["days"][0] == {"date": "2026-03-02", "created": [1], "deleted": [], "exist": 1}
    assert body["at_end"]["exist"] == 7
    steady = body["steady_state"]
    assert (steady["max_backups"], steady["min_backups"]) == (7, 7)
    # After a run the oldest of 7 weekly backups is 6 weeks old; just before the next, 7 weeks.
    assert steady["oldest_restore_point"]["min_age_minutes"] == 6 * 7 * 24 * 60
    assert steady["oldest_restore_point"]["max_age_minutes"] == 7 * 7 * 24 * 60
    assert steady["longest_gap"]["minutes"] == 7 * 24 * 60


def test_retention_defaults_to_eight_weeks_from_today(api, tenant):
    body = body_of(api.post(url(tenant, "retention"), BERLIN_MONDAY))
    assert body["weeks"] == 8
    assert len(body["days"]) == 56


def test_a_policy_that_is_off_creates_no_backups_and_says_so(api, tenant):
    body = body_of(api.post(url(tenant, "retention", start="2026-03-02"), payload(status="OFF")))
    assert body["backups"] == []
    assert body["steady_state"] is None
    assert "creates no backups" in body["note"]


def test_retention_of_a_stored_policy(api, tenant, stored):
    body = body_of(api.request("GET", url(tenant, "retention", stored, start="2026-03-02", weeks=1)))
    assert [b["created_at"] for b in body["backups"]] == ["2026-03-02T01:00:00Z"]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["nextruns", "retention"])
@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"backup_policy_name": "x"},
        {**BERLIN_MONDAY, "time_zone": "UTC+01:10"},
        payload(start_time="12:30", retention_num=3),
        {
            **payload(start_time="22:00,00:00,02:00", week_frequency=None, frequency=1),
            "time_zone": "UTC+02:00",
        },
    ],
)
def test_a_bad_body_is_refused_exactly_as_create_refuses_it(api, tenant, route, bad):
    expected = api.post(create_url(tenant), bad)
    assert expected.status_code == HTTPStatus.BAD_REQUEST
    response = api.post(url(tenant, route), bad)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert json.loads(response.content) == json.loads(expected.content)


@pytest.mark.parametrize(
    ("route", "query"),
    [
        ("nextruns", {"count": "0"}),
        ("nextruns", {"count": "101"}),
        ("nextruns", {"count": "ten"}),
        ("nextruns", {"count": "-1"}),
        ("nextruns", {"from": "2026-03-30T00:00:00"}),  # no offset
        ("nextruns", {"from": "2026-03-30T00:00:00 01:00"}),  # an unencoded '+'
        ("nextruns", {"from": "yesterday"}),
        ("nextruns", {"from": "0001-01-01T00:00:00Z"}),
        ("nextruns", {"zone": "Mars/Olympus"}),
        ("nextruns", {"zone": "europe/berlin"}),
        ("nextruns", {"zone": "../../etc/passwd"}),
        ("nextruns", {"cont": "3"}),
        ("retention", {"weeks": "0"}),
        ("retention", {"weeks": "53"}),
        ("retention", {"start": "2026-02-30"}),
        ("retention", {"start": "2026-W10-1"}),
        ("retention", {"count": "3"}),
    ],
)
def test_a_bad_query_parameter_is_400_with_code_0013(api, tenant, stored, route, query):
    for response in (
        api.post(url(tenant, route, **query), BERLIN_MONDAY),
        api.request("GET", url(tenant, route, stored, **query)),
    ):
        error = assert_envelope(400, body_of(response, HTTPStatus.BAD_REQUEST), codes.QUERY_PARAM)
        (detail,) = error["details"]
        assert detail["field"] == next(iter(query))
        assert detail["message"].startswith(f"{next(iter(query))}: ")


def test_a_query_parameter_given_twice_is_refused(api, tenant):
    response = api.post(url(tenant, "nextruns") + "?count=1&count=2", BERLIN_MONDAY)
    error = assert_envelope(400, body_of(response, HTTPStatus.BAD_REQUEST), codes.QUERY_PARAM)
    assert "given 2 times" in error["message"]


def test_the_message_of_a_misspelled_zone_names_the_right_one(api, tenant):
    response = api.post(url(tenant, "nextruns", zone="europe/berlin"), BERLIN_MONDAY)
    assert "did you mean 'Europe/Berlin'?" in body_of(response, 400)["error"]["message"]


def test_a_bad_body_and_a_bad_query_are_reported_together_the_body_first(api, tenant):
    response = api.post(url(tenant, "nextruns", count="0"), payload(start_time="12:30"))
    error = body_of(response, HTTPStatus.BAD_REQUEST)["error"]
    assert error["code"] == codes.START_TIME
    assert [d["code"] for d in error["details"]] == [codes.START_TIME, codes.QUERY_PARAM]


@pytest.mark.parametrize("route", ["nextruns", "retention"])
def test_another_tenants_policy_is_404_0205(api, other_tenant, tenant, route):
    theirs = make_policy(other_tenant, payload=BERLIN_MONDAY)
    for policy in (theirs, uuid.uuid4(), "not-a-uuid"):
        response = api.request("GET", url(tenant, route, policy))
        assert_envelope(404, body_of(response, HTTPStatus.NOT_FOUND), codes.POLICY_NOT_FOUND)


@pytest.mark.parametrize("route", ["nextruns", "retention"])
def test_another_tenants_project_is_403(api, other_tenant, route):
    response = api.post(url(other_tenant, route), BERLIN_MONDAY)
    assert_envelope(403, body_of(response, HTTPStatus.FORBIDDEN), codes.FORBIDDEN_PROJECT)


@pytest.mark.parametrize("route", ["nextruns", "retention"])
@pytest.mark.parametrize(("token", "code"), [(None, codes.NO_TOKEN), ("bpc_unknown", codes.BAD_TOKEN)])
def test_without_a_valid_token_every_forecast_route_is_401(tenant, stored, route, token, code):
    client = ContractClient(token)
    for response in (
        client.post(url(tenant, route), BERLIN_MONDAY),
        client.request("GET", url(tenant, route, stored)),
    ):
        assert_envelope(401, body_of(response, HTTPStatus.UNAUTHORIZED), code)


@pytest.mark.parametrize("route", ["nextruns", "retention"])
def test_a_wrong_method_is_405(api, tenant, stored, route):
    assert_envelope(405, body_of(api.request("GET", url(tenant, route)), 405), "AutoBackup.0005")
    assert_envelope(405, body_of(api.post(url(tenant, route, stored), {}), 405), "AutoBackup.0005")


def test_a_member_of_two_projects_sees_only_the_policies_of_the_project_in_the_path(
    tenant, other_tenant, stored
):
    member = UserFactory(username="both")
    MembershipFactory(user=member, tenant=tenant)
    MembershipFactory(user=member, tenant=other_tenant)
    client = ContractClient(accounts.token_issue(user=member)[1])
    assert client.request("GET", url(tenant, "nextruns", stored)).status_code == HTTPStatus.OK
    response = client.request("GET", url(other_tenant, "nextruns", stored))
    assert_envelope(404, body_of(response, HTTPStatus.NOT_FOUND), codes.POLICY_NOT_FOUND)
