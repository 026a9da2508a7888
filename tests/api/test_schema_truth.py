"""The OpenAPI description says what the server does where an outsider's schemathesis run found it did not."""

import json
import re
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies.domain.contract import parse
from policies.domain.contract import volumes as volume_rules

ROOT = Path(__file__).resolve().parents[2]
EXECUTE = ("/v2/{project_id}/backuppolicy/{policy_id}/action", "post")
TASKS = ("/v2/{project_id}/backuppolicy/{policy_id}/backuptasks", "get")


@pytest.fixture(scope="module")
def document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def operation(document, path_and_method) -> dict:
    path, method = path_and_method
    return document["paths"][path][method]


def by_id(document) -> dict[str, dict]:
    return {
        item["operationId"]: item
        for path_item in document["paths"].values()
        for item in path_item.values()
        if isinstance(item, dict) and "operationId" in item
    }


def test_execute_without_a_body_is_allowed_by_the_schema_as_by_the_api(document):
    assert operation(document, EXECUTE)["requestBody"]["required"] is False
    others = [
        item
        for item in by_id(document).values()
        if "requestBody" in item and item is not operation(document, EXECUTE)
    ]
    assert others
    assert all(item["requestBody"]["required"] is True for item in others)


@pytest.mark.parametrize("body", ["AssociateBody", "DisassociateBody"])
def test_a_blank_resource_id_is_what_the_schema_and_the_core_call_blank(document, body):
    pattern = document["components"]["schemas"][body]["properties"]["resources"]["items"]["properties"][
        "resource_id"
    ]["pattern"]
    # Every character alone: the pattern finds none in exactly those the core strips away (0209).
    blank_by_schema = {c for c in range(sys.maxunicode + 1) if re.search(pattern, chr(c)) is None}
    assert blank_by_schema == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    for text in ("\u0085", "\x1e\n", "\ufeff", " x ", "\u00a0"):
        _, problems = volume_rules.parse_disassociate_body({"resources": [{"resource_id": text}]})
        refused = any(problem.code == volume_rules.NO_RESOURCE_ID for problem in problems)
        assert refused is (re.search(pattern, text) is None), text


def test_the_examples_of_time_zone_and_time_zone_name_agree_so_a_body_made_of_them_is_accepted(document):
    create = document["components"]["schemas"]["BackupPolicyCreate"]
    body = dict(create["example"])
    body["time_zone"] = create["properties"]["time_zone"]["example"]
    body["time_zone_name"] = create["properties"]["time_zone_name"]["example"]
    for when in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        assert parse.parse_policy(body, now=when).ok


@pytest.mark.parametrize("pair_member", [{"frequency": 1}, {"week_frequency": ["MON"]}])
def test_the_start_time_example_at_the_time_zone_example_is_accepted_with_either_pair_member(
    document, pair_member
):
    create = document["components"]["schemas"]["BackupPolicyCreate"]
    variant = document["components"]["schemas"]["ScheduledPolicy"]["anyOf"][0]
    body = {
        "backup_policy_name": "examples",
        "scheduled_policy": {
            "start_time": variant["properties"]["start_time"]["example"],
            "status": "ON",
            "rentention_num": 2,
            **pair_member,
        },
        "time_zone": create["properties"]["time_zone"]["example"],
    }
    assert parse.parse_policy(body).ok, parse.parse_policy(body).problems


def test_the_answers_with_a_policy_id_link_every_operation_on_it_but_those_that_need_a_tag(document):
    operations = by_id(document)
    takes_policy_id = {
        name
        for name, item in operations.items()
        if any(p["name"] == "policy_id" and p["in"] == "path" for p in item.get("parameters", []))
    }
    needs_a_tag = {"deletePolicyTag", "deletePolicyTagNamedAction"}
    assert needs_a_tag < takes_policy_id
    for source in ("createBackupPolicy", "listBackupPolicies", "queryBackupPoliciesByTags"):
        links = operations[source]["responses"]["200"]["links"]
        assert set(links) == (takes_policy_id - needs_a_tag) | {"associateVolumes"}, source


def test_a_page_of_backup_tasks_links_its_first_job_id_to_marker_and_job_id(document):
    links = operation(document, TASKS)["responses"]["200"]["links"]
    first = "$response.body#/tasks/0/job_id"
    assert {link["operationId"] for link in links.values()} == {"listBackupTasks"}
    assert sorted(
        (name, value)
        for link in links.values()
        for name, value in link["parameters"].items()
        if value == first
    ) == [("job_id", first), ("marker", first)]
    assert all(link["parameters"]["policy_id"] == "$request.path.policy_id" for link in links.values())


def test_the_repositorys_schemathesis_toml_sets_only_the_project_and_from_the_environment():
    config = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    assert config == {"parameters": {"project_id": "${BPC_PROJECT}"}}
