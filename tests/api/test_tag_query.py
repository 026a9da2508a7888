"""Query policies by tag: ``POST /v2/{project_id}/backuppolicy/resource_instances/action``."""

from http import HTTPStatus

import pytest

from policies import selectors
from policies.domain.contract.tag_query import matches, parse_tag_query
from tests.helpers.api import error_of, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def query_url(tenant) -> str:
    return f"/v2/{getattr(tenant, 'project_id', tenant)}/backuppolicy/resource_instances/action"


def make(tenant, name: str, **tags: str):
    body = valid_payload(backup_policy_name=name, tags=[{"key": k, "value": v} for k, v in tags.items()])
    return make_policy(tenant, payload=body)


@pytest.fixture
def policies(tenant, other_tenant):
    """Four policies of the tenant, in creation order, and one of another project."""
    make(other_tenant, "nightly_prod_theirs", env="prod", team="db")
    return [
        make(tenant, "nightly_prod", env="prod", team="db"),
        make(tenant, "weekly_dev", env="dev", team="web"),
        make(tenant, "Nightly_test", env="test"),
        make(tenant, "untagged"),
    ]


def names(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK, response.content
    return [resource["resource_name"] for resource in response.json()["resources"]]


def find(api, tenant, **body):
    return send(api, "POST", query_url(tenant), {"action": "filter", **body})


def test_filter_answers_each_policy_found_with_its_tags_and_the_total(api, tenant, policies):
    response = find(api, tenant, tags=[{"key": "env", "values": ["prod"]}])
    assert response.json() == {
        "resources": [
            {
                "resource_id": str(policies[0].pk),
                "resource_name": "nightly_prod",
                "resource_detail": None,
                "tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "db"}],
            }
        ],
        "total_count": 1,
    }


def test_without_a_filter_every_policy_of_the_project_is_found_in_creation_order(api, tenant, policies):
    assert names(find(api, tenant)) == ["nightly_prod", "weekly_dev", "Nightly_test", "untagged"]


# (body, names found): one row per rule, each with a policy it keeps and one it leaves out.
CASES = [
    ({"tags": [{"key": "env", "values": []}]}, ["nightly_prod", "weekly_dev", "Nightly_test"]),
    ({"tags": [{"key": "env", "values": ["dev", "test"]}]}, ["weekly_dev", "Nightly_test"]),
    ({"tags": [{"key": "env", "values": []}, {"key": "team", "values": ["db"]}]}, ["nightly_prod"]),
    ({"tags": [{"key": "ENV", "values": []}]}, []),
    (
        {"tags_any": [{"key": "team", "values": ["web"]}, {"key": "env", "values": ["test"]}]},
        ["weekly_dev", "Nightly_test"],
    ),
    (
        {"not_tags": [{"key": "env", "values": []}, {"key": "team", "values": []}]},
        ["Nightly_test", "untagged"],
    ),
    ({"not_tags_any": [{"key": "team", "values": []}, {"key": "env", "values": ["test"]}]}, ["untagged"]),
    ({"matches": [{"key": "resource_name", "value": "NIGHTLY"}]}, ["nightly_prod", "Nightly_test"]),
    ({"matches": [{"key": "resource_name", "value": "ly_"}]}, ["nightly_prod", "weekly_dev", "Nightly_test"]),
    (
        {
            "matches": [{"key": "resource_name", "value": "_"}],
            "not_tags_any": [{"key": "env", "values": ["prod"]}],
        },
        ["weekly_dev", "Nightly_test"],
    ),
]


@pytest.mark.parametrize(("body", "found"), CASES)
def test_each_filter_finds_what_the_contract_says(api, tenant, policies, body, found):
    assert names(find(api, tenant, **body)) == found


@pytest.mark.parametrize(("body", "found"), CASES)
def test_the_database_filter_agrees_with_the_core(tenant, policies, body, found):
    query, _ = parse_tag_query({"action": "filter", **body})
    by_core = [p.name for p in policies if matches(query, name=p.name, tags=p.to_spec().tags)]
    by_database = [p.name for p in selectors.policy_query_by_tags(tenant=tenant, query=query)]
    assert by_database == by_core == found


def test_count_answers_only_the_number_found(api, tenant, policies):
    body = {"action": "count", "tags": [{"key": "env", "values": []}], "limit": "1", "offset": "2"}
    response = send(api, "POST", query_url(tenant), body)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"total_count": 3}


def test_limit_and_offset_page_the_policies_and_the_total_counts_them_all(api, tenant, policies):
    response = find(api, tenant, limit="2", offset="1")
    assert names(response) == ["weekly_dev", "Nightly_test"]
    assert response.json()["total_count"] == 4


def test_an_offset_past_the_end_is_an_empty_page(api, tenant, policies):
    response = find(api, tenant, offset="4")
    assert response.json() == {"resources": [], "total_count": 4}


def test_another_projects_policies_are_never_found(api, tenant, other_tenant, policies):
    response = find(api, tenant, matches=[{"key": "resource_name", "value": "theirs"}])
    assert response.json() == {"resources": [], "total_count": 0}


def test_the_query_of_another_project_is_403_0213(api, other_tenant, policies):
    error_of(find(api, other_tenant), 403, "AutoBackup.0213")


def test_the_query_needs_a_token(anonymous, tenant):
    error_of(find(anonymous, tenant), 401, "AutoBackup.0002")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "list"}, "AutoBackup.0222"),
        ({"tags": [{"key": "env", "values": []}]}, "AutoBackup.0222"),
        ({"action": "filter", "tags": []}, "AutoBackup.0214"),
        ({"action": "filter", "tags": [{"key": "e v", "values": []}]}, "AutoBackup.0214"),
        ({"action": "filter", "limit": 10}, "AutoBackup.0001"),
        ({"action": "filter", "sort": "name"}, "AutoBackup.0001"),
        ({}, "AutoBackup.0000"),
    ],
)
def test_a_bad_query_is_400_with_its_code(api, tenant, body, code):
    error_of(send(api, "POST", query_url(tenant), body), 400, code)


def test_a_query_that_is_not_json_is_0008(api, tenant):
    error_of(send(api, "POST", query_url(tenant), raw="{action"), 400, "AutoBackup.0008")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_the_query_route_serves_only_post(api, tenant, method):
    error_of(send(api, method, query_url(tenant)), 405, "AutoBackup.0005")


def test_resource_instances_is_never_read_as_a_policy_id(api, tenant, policies):
    # A PUT on .../backuppolicy/resource_instances would be a modify of a policy of that ID.
    error_of(send(api, "GET", f"{query_url(tenant)}/"), 404, "AutoBackup.0004")
    error_of(
        send(api, "PUT", f"/v2/{tenant.project_id}/backuppolicy/resource_instances", {"x": 1}),
        404,
        "AutoBackup.0205",
    )
