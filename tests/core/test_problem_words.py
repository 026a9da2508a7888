"""A problem's detail never names its own field: the API's message puts the field in front once.

The message is ``"<field>: <detail>"``; a detail that starts with its field again reads
``not_tags_any[1].key: not_tags_any[1].key: repeats the key ...``.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.domain.contract import parse, tag_bodies, tag_query, volumes
from policies.domain.contract.codes import Problem

NOW = datetime(2026, 1, 13, 10, tzinfo=UTC)
STORED = parse.parse_policy(
    {
        "backup_policy_name": "p",
        "scheduled_policy": {"start_time": "01:00", "frequency": 1, "rentention_num": 3, "status": "ON"},
    },
    now=NOW,
).spec

keys = st.sampled_from(["k", "env", "", "a b", "k" * 40, "tags", "action", "resources", "key", "values"])
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6) | keys
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(keys | st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
tag_items = st.lists(
    st.fixed_dictionaries({}, optional={"key": values, "values": values, "value": values}), max_size=3
)
query_bodies = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["filter", "count", "x"]) | values,
        "tags": tag_items | values,
        "tags_any": tag_items,
        "not_tags": tag_items,
        "not_tags_any": tag_items,
        "matches": st.lists(st.fixed_dictionaries({}, optional={"key": values, "value": values}), max_size=2)
        | values,
        "limit": values,
        "offset": values,
        "x": values,
    },
)


def repeats_its_field(problem: Problem) -> bool:
    return problem.detail.startswith(f"{problem.field}:") or problem.message.startswith(
        f"{problem.field}: {problem.field}"
    )


def test_a_key_given_twice_in_a_tag_query_names_its_field_once():
    body = {"action": "count", "not_tags_any": [{"key": "0", "values": []}, {"key": "0", "values": []}]}
    _, [problem] = tag_query.parse_tag_query(body)
    assert problem.message == "not_tags_any[1].key: repeats the key '0'; give each key once"


def test_a_modify_naming_another_policy_names_backup_policy_id_once():
    result = parse.parse_policy_update({"backup_policy_id": "other"}, STORED, policy_id="x", now=NOW)
    [problem] = result.problems
    assert problem.message.startswith("backup_policy_id: 'other' is not the ID")


def test_an_unknown_field_of_a_volumes_body_is_named_once():
    _, _, problems = volumes.parse_associate_body({"backup_policy_id": "p", "resources": [], "extra": 1})
    [unknown] = [p for p in problems if p.field == "extra"]
    assert unknown.message == "unknown field 'extra'; the fields are backup_policy_id, resources"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(query_bodies | values)
def test_no_problem_of_a_tag_query_repeats_its_field(body):
    _, problems = tag_query.parse_tag_query(body)
    assert not [p for p in problems if repeats_its_field(p)]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values, values)
def test_no_problem_of_the_other_bodies_repeats_its_field(body, other):
    found = [
        *parse.parse_policy(body, now=NOW).problems,
        *parse.parse_policy_update(body, STORED, policy_id="x", now=NOW).problems,
        *tag_bodies.parse_tag_body(body)[1],
        *tag_bodies.parse_tag_action(body)[1],
        *volumes.parse_associate_body(body)[2],
        *volumes.parse_disassociate_body(body)[1],
        *parse.parse_policy_update({"backup_policy_id": other}, STORED, policy_id="x", now=NOW).problems,
        *volumes.parse_associate_body({"backup_policy_id": "p", "resources": [], str(other): 1})[2],
    ]
    assert not [p for p in found if repeats_its_field(p)]


@pytest.mark.parametrize(
    "params",
    [{"nope": ["1"]}, {"limit": ["1", "2"]}, {"limit": ["x"]}, {"status": ["NO"]}, {"marker": ["x"]}],
)
def test_no_problem_of_the_task_query_repeats_its_field(params):
    _, problems = volumes.parse_task_query(params)
    assert problems
    assert not [p for p in problems if repeats_its_field(p)]
