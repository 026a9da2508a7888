"""The tag query's body and its meaning (``policies/tag_query.py``), without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.domain.contract import codes
from policies.domain.contract.specs import Tag
from policies.domain.contract.tag_query import TagFilter, TagQuery, matches, parse_tag_query


def codes_of(body) -> list[str]:
    query, problems = parse_tag_query(body)
    assert query is None
    return [problem.code for problem in problems]


def test_a_full_query_is_read_with_its_defaults():
    query, problems = parse_tag_query(
        {
            "action": "filter",
            "tags": [{"key": "env", "values": ["prod", "prod", ""]}],
            "tags_any": [{"key": "team", "values": []}],
            "not_tags": [{"key": "tier", "values": None}],
            "not_tags_any": [{"key": "old"}],
            "matches": [{"key": "resource_name", "value": "DB"}],
        }
    )
    assert problems == ()
    assert query == TagQuery(
        action="filter",
        tags=(TagFilter("env", ("prod", "")),),
        tags_any=(TagFilter("team"),),
        not_tags=(TagFilter("tier"),),
        not_tags_any=(TagFilter("old"),),
        name_contains=("DB",),
        limit=1000,
        offset=0,
    )


@pytest.mark.parametrize(("limit", "offset"), [("1", "0"), ("1000", "5"), ("007", "120")])
def test_limit_and_offset_are_strings_holding_integers(limit, offset):
    query, problems = parse_tag_query({"action": "filter", "limit": limit, "offset": offset})
    assert problems == ()
    assert (query.limit, query.offset) == (int(limit), int(offset))


def test_count_needs_only_the_action():
    query, problems = parse_tag_query({"action": "count"})
    assert problems == ()
    assert query.counts_only


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, codes.BODY_EMPTY),
        ({}, codes.BODY_EMPTY),
        ([{"action": "filter"}], codes.BODY_EMPTY),
        ({"tags": [{"key": "a", "values": []}]}, codes.TAG_ACTION),
        ({"action": "list"}, codes.TAG_ACTION),
        ({"action": "FILTER"}, codes.TAG_ACTION),
        ({"action": ["filter"]}, codes.TAG_ACTION),
        ({"action": "filter", "tag": []}, codes.BAD_FIELD),
        ({"action": "filter", "limit": 10}, codes.BAD_FIELD),
        ({"action": "filter", "limit": "0"}, codes.BAD_FIELD),
        ({"action": "filter", "limit": "1001"}, codes.BAD_FIELD),
        ({"action": "filter", "limit": " 5"}, codes.BAD_FIELD),
        ({"action": "filter", "limit": "5.0"}, codes.BAD_FIELD),
        ({"action": "filter", "offset": "-1"}, codes.BAD_FIELD),
        ({"action": "count", "offset": "9" * 13}, codes.BAD_FIELD),
        ({"action": "filter", "matches": [{"key": "name", "value": "db"}]}, codes.BAD_FIELD),
        ({"action": "filter", "matches": [{"key": "resource_name", "value": "a%b"}]}, codes.BAD_FIELD),
        ({"action": "filter", "matches": [{"key": "resource_name", "value": "\0"}]}, codes.BAD_FIELD),
        ({"action": "filter", "matches": {"key": "resource_name", "value": "db"}}, codes.BAD_FIELD),
        ({"action": "filter", "tags": []}, codes.TAG),
        ({"action": "filter", "not_tags_any": {"key": "a"}}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "", "values": []}]}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "a b", "values": []}]}, codes.TAG),
        ({"action": "filter", "tags": [{"values": ["x"]}]}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "a", "value": "x"}]}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "a", "values": "x"}]}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "a", "values": ["x" * 44]}]}, codes.TAG),
        ({"action": "filter", "tags": [{"key": "a", "values": [None]}]}, codes.TAG),
        (
            {"action": "filter", "tags_any": [{"key": "a", "values": [str(i) for i in range(11)]}]},
            codes.TAG,
        ),
        ({"action": "filter", "not_tags": [{"key": f"k{i}", "values": []} for i in range(11)]}, codes.TAG),
        (
            {"action": "filter", "tags": [{"key": "a", "values": []}, {"key": "a", "values": ["x"]}]},
            codes.TAG,
        ),
    ],
)
def test_a_bad_query_body_is_refused_with_its_code(body, code):
    assert codes_of(body)[0] == code


def test_every_problem_is_listed_in_the_contract_order():
    body = {"action": "sort", "tags": [], "limit": 5, "colour": "red"}
    assert codes_of(body) == [codes.BAD_FIELD, codes.BAD_FIELD, codes.TAG_ACTION, codes.TAG]


def test_an_unknown_field_suggests_the_known_one():
    _, problems = parse_tag_query({"action": "filter", "not_tag_any": []})
    assert "did you mean 'not_tags_any'?" in problems[0].message


PROD_DB = [Tag("env", "prod"), Tag("team", "db")]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        (TagQuery("filter"), True),
        (TagQuery("filter", tags=(TagFilter("env", ("prod",)),)), True),
        (TagQuery("filter", tags=(TagFilter("env", ("dev",)),)), False),
        (TagQuery("filter", tags=(TagFilter("env"), TagFilter("team", ("db", "web")))), True),
        (TagQuery("filter", tags=(TagFilter("env"), TagFilter("tier"))), False),
        (TagQuery("filter", tags=(TagFilter("ENV"),)), False),
        (TagQuery("filter", tags_any=(TagFilter("tier"), TagFilter("team", ("db",)))), True),
        (TagQuery("filter", tags_any=(TagFilter("tier"), TagFilter("team", ("web",)))), False),
        (TagQuery("filter", not_tags=(TagFilter("env"), TagFilter("tier"))), True),
        (TagQuery("filter", not_tags=(TagFilter("env"), TagFilter("team"))), False),
        (TagQuery("filter", not_tags_any=(TagFilter("tier"), TagFilter("env", ("dev",)))), True),
        (TagQuery("filter", not_tags_any=(TagFilter("tier"), TagFilter("env", ("prod",)))), False),
        (TagQuery("filter", name_contains=("NIGHT",)), True),
        (TagQuery("filter", name_contains=("night", "db")), True),
        (TagQuery("filter", name_contains=("weekly",)), False),
    ],
)
def test_what_a_query_finds(query, found):
    assert matches(query, name="nightly_db", tags=PROD_DB) is found


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: (
            st.lists(inner)
            | st.dictionaries(
                st.sampled_from(["action", "tags", "key", "values", "limit", "matches", "value", "x"]), inner
            )
        ),
    )
)
def test_any_json_value_gives_a_query_or_problems_never_an_exception(body):
    query, problems = parse_tag_query(body)
    assert (query is None) != (problems == ())
