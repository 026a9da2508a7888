"""The core's modify merge and the tag-route bodies (docs/api.md, "The policy lifecycle")."""

import pytest

from policies.domain.contract import codes as error_codes
from policies.domain.contract import parse, specs, tag_bodies
from policies.domain.contract.parse import parse_policy, parse_policy_update
from policies.domain.contract.specs import Tag
from policies.domain.contract.tag_bodies import parse_tag_action, parse_tag_body
from tests.helpers.payloads import schedule_payload, valid_payload


def stored(**overrides) -> specs.PolicySpec:
    result = parse_policy(valid_payload(**overrides))
    assert result.ok, result.problems
    return result.spec


def codes(result) -> list[str]:
    return [problem.code for problem in result.problems]


# --- Merge rules ---------------------------------------------------------------------------


def test_absent_fields_keep_their_stored_values():
    current = stored()
    result = parse_policy_update({"scheduled_policy": {"status": "OFF"}}, current)
    assert result.ok
    assert result.spec.status == "OFF"
    assert result.spec == current.__class__(**{**current.__dict__, "status": "OFF"})


def test_null_keeps_the_stored_value():
    current = stored()
    result = parse_policy_update({"time_zone": None, "scheduled_policy": {"start_time": None}}, current)
    assert result.spec == current


def test_modify_never_changes_tags():
    current = stored()
    assert current.tags == (Tag("key", "value"),)
    result = parse_policy_update({"backup_policy_name": "renamed"}, current)
    assert result.spec.tags == current.tags
    assert result.spec.name == "renamed"


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ({"frequency": 3}, {"frequency": 3, "week_frequency": None}),
        ({"rentention_num": 5}, {"retention_num": 5, "retention_day": None}),
    ],
)
def test_one_member_of_a_pair_replaces_the_other(sent, expected):
    current = stored(time_zone="UTC+00:00")
    assert current.week_frequency == ("SUN", "WED")
    assert current.retention_day == 30
    result = parse_policy_update({"scheduled_policy": sent}, current)
    assert result.ok, result.problems
    for name, value in expected.items():
        assert getattr(result.spec, name) == value


def test_switch_back_from_interval_to_weekdays_and_from_count_to_days():
    current = stored(
        scheduled_policy={"start_time": "02:00", "frequency": 2, "rentention_num": 4, "status": "ON"}
    )
    result = parse_policy_update(
        {"scheduled_policy": {"week_frequency": ["MON"], "rentention_day": 7.9}}, current
    )
    assert result.ok, result.problems
    assert (result.spec.frequency, result.spec.week_frequency) == (None, ("MON",))
    assert (result.spec.retention_num, result.spec.retention_day) == (None, 7)


def test_both_members_sent_follows_the_create_rule_frequency_wins():
    current = stored(time_zone=None)
    result = parse_policy_update({"scheduled_policy": {"frequency": 2, "week_frequency": ["MON"]}}, current)
    assert (result.spec.frequency, result.spec.week_frequency) == (2, None)


def test_switching_to_frequency_with_a_day_shift_is_refused_0226():
    # Local 00:00 and 02:00 at UTC+02:00 are 22:00 the day before and 00:00 the same day.
    current = stored(
        time_zone="UTC+02:00",
        scheduled_policy={
            "start_time": "22:00,00:00",
            "week_frequency": ["MON"],
            "rentention_num": 3,
            "status": "ON",
        },
    )
    result = parse_policy_update({"scheduled_policy": {"frequency": 1}}, current)
    assert codes(result) == [error_codes.TIME_ZONE]
    assert "week_frequency" in result.problems[0].message


def test_changing_the_zone_checks_the_stored_times_again():
    # Stored at UTC+00:00: 01:00,23:00 ascend. At UTC+02:00 they are local 03:00 then 01:00.
    current = stored(
        time_zone="UTC+00:00",
        scheduled_policy={"start_time": "01:00,23:00", "frequency": 1, "rentention_num": 3, "status": "ON"},
    )
    result = parse_policy_update({"time_zone": "UTC+02:00"}, current)
    assert codes(result) == [error_codes.START_TIME]


def test_a_bad_value_is_refused_with_the_create_code():
    current = stored()
    result = parse_policy_update({"scheduled_policy": {"status": "on", "rentention_num": 1}}, current)
    assert codes(result) == [error_codes.STATUS, error_codes.RETENTION]


@pytest.mark.parametrize("body", [None, {}, [], "x", 3])
def test_an_empty_or_non_object_body_is_0000(body):
    assert codes(parse_policy_update(body, stored())) == [error_codes.BODY_EMPTY]


def test_tags_in_a_modify_body_point_to_the_tag_routes():
    result = parse_policy_update({"tags": [], "scheduled_policy": {"status": "OFF"}}, stored())
    assert codes(result) == [error_codes.BAD_FIELD]
    assert "/tags" in result.problems[0].message


POLICY_ID = "6f1c7a52-3d0e-4b8e-9a51-0c2d4e6f8a10"


@pytest.mark.parametrize("sent", [POLICY_ID, POLICY_ID.upper(), None])
def test_a_modify_body_may_repeat_the_policy_id_of_the_path(sent):
    body = {"backup_policy_id": sent, "scheduled_policy": {"status": "OFF"}}
    result = parse_policy_update(body, stored(), policy_id=POLICY_ID)
    assert result.ok, result.problems
    assert result.spec.status == "OFF"


@pytest.mark.parametrize(
    "sent", ["0b5e9c1e-8f43-4c6b-a1d2-93e6f0c4b7aa", "not-a-uuid", "", 7, [POLICY_ID]], ids=repr
)
def test_a_modify_body_naming_another_policy_id_is_0001(sent):
    body = {"backup_policy_id": sent, "scheduled_policy": {"status": "OFF"}}
    result = parse_policy_update(body, stored(), policy_id=POLICY_ID)
    assert codes(result) == [error_codes.BAD_FIELD]
    assert result.problems[0].field == "backup_policy_id"
    assert POLICY_ID in result.problems[0].message


def test_a_modify_body_with_a_policy_id_but_no_path_id_to_compare_is_0001():
    result = parse_policy_update({"backup_policy_id": POLICY_ID, "scheduled_policy": {}}, stored())
    assert codes(result) == [error_codes.BAD_FIELD]


def test_unknown_fields_in_a_modify_body_get_the_create_suggestions():
    result = parse_policy_update({"scheduled_policy": {"retention_num": 3}}, stored())
    assert codes(result) == [error_codes.BAD_FIELD]
    assert "did you mean 'rentention_num'" in result.problems[0].message


def test_scheduled_policy_not_an_object_is_0001():
    assert codes(parse_policy_update({"scheduled_policy": "ON"}, stored())) == [error_codes.BAD_FIELD]


def test_a_rename_is_checked_like_create():
    assert codes(parse_policy_update({"backup_policy_name": "default_x"}, stored())) == [
        error_codes.NAME_CHARS
    ]


def test_merge_body_is_a_create_body():
    merged = parse.merge_policy_update({"scheduled_policy": {"frequency": 2}}, stored(time_zone=None))
    assert (
        merged["scheduled_policy"]
        == schedule_payload(
            start_time="12:00",
            frequency=2,
            rentention_day=30,
            remain_first_backup_of_curMonth="Y",
            status="ON",
        )["scheduled_policy"]
    )
    assert "tags" not in merged


# --- The tag bodies ------------------------------------------------------------------------


def test_one_tag_body():
    assert parse_tag_body({"tag": {"key": "env", "value": ""}}) == (Tag("env", ""), ())


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, error_codes.BODY_EMPTY),
        ({}, error_codes.BODY_EMPTY),
        ([{"key": "a"}], error_codes.BODY_EMPTY),
        ({"tag": None}, error_codes.TAG),
        ({"tag": {"key": "a"}}, error_codes.TAG),
        ({"tag": {"key": "", "value": "v"}}, error_codes.TAG),
        ({"tag": {"key": "a b", "value": "v"}}, error_codes.TAG),
        ({"tag": {"key": "a", "value": "x" * 44}}, error_codes.TAG),
        ({"tag": {"key": "a", "value": "v", "colour": "red"}}, error_codes.TAG),
        ({"key": "a", "value": "v"}, error_codes.BAD_FIELD),
    ],
)
def test_one_tag_body_refusals(body, code):
    tag, problems = parse_tag_body(body)
    assert tag is None
    assert problems[0].code == code


def test_batch_create_and_delete():
    action, problems = parse_tag_action({"action": "create", "tags": [{"key": "a", "value": "1"}]})
    assert problems == ()
    assert action.action == "create"
    assert action.tags == (Tag("a", "1"),)
    action, _ = parse_tag_action({"action": "delete", "tags": [{"key": "a"}, {"key": "b", "value": "2"}]})
    assert action.tags == (Tag("a", ""), Tag("b", "2"))
    assert action.any_value == {"a"}


def test_batch_update_is_an_upsert_like_create():
    action, problems = parse_tag_action({"action": "update", "tags": [{"key": "a", "value": "1"}]})
    assert problems == ()
    assert action.upserts
    assert action.tags == (Tag("a", "1"),)


def test_batch_delete_does_not_upsert():
    action, _ = parse_tag_action({"action": "delete", "tags": [{"key": "a"}]})
    assert not action.upserts


@pytest.mark.parametrize("action", ["create", "update", "delete"])
@pytest.mark.parametrize("tags", [{}, {"tags": None}, {"tags": []}], ids=["absent", "null", "empty"])
def test_a_batch_without_tags_is_valid_and_names_no_tag(action, tags):
    batch, problems = parse_tag_action({"action": action, **tags})
    assert problems == ()
    assert batch.tags == ()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "upsert", "tags": [{"key": "a", "value": "1"}]}, error_codes.TAG_ACTION),
        ({"action": "CREATE", "tags": [{"key": "a", "value": "1"}]}, error_codes.TAG_ACTION),
        ({"tags": [{"key": "a", "value": "1"}]}, error_codes.TAG_ACTION),
        ({"action": None}, error_codes.TAG_ACTION),
        ({"action": "create", "tags": "env=prod"}, error_codes.TAG),
        ({"action": "update", "tags": [{"key": "a"}]}, error_codes.TAG),
        ({"action": "create", "tags": [{"key": "a"}]}, error_codes.TAG),
        (
            {"action": "create", "tags": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
            error_codes.TAG,
        ),
        ({"action": "delete", "tags": [{"value": "1"}]}, error_codes.TAG),
        (
            {"action": "create", "tags": [{"key": f"k{i}", "value": ""} for i in range(11)]},
            error_codes.TAG_COUNT,
        ),
        ({"action": "create", "tags": [{"key": "a", "value": "1"}], "extra": 1}, error_codes.BAD_FIELD),
        ("create", error_codes.BODY_EMPTY),
    ],
)
def test_batch_refusals(body, code):
    action, problems = parse_tag_action(body)
    assert action is None
    assert problems[0].code == code


def test_tag_count_problem_names_the_limit():
    problem = tag_bodies.tag_count_problem(11)
    assert problem.code == error_codes.TAG_COUNT
    assert "11" in problem.message
    assert "10" in problem.message


# --- A form's complete payload as a change (the dashboard's edit form, the admin's) ---------------


def test_an_edit_payload_keeps_its_own_tags_and_goes_through_the_merge():
    current = stored()
    payload = valid_payload(tags=[{"key": "new", "value": ""}], time_zone="UTC+00:00")
    result = parse.parse_policy_edit(payload, current)
    assert result.ok, result.problems
    assert result.spec.tags == (Tag("new", ""),)
    assert result.spec.time_zone == "UTC+00:00"


def test_an_edit_payload_with_an_emptied_field_is_refused_not_kept():
    payload = valid_payload()
    del payload["scheduled_policy"]["start_time"]
    assert codes(parse.parse_policy_edit(payload, stored())) == [error_codes.START_TIME]


def test_problem_paths_name_their_field_and_tag():
    assert (
        error_codes.path_without_indexes("scheduled_policy.week_frequency[2]")
        == "scheduled_policy.week_frequency"
    )
    assert error_codes.tag_of_path("tags[3].key") == (3, "key")
    assert error_codes.tag_of_path("tags[3]") == (3, None)
    assert error_codes.tag_of_path("tags") is None
