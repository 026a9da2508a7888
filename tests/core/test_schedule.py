"""The contract core alone (``policies.domain``): every rule of a policy body (docs/api.md), no Django."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from policies.domain import words
from policies.domain.contract import codes as error_codes
from policies.domain.contract import limits
from policies.domain.contract.decode import BodyError, decode_body
from policies.domain.contract.parse import parse_policy
from policies.domain.contract.specs import PolicySpec, Tag
from policies.domain.schedule.offsets import has_day_shift
from policies.domain.schedule.week import runs_of_day, utc_week
from policies.domain.schedule.zones import offset_changes, zone_offset_minutes
from tests.helpers.payloads import valid_payload

ABSENT = object()

BASE_SCHEDULE = {"start_time": "12:00", "frequency": 1, "rentention_num": 7, "status": "ON"}


def policy(scheduled: dict | None = None, **top) -> dict:
    """Return a valid body (every day at 12:00 UTC) with changes; ``ABSENT`` removes a key.

    ``scheduled`` changes keys of ``scheduled_policy``, keyword arguments change top-level keys.
    """
    body = {"backup_policy_name": "nightly", "scheduled_policy": dict(BASE_SCHEDULE)}
    for target, changes in ((body["scheduled_policy"], scheduled or {}), (body, top)):
        for key, value in changes.items():
            if value is ABSENT:
                target.pop(key, None)
            else:
                target[key] = value
    return body


def weekly(start_time: str, time_zone: str | None = None, days=("MON",)) -> dict:
    """Return a valid body for a weekday schedule at these UTC times."""
    extra = {"time_zone": time_zone} if time_zone else {}
    return policy({"start_time": start_time, "frequency": ABSENT, "week_frequency": list(days)}, **extra)


def daily(start_time: str, time_zone: str | None = None) -> dict:
    extra = {"time_zone": time_zone} if time_zone else {}
    return policy({"start_time": start_time}, **extra)


def accepted(body) -> PolicySpec:
    result = parse_policy(body)
    assert result.ok, result.problems
    assert result.problems == ()
    return result.spec


def codes(body) -> list[str]:
    result = parse_policy(body)
    assert result.spec is None
    return [problem.code for problem in result.problems]


def first_code(body) -> str:
    return codes(body)[0]


def tags(count: int) -> list[dict]:
    return [{"key": f"k{index}", "value": f"v{index}"} for index in range(count)]


# The example request of the VBS "Creating a Backup Policy" page, as the factories build it.
FOUNDING_REQUEST = valid_payload()


# --- decode_body ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b'{"a": 1}', '{"a": 1}', b' \n{"a": 1}\n '])
def test_decode_body_reads_a_json_object_from_bytes_or_text(raw):
    assert decode_body(raw) == {"a": 1}


@pytest.mark.parametrize("raw", [b"", "", b"   ", b"\n\t "])
def test_decode_body_refuses_an_empty_body_with_0000(raw):
    with pytest.raises(BodyError) as caught:
        decode_body(raw)
    assert caught.value.problem.code == "AutoBackup.0000"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": ',
        b"{'a': 1}",
        b'{"a": 1,}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b"NaN",
        b"\xff\xfe{}",
        b'{"name": "caf\xe9"}',
        b"[" * 100_000,
    ],
    ids=[
        "truncated",
        "single-quotes",
        "trailing-comma",
        "nan",
        "infinity",
        "minus-infinity",
        "bare-nan",
        "not-utf8",
        "latin1",
        "nested-too-deeply",
    ],
)
def test_decode_body_refuses_what_is_not_strict_json_with_0008(raw):
    with pytest.raises(BodyError) as caught:
        decode_body(raw)
    assert caught.value.problem.code == "AutoBackup.0008"
    assert caught.value.problem.message


# --- the founding request and the shape of a spec -------------------------------------------


def test_the_founding_request_is_accepted_as_the_documentation_describes_it():
    assert accepted(FOUNDING_REQUEST) == PolicySpec(
        name="policy_01",
        start_hours=(12,),
        status="ON",
        week_frequency=("SUN", "WED"),
        retention_day=30,
        keep_first_of_month=True,
        time_zone="UTC+08:00",
        tags=(Tag("key", "value"),),
    )


def test_the_founding_request_reads_back_as_the_scheduled_policy_it_sent():
    assert accepted(FOUNDING_REQUEST).to_payload() == FOUNDING_REQUEST


@pytest.mark.parametrize("body", [None, [], [FOUNDING_REQUEST], "policy", 1, 2.5, True, False])
def test_a_body_that_is_not_a_json_object_is_refused_with_0000(body):
    assert codes(body) == ["AutoBackup.0000"]


def test_an_empty_object_is_refused_for_its_missing_required_fields():
    assert codes({}) == ["AutoBackup.0001", "AutoBackup.0101"]


# --- every row of the error table (2.4), refusing cases --------------------------------------


ERROR_TABLE = [
    # 0001: scheduled_policy missing or not an object; an unknown field
    ("AutoBackup.0001", policy(scheduled_policy=ABSENT)),
    ("AutoBackup.0001", policy(scheduled_policy=None)),
    ("AutoBackup.0001", policy(scheduled_policy=[BASE_SCHEDULE])),
    ("AutoBackup.0001", policy(scheduled_policy="12:00")),
    ("AutoBackup.0001", policy(description="nightly backups")),
    ("AutoBackup.0001", policy({"retention_num": 7})),
    # 0101: backup_policy_name missing or of wrong length
    ("AutoBackup.0101", policy(backup_policy_name=ABSENT)),
    ("AutoBackup.0101", policy(backup_policy_name=None)),
    ("AutoBackup.0101", policy(backup_policy_name="")),
    ("AutoBackup.0101", policy(backup_policy_name="a" * 65)),
    # 0102: a character outside the set, or starting with default
    ("AutoBackup.0102", policy(backup_policy_name="nightly backup")),
    ("AutoBackup.0102", policy(backup_policy_name="nightly.db")),
    ("AutoBackup.0102", policy(backup_policy_name="sauvegarde_é")),
    ("AutoBackup.0102", policy(backup_policy_name="備份")),
    ("AutoBackup.0102", policy(backup_policy_name="nightly\n")),
    ("AutoBackup.0102", policy(backup_policy_name="default")),
    ("AutoBackup.0102", policy(backup_policy_name="default_x")),
    ("AutoBackup.0102", policy(backup_policy_name="Default_x")),
    ("AutoBackup.0102", policy(backup_policy_name="DEFAULT1")),
    # 0103: start_time missing or invalid
    ("AutoBackup.0103", policy({"start_time": ABSENT})),
    ("AutoBackup.0103", policy({"start_time": None})),
    ("AutoBackup.0103", policy({"start_time": "12:30"})),
    ("AutoBackup.0103", policy({"start_time": "24:00"})),
    ("AutoBackup.0103", policy({"start_time": "7:00"})),
    ("AutoBackup.0103", policy({"start_time": "12:00,12:00"})),
    ("AutoBackup.0103", policy({"start_time": ""})),
    ("AutoBackup.0103", policy({"start_time": "12:00,"})),
    ("AutoBackup.0103", policy({"start_time": "12"})),
    ("AutoBackup.0103", policy({"start_time": "12:00:00"})),
    ("AutoBackup.0103", policy({"start_time": "12h00"})),
    ("AutoBackup.0103", policy({"start_time": "１２:00"})),
    ("AutoBackup.0103", policy({"start_time": "14:00,12:00"})),
    # 0104: status missing or invalid
    ("AutoBackup.0104", policy({"status": ABSENT})),
    ("AutoBackup.0104", policy({"status": None})),
    ("AutoBackup.0104", policy({"status": "on"})),
    ("AutoBackup.0104", policy({"status": "ENABLED"})),
    ("AutoBackup.0104", policy({"status": ""})),
    # 0105: remain_first_backup_of_curMonth invalid
    ("AutoBackup.0105", policy({"remain_first_backup_of_curMonth": "y"})),
    ("AutoBackup.0105", policy({"remain_first_backup_of_curMonth": "YES"})),
    ("AutoBackup.0105", policy({"remain_first_backup_of_curMonth": ""})),
    # 0106: frequency / week_frequency invalid, or neither given
    ("AutoBackup.0106", policy({"frequency": ABSENT})),
    ("AutoBackup.0106", policy({"frequency": None})),
    ("AutoBackup.0106", policy({"frequency": 0})),
    ("AutoBackup.0106", policy({"frequency": 15})),
    ("AutoBackup.0106", policy({"frequency": -1})),
    ("AutoBackup.0106", policy({"frequency": 2.5})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": []})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": ["mon"]})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": ["MONDAY"]})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": ["MON", "MON"]})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": "MON"})),
    ("AutoBackup.0106", policy({"frequency": ABSENT, "week_frequency": [1]})),
    # 0107: rentention_num / rentention_day invalid, or neither given
    ("AutoBackup.0107", policy({"rentention_num": ABSENT})),
    ("AutoBackup.0107", policy({"rentention_num": None})),
    ("AutoBackup.0107", policy({"rentention_num": 1})),
    ("AutoBackup.0107", policy({"rentention_num": 15})),
    ("AutoBackup.0107", policy({"rentention_num": 2.5})),
    ("AutoBackup.0107", policy({"rentention_num": ABSENT, "rentention_day": 1})),
    ("AutoBackup.0107", policy({"rentention_num": ABSENT, "rentention_day": 1.5})),
    ("AutoBackup.0107", policy({"rentention_num": ABSENT, "rentention_day": 100000})),
    ("AutoBackup.0107", policy({"rentention_num": ABSENT, "rentention_day": -30})),
    # 0214: a tag invalid (shape, key, value, repeated key)
    ("AutoBackup.0214", policy(tags={"key": "k", "value": "v"})),
    ("AutoBackup.0214", policy(tags=["k=v"])),
    ("AutoBackup.0214", policy(tags=[{"value": "v"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k", "value": None}])),
    ("AutoBackup.0214", policy(tags=[{"key": "", "value": "v"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k" * 37, "value": "v"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k", "value": "v" * 44}])),
    ("AutoBackup.0214", policy(tags=[{"key": "my key", "value": "v"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k", "value": "v.1"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k", "value": "a"}, {"key": "k", "value": "b"}])),
    ("AutoBackup.0214", policy(tags=[{"key": "k", "value": "v", "owner": "me"}])),
    # 0215: more than 10 tags
    ("AutoBackup.0215", policy(tags=tags(11))),
    # 0226: time_zone invalid; a day shift without week_frequency
    ("AutoBackup.0226", policy(time_zone="UTC+8")),
    ("AutoBackup.0226", policy(time_zone="UTC+8:00")),
    ("AutoBackup.0226", policy(time_zone="utc+08:00")),
    ("AutoBackup.0226", policy(time_zone="GMT+08:00")),
    ("AutoBackup.0226", policy(time_zone="+08:00")),
    ("AutoBackup.0226", policy(time_zone="Europe/Berlin")),
    ("AutoBackup.0226", policy(time_zone="")),
    ("AutoBackup.0226", daily("22:00,00:00,02:00", "UTC+02:00")),
]


@pytest.mark.parametrize(
    ("code", "body"), ERROR_TABLE, ids=[f"{code}-{index}" for index, (code, _) in enumerate(ERROR_TABLE)]
)
def test_every_row_of_the_error_table_is_refused_with_its_code(code, body):
    assert first_code(body) == code


@pytest.mark.parametrize(("code", "body"), ERROR_TABLE[:12], ids=[code for code, _ in ERROR_TABLE[:12]])
def test_every_problem_names_its_field_and_says_how_to_fix_it(code, body):
    problem = parse_policy(body).problems[0]
    assert problem.field
    assert problem.message.startswith(("unknown field", problem.field))
    assert len(problem.message) > len(problem.field) + 10


# --- ranges: both sides of every boundary ----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "A" * 64, "policy_01", "nightly-DB", "0", "_", "-", "defaul", "my_default"]
)
def test_a_name_of_1_to_64_allowed_characters_is_accepted(name):
    assert accepted(policy(backup_policy_name=name)).name == name


@pytest.mark.parametrize(("name", "code"), [("", "AutoBackup.0101"), ("a" * 65, "AutoBackup.0101")])
def test_a_name_outside_1_to_64_characters_is_refused(name, code):
    assert codes(policy(backup_policy_name=name)) == [code]


@pytest.mark.parametrize(("field", "value"), [("frequency", 1), ("frequency", 14)])
def test_frequency_accepts_1_and_14(field, value):
    assert accepted(policy({field: value})).frequency == value


@pytest.mark.parametrize("value", [0, 15])
def test_frequency_refuses_0_and_15(value):
    assert codes(policy({"frequency": value})) == ["AutoBackup.0106"]


@pytest.mark.parametrize("value", [2, 14])
def test_rentention_num_accepts_2_and_14(value):
    assert accepted(policy({"rentention_num": value})).retention_num == value


@pytest.mark.parametrize("value", [1, 15])
def test_rentention_num_refuses_1_and_15(value):
    assert codes(policy({"rentention_num": value})) == ["AutoBackup.0107"]


@pytest.mark.parametrize(
    ("value", "stored"), [(2, 2), (99999, 99999), (30.9, 30), (30.0, 30), (2.5, 2), (99999.9, 99999)]
)
def test_rentention_day_is_rounded_down_then_accepted_from_2_to_99999(value, stored):
    spec = accepted(policy({"rentention_num": ABSENT, "rentention_day": value}))
    assert spec.retention_day == stored
    assert spec.scheduled_policy()["rentention_day"] == stored
    assert type(spec.retention_day) is int


@pytest.mark.parametrize("value", [1, 1.5, 1.999, 100000, 100000.5, 0, 0.5])
def test_rentention_day_is_refused_below_2_and_above_99999_after_rounding_down(value):
    assert codes(policy({"rentention_num": ABSENT, "rentention_day": value})) == ["AutoBackup.0107"]


@pytest.mark.parametrize("count", [0, 1, 10])
def test_up_to_10_tags_are_accepted(count):
    assert accepted(policy(tags=tags(count))).tags == tuple(Tag(f"k{i}", f"v{i}") for i in range(count))


def test_11_valid_tags_are_refused_with_0215_alone():
    assert codes(policy(tags=tags(11))) == ["AutoBackup.0215"]


@pytest.mark.parametrize(
    ("key", "value"), [("k" * 36, "v"), ("k", ""), ("k", "v" * 43), ("K_-9", "V_-9"), ("x", "0")]
)
def test_a_tag_key_of_1_to_36_and_a_value_of_0_to_43_characters_is_accepted(key, value):
    assert accepted(policy(tags=[{"key": key, "value": value}])).tags == (Tag(key, value),)


@pytest.mark.parametrize(("key", "value"), [("k" * 37, "v"), ("", "v"), ("k", "v" * 44)])
def test_a_tag_key_or_value_beyond_its_length_is_refused_with_0214(key, value):
    assert codes(policy(tags=[{"key": key, "value": value}])) == ["AutoBackup.0214"]


def test_tag_keys_are_compared_case_sensitively():
    body = policy(tags=[{"key": "env", "value": "a"}, {"key": "ENV", "value": "b"}])
    assert accepted(body).tags == (Tag("env", "a"), Tag("ENV", "b"))


def test_tags_keep_the_order_they_were_sent_in():
    body = policy(tags=[{"key": "z", "value": "1"}, {"key": "a", "value": "2"}, {"key": "m", "value": ""}])
    assert [tag.key for tag in accepted(body).tags] == ["z", "a", "m"]


@pytest.mark.parametrize(
    ("time_zone", "offset"),
    [
        ("UTC-12:00", -720),
        ("UTC+14:00", 840),
        ("UTC+00:00", 0),
        ("UTC+05:30", 330),
        ("UTC+05:45", 345),
        ("UTC-09:30", -570),
        ("UTC+08:00", 480),
    ],
)
def test_an_offset_from_utc_minus_12_to_utc_plus_14_with_minutes_00_30_or_45_is_accepted(time_zone, offset):
    spec = accepted(policy(time_zone=time_zone))
    assert (spec.time_zone, spec.offset_minutes) == (time_zone, offset)


@pytest.mark.parametrize(
    "time_zone", ["UTC-12:30", "UTC+14:30", "UTC-13:00", "UTC+15:00", "UTC+05:15", "UTC+05:59", "UTC+05:60"]
)
def test_an_offset_out_of_range_or_with_other_minutes_is_refused_with_0226(time_zone):
    assert codes(policy(time_zone=time_zone)) == ["AutoBackup.0226"]


def test_a_negative_zero_offset_is_stored_as_utc_plus_zero():
    assert accepted(policy(time_zone="UTC-00:00")).time_zone == "UTC+00:00"


# --- strict types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (policy({"frequency": True}), "AutoBackup.0106"),
        (policy({"frequency": False}), "AutoBackup.0106"),
        (policy({"frequency": "7"}), "AutoBackup.0106"),
        (policy({"frequency": 2.0}), "AutoBackup.0106"),
        (policy({"frequency": [7]}), "AutoBackup.0106"),
        (policy({"rentention_num": True}), "AutoBackup.0107"),
        (policy({"rentention_num": "7"}), "AutoBackup.0107"),
        (policy({"rentention_num": 7.0}), "AutoBackup.0107"),
        (policy({"rentention_num": ABSENT, "rentention_day": True}), "AutoBackup.0107"),
        (policy({"rentention_num": ABSENT, "rentention_day": "30"}), "AutoBackup.0107"),
        (policy({"rentention_num": ABSENT, "rentention_day": {"days": 30}}), "AutoBackup.0107"),
        (policy(backup_policy_name=5), "AutoBackup.0101"),
        (policy(backup_policy_name=["nightly"]), "AutoBackup.0101"),
        (policy({"start_time": 12}), "AutoBackup.0103"),
        (policy({"start_time": ["12:00"]}), "AutoBackup.0103"),
        (policy({"status": 1}), "AutoBackup.0104"),
        (policy({"status": True}), "AutoBackup.0104"),
        (policy({"status": ["ON"]}), "AutoBackup.0104"),
        (policy({"remain_first_backup_of_curMonth": True}), "AutoBackup.0105"),
        (policy({"remain_first_backup_of_curMonth": 1}), "AutoBackup.0105"),
        (policy(tags=[{"key": 1, "value": "v"}]), "AutoBackup.0214"),
        (policy(tags=[{"key": "k", "value": 0}]), "AutoBackup.0214"),
        (policy(time_zone=8), "AutoBackup.0226"),
        (policy(time_zone=["UTC+08:00"]), "AutoBackup.0226"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_value_of_the_wrong_json_type_is_refused_with_the_fields_code(body, code):
    assert codes(body) == [code]


def test_an_integer_written_with_a_fraction_is_refused_with_a_hint():
    (problem,) = parse_policy(policy({"frequency": 2.0})).problems
    assert "without a fraction" in problem.message


# --- null handling ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_null", "without"),
    [
        (policy(time_zone=None), policy()),
        (policy(tags=None), policy()),
        (policy({"remain_first_backup_of_curMonth": None}), policy()),
        (policy({"week_frequency": None}), policy()),
        (policy({"rentention_day": None}), policy()),
        (
            policy({"frequency": None, "week_frequency": ["MON"]}),
            policy({"frequency": ABSENT, "week_frequency": ["MON"]}),
        ),
        (
            policy({"rentention_num": None, "rentention_day": 30}),
            policy({"rentention_num": ABSENT, "rentention_day": 30}),
        ),
    ],
    ids=[
        "time_zone",
        "tags",
        "remain_first",
        "week_frequency",
        "rentention_day",
        "frequency",
        "rentention_num",
    ],
)
def test_null_for_an_optional_field_means_absent(with_null, without):
    assert accepted(with_null) == accepted(without)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (policy(backup_policy_name=None), "AutoBackup.0101"),
        (policy(scheduled_policy=None), "AutoBackup.0001"),
        (policy({"start_time": None}), "AutoBackup.0103"),
        (policy({"status": None}), "AutoBackup.0104"),
        (policy({"frequency": None, "week_frequency": None}), "AutoBackup.0106"),
        (policy({"rentention_num": None, "rentention_day": None}), "AutoBackup.0107"),
    ],
    ids=["name", "scheduled_policy", "start_time", "status", "frequency-pair", "retention-pair"],
)
def test_null_for_a_required_field_is_refused(body, code):
    assert codes(body) == [code]


def test_an_absent_remain_first_backup_of_cur_month_means_n():
    spec = accepted(policy())
    assert spec.keep_first_of_month is False
    assert spec.scheduled_policy()["remain_first_backup_of_curMonth"] == "N"


# --- unknown fields, with did-you-mean -------------------------------------------------------


def test_the_correctly_spelled_retention_num_is_refused_with_a_pointer_to_rentention_num():
    (problem,) = parse_policy(policy({"retention_num": 7})).problems
    assert problem == error_codes.Problem(
        "scheduled_policy.retention_num",
        "AutoBackup.0001",
        "unknown field 'scheduled_policy.retention_num'; did you mean 'rentention_num'?",
        error_codes.REQUEST,
    )


@pytest.mark.parametrize(
    ("body", "field", "suggestion"),
    [
        (policy({"retention_day": 30}), "scheduled_policy.retention_day", "'rentention_day'"),
        (policy({"frequence": 2}), "scheduled_policy.frequence", "'frequency'"),
        (policy({"weekFrequency": ["MON"]}), "scheduled_policy.weekFrequency", "'week_frequency'"),
        (
            policy({"remain_first_backup_of_curmonth": "Y"}),
            "scheduled_policy.remain_first_backup_of_curmonth",
            "'remain_first_backup_of_curMonth'",
        ),
        (policy(timezone="UTC+08:00"), "timezone", "'time_zone'"),
        (policy(tag=[]), "tag", "'tags'"),
        (policy(backup_policy_names="x"), "backup_policy_names", "'backup_policy_name'"),
        (policy(start_time="12:00"), "start_time", "'scheduled_policy.start_time'"),
        (policy(status="ON"), "status", "'scheduled_policy.status'"),
    ],
)
def test_an_unknown_field_is_refused_with_the_closest_known_name(body, field, suggestion):
    (problem,) = parse_policy(body).problems
    assert (problem.field, problem.code) == (field, "AutoBackup.0001")
    assert problem.message == f"unknown field '{field}'; did you mean {suggestion}?"


def test_time_zone_inside_scheduled_policy_is_refused_pointing_to_the_top_level():
    (problem,) = parse_policy(policy({"time_zone": "UTC+08:00"})).problems
    assert (problem.field, problem.code) == ("scheduled_policy.time_zone", "AutoBackup.0001")
    assert "top-level 'time_zone'" in problem.message


def test_an_unknown_field_with_no_close_name_lists_the_known_fields():
    (problem,) = parse_policy(policy({"zzz": 1})).problems
    assert problem.message.startswith(
        "unknown field 'scheduled_policy.zzz'; known fields here are start_time"
    )


def test_an_unknown_field_is_refused_even_when_null():
    assert codes(policy(description=None)) == ["AutoBackup.0001"]


# --- both members of a pair ------------------------------------------------------------------


def test_frequency_is_the_one_stored_when_week_frequency_is_also_given():
    spec = accepted(policy({"frequency": 3, "week_frequency": ["MON"]}))
    assert (spec.frequency, spec.week_frequency) == (3, None)
    assert "week_frequency" not in spec.scheduled_policy()


def test_rentention_num_is_the_one_stored_when_rentention_day_is_also_given():
    spec = accepted(policy({"rentention_num": 5, "rentention_day": 30}))
    assert (spec.retention_num, spec.retention_day) == (5, None)
    assert "rentention_day" not in spec.scheduled_policy()


@pytest.mark.parametrize(
    ("scheduled", "code"),
    [
        ({"frequency": 3, "week_frequency": ["mon"]}, "AutoBackup.0106"),
        ({"frequency": 3, "week_frequency": []}, "AutoBackup.0106"),
        ({"rentention_num": 5, "rentention_day": 1}, "AutoBackup.0107"),
        ({"rentention_num": 5, "rentention_day": "30"}, "AutoBackup.0107"),
    ],
)
def test_the_discarded_member_of_a_pair_is_still_validated(scheduled, code):
    assert codes(policy(scheduled)) == [code]


# --- start_time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_time", "canonical"),
    [
        ("12:00, 14:00", "12:00,14:00"),
        (" 12:00 ,14:00 ", "12:00,14:00"),
        ("\t00:00,\n23:00", "00:00,23:00"),
        ("00:00,01:00,02:00,03:00", "00:00,01:00,02:00,03:00"),
    ],
)
def test_white_space_around_each_start_time_is_removed(start_time, canonical):
    assert accepted(policy({"start_time": start_time})).start_time == canonical


def test_all_24_hours_are_accepted_in_ascending_order():
    start_time = ",".join(f"{hour:02d}:00" for hour in range(24))
    assert accepted(policy({"start_time": start_time})).start_hours == tuple(range(24))


@pytest.mark.parametrize(
    ("start_time", "words"),
    [
        ("12:30", "not a full hour"),
        ("24:00", "not a time HH:mm"),
        ("7:00", "not a time HH:mm"),
        ("12:00,12:00", "given twice"),
        ("", "an empty time"),
        ("02:00,01:00", "ascending local order"),
    ],
)
def test_a_bad_start_time_is_refused_with_a_message_that_says_what_is_wrong(start_time, words):
    (problem,) = parse_policy(policy({"start_time": start_time})).problems
    assert (problem.field, problem.code) == ("scheduled_policy.start_time", "AutoBackup.0103")
    assert words in problem.message


def test_every_bad_start_time_is_reported():
    problems = parse_policy(policy({"start_time": "12:30,25:00,12:30"})).problems
    assert [problem.code for problem in problems] == ["AutoBackup.0103"] * 3


# --- local order and the time zone (2.2) -------------------------------------------------------


@pytest.mark.parametrize(
    ("start_time", "time_zone"),
    [
        ("22:00,00:00,02:00", "UTC+02:00"),
        ("00:00,22:00", None),
        ("15:00,18:00,21:00,00:00", "UTC+09:00"),
        ("03:00,05:00", "UTC-03:00"),
        ("19:00,20:00", "UTC+05:30"),
    ],
)
def test_start_times_in_ascending_local_order_are_accepted_in_the_order_given(start_time, time_zone):
    spec = accepted(weekly(start_time, time_zone))
    assert spec.start_time == start_time


@pytest.mark.parametrize(
    ("start_time", "time_zone"),
    [
        ("00:00,02:00,22:00", "UTC+02:00"),
        ("22:00,00:00", None),
        ("02:00,03:00", "UTC-03:00"),
        ("18:00,19:00", "UTC+05:30"),
    ],
)
def test_start_times_out_of_local_order_are_refused_with_0103(start_time, time_zone):
    assert codes(weekly(start_time, time_zone)) == ["AutoBackup.0103"]


def test_the_local_order_message_gives_the_order_to_send():
    (problem,) = parse_policy(weekly("00:00,02:00,22:00", "UTC+02:00")).problems
    assert "'22:00,00:00,02:00'" in problem.message


# --- the day shift (2.2) ---------------------------------------------------------------------


def test_the_docs_example_with_week_frequency_is_accepted():
    spec = accepted(weekly("22:00,00:00,02:00", "UTC+02:00"))
    assert (spec.start_hours, spec.week_frequency, spec.time_zone) == ((22, 0, 2), ("MON",), "UTC+02:00")


def test_the_docs_example_with_frequency_is_refused_with_0226_saying_to_use_week_frequency():
    (problem,) = parse_policy(daily("22:00,00:00,02:00", "UTC+02:00")).problems
    assert problem.code == "AutoBackup.0226"
    assert "use week_frequency" in problem.message


def test_a_day_shift_with_both_frequency_and_week_frequency_is_refused_because_frequency_wins():
    body = policy({"start_time": "22:00,00:00,02:00", "week_frequency": ["MON"]}, time_zone="UTC+02:00")
    assert codes(body) == ["AutoBackup.0226"]


def test_a_uniform_shift_to_the_utc_day_before_allows_frequency():
    spec = accepted(daily("20:00,21:00", "UTC+08:00"))
    assert [(run.local_minute, run.utc_day_shift) for run in runs_of_day(spec)] == [
        (4 * 60, -1),
        (5 * 60, -1),
    ]


def test_local_times_of_one_day_on_two_utc_days_at_utc_minus_3_refuse_frequency():
    assert codes(daily("23:00,00:00", "UTC-03:00")) == ["AutoBackup.0226"]


def test_local_times_of_one_day_on_two_utc_days_at_utc_minus_3_accept_week_frequency():
    spec = accepted(weekly("23:00,00:00", "UTC-03:00"))
    assert [run.utc_day_shift for run in runs_of_day(spec)] == [0, 1]


def test_at_utc_plus_5_30_midnight_utc_is_local_5_30():
    (run,) = runs_of_day(accepted(daily("00:00", "UTC+05:30")))
    assert (run.local_minute, run.utc_minute, run.utc_day_shift) == (5 * 60 + 30, 0, 0)


@pytest.mark.parametrize(
    ("hours", "offset", "shift"),
    [
        ((22, 0, 2), 120, True),
        ((20, 21), 480, False),
        ((23, 0), -180, True),
        ((0, 12, 23), 0, False),
        ((19, 20), 330, False),
        ((18, 19), 330, True),
        ((18,), 840, False),
        ((9, 10), 840, True),
        ((11, 12), -720, True),
    ],
)
def test_has_day_shift_is_true_exactly_when_the_runs_of_a_day_span_two_utc_days(hours, offset, shift):
    assert has_day_shift(hours, offset) is shift


# --- utc_week: the UTC occurrences of a weekday schedule -------------------------------------


def test_the_docs_example_runs_sunday_22_00_and_monday_00_00_and_02_00_utc():
    week = utc_week(accepted(weekly("22:00,00:00,02:00", "UTC+02:00")))
    assert [words.utc_label(run) for run in week] == ["Sun 22:00", "Mon 00:00", "Mon 02:00"]
    assert [words.local_label(run) for run in week] == ["Mon 00:00", "Mon 02:00", "Mon 04:00"]


def test_a_local_sunday_run_on_the_utc_day_before_wraps_to_saturday():
    week = utc_week(accepted(weekly("22:00,00:00", "UTC+02:00", days=["SUN"])))
    assert [words.utc_label(run) for run in week] == ["Sat 22:00", "Sun 00:00"]


def test_a_local_saturday_run_on_the_utc_day_after_wraps_to_sunday():
    week = utc_week(accepted(weekly("23:00,02:00", "UTC-03:00", days=["SAT"])))
    assert [words.utc_label(run) for run in week] == ["Sat 23:00", "Sun 02:00"]


def test_a_half_hour_offset_places_runs_on_the_half_hour_locally_only():
    week = utc_week(accepted(weekly("00:00", "UTC+05:30", days=["WED"])))
    assert [(words.local_label(run), words.utc_label(run)) for run in week] == [("Wed 05:30", "Wed 00:00")]


def test_utc_week_lists_each_local_day_in_week_order():
    week = utc_week(accepted(weekly("12:00", days=["FRI", "MON"])))
    assert [words.utc_label(run) for run in week] == ["Mon 12:00", "Fri 12:00"]


def test_a_schedule_of_every_n_days_has_no_week():
    assert utc_week(accepted(daily("12:00"))) == []


# --- week_frequency order ----------------------------------------------------------------------


def test_week_frequency_is_stored_in_sun_to_sat_order():
    spec = accepted(weekly("12:00", days=["SAT", "MON", "SUN", "WED"]))
    assert spec.week_frequency == ("SUN", "MON", "WED", "SAT")
    assert spec.to_payload()["scheduled_policy"]["week_frequency"] == ["SUN", "MON", "WED", "SAT"]


def test_all_seven_days_are_accepted():
    spec = accepted(weekly("12:00", days=list(reversed(limits.WEEKDAYS))))
    assert spec.week_frequency == limits.WEEKDAYS


# --- the order of codes when several problems exist ---------------------------------------------


def test_every_problem_is_listed_in_the_order_of_the_error_table():
    body = {
        "time_zone": "UTC+99:00",
        "tags": [*tags(10), {"key": "bad key", "value": "v"}],
        "scheduled_policy": {
            "rentention_num": 1,
            "frequency": 0,
            "remain_first_backup_of_curMonth": "yes",
            "status": "on",
            "start_time": "12:30",
        },
        "backup_policy_name": "default " + "x" * 64,
        "extra": True,
    }
    assert codes(body) == [
        "AutoBackup.0001",
        "AutoBackup.0101",
        "AutoBackup.0102",
        "AutoBackup.0103",
        "AutoBackup.0104",
        "AutoBackup.0105",
        "AutoBackup.0106",
        "AutoBackup.0107",
        "AutoBackup.0214",
        "AutoBackup.0215",
        "AutoBackup.0226",
    ]


@pytest.mark.parametrize(
    ("body", "first"),
    [
        (policy({"status": "on"}, backup_policy_name=""), "AutoBackup.0101"),
        (policy({"start_time": "12:30"}, time_zone="UTC+1"), "AutoBackup.0103"),
        (policy({"rentention_num": 1, "frequency": 0}), "AutoBackup.0106"),
        (policy(tags=[*tags(10), {"key": "k0", "value": "x"}]), "AutoBackup.0214"),
        (policy({"retention_num": 7, "status": "on"}), "AutoBackup.0001"),
        (policy({"status": "on"}, backup_policy_name="Default_x"), "AutoBackup.0102"),
    ],
)
def test_the_first_problem_in_table_order_decides_the_code(body, first):
    problems = parse_policy(body).problems
    assert len(problems) >= 2
    assert problems[0].code == first


def test_sort_problems_keeps_discovery_order_within_a_code():
    problems = [
        error_codes.Problem("b", "AutoBackup.0214", "2"),
        error_codes.Problem("x", "AutoBackup.0101", "1"),
        error_codes.Problem("a", "AutoBackup.0214", "3"),
    ]
    assert [p.detail for p in error_codes.sort_problems(problems)] == ["1", "2", "3"]


# --- offset changes on real DST dates (pass `now`) --------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "at", "before", "after"),
    [
        ("Europe/Berlin", utc(2026, 3, 1), utc(2026, 3, 29, 1, 0), 60, 120),
        ("Europe/Berlin", utc(2026, 10, 1), utc(2026, 10, 25, 1, 0), 120, 60),
        ("America/New_York", utc(2026, 3, 1), utc(2026, 3, 8, 7, 0), -300, -240),
        ("America/New_York", utc(2026, 10, 15), utc(2026, 11, 1, 6, 0), -240, -300),
        ("Australia/Lord_Howe", utc(2026, 3, 20), utc(2026, 4, 4, 15, 0), 660, 630),
    ],
    ids=["berlin-spring", "berlin-autumn", "new-york-spring", "new-york-autumn", "lord-howe-half-hour"],
)
def test_offset_changes_finds_a_dst_change_to_the_minute(zone, now, at, before, after):
    (change,) = offset_changes(ZoneInfo(zone), now=now, days=40)
    assert (change.at, change.before_minutes, change.after_minutes) == (at, before, after)
    assert change.delta_minutes == after - before


def test_offset_changes_finds_both_changes_of_a_year_in_order():
    changes = offset_changes(ZoneInfo("Europe/Berlin"), now=utc(2026, 1, 1, 12, 34, 56))
    assert [(c.at, c.delta_minutes) for c in changes] == [
        (utc(2026, 3, 29, 1, 0), 60),
        (utc(2026, 10, 25, 1, 0), -60),
    ]


def test_offset_changes_from_just_before_a_change_finds_it():
    (change,) = offset_changes(ZoneInfo("Europe/Berlin"), now=utc(2026, 3, 29, 0, 59, 30), days=1)
    assert change.at == utc(2026, 3, 29, 1, 0)


def test_offset_changes_from_the_instant_of_a_change_does_not_report_it():
    assert offset_changes(ZoneInfo("Europe/Berlin"), now=utc(2026, 3, 29, 1, 0), days=30) == []


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Tokyo", "UTC"])
def test_a_zone_without_dst_has_no_offset_changes(zone):
    assert offset_changes(ZoneInfo(zone), now=utc(2026, 1, 1)) == []


def test_offset_changes_refuses_a_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        offset_changes(ZoneInfo("Europe/Berlin"), now=datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("zone", "at", "minutes"),
    [
        ("Europe/Berlin", utc(2026, 1, 15), 60),
        ("Europe/Berlin", utc(2026, 7, 15), 120),
        ("Asia/Kolkata", utc(2026, 7, 15), 330),
        ("America/St_Johns", utc(2026, 1, 15), -210),
    ],
)
def test_zone_offset_minutes_gives_the_offset_in_force_at_an_instant(zone, at, minutes):
    assert zone_offset_minutes(ZoneInfo(zone), at) == minutes
