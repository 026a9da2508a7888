"""Property tests of the contract core: any input at all, and every valid policy."""

import math

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import audit, services
from policies.domain.contract import codes, limits
from policies.domain.contract.decode import BodyError, decode_body
from policies.domain.contract.parse import parse_policy
from policies.domain.contract.specs import ParseResult
from policies.domain.schedule import offsets
from policies.models import BackupPolicy

FAST = settings(max_examples=200, deadline=None)

# --- any JSON value ---------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
# Inside a policy-shaped object, where a dozen fields each hold one: small, so generation stays fast.
small_json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=4,
)

# Values near the valid ones, so that parsing gets past the first checks and deep into the rules.
hours_text = st.lists(
    st.sampled_from(["00:00", "02:00", "12:00", "22:00", "23:00", "12:30", "24:00", "7:00", " 05:00 ", ""]),
    max_size=5,
).map(",".join)
near_values = {
    "backup_policy_name": st.sampled_from(["p", "nightly", "default_x", "a b", "x" * 65, ""]),
    "time_zone": st.sampled_from(["UTC+02:00", "UTC-03:00", "UTC+05:30", "UTC+14:30", "UTC+8", "UTC-12:00"]),
    "tags": st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "key": st.sampled_from(["k", "env", "k" * 37, "", "a b"]) | json_scalars,
                "value": st.sampled_from(["", "v", "v" * 44]) | json_scalars,
                "extra": json_scalars,
            },
        ),
        max_size=12,
    ),
    "start_time": hours_text,
    "frequency": st.integers(-1, 16) | st.sampled_from([2.0, 2.5, True, "7"]),
    "week_frequency": st.lists(st.sampled_from([*limits.WEEKDAYS, "mon", "MONDAY", ""]), max_size=8),
    "rentention_num": st.integers(0, 16) | st.sampled_from([2.0, 7.5, False, "7"]),
    "rentention_day": st.integers(0, 100_001) | st.floats(0, 100_001, allow_nan=False),
    "remain_first_backup_of_curMonth": st.sampled_from(["Y", "N", "y", ""]),
    "status": st.sampled_from(["ON", "OFF", "on", ""]),
}


def field(name: str):
    return near_values[name] | small_json_values if name in near_values else small_json_values


policy_shaped = st.fixed_dictionaries(
    {},
    optional={
        "backup_policy_name": field("backup_policy_name"),
        "scheduled_policy": st.fixed_dictionaries(
            {},
            optional={
                name: field(name)
                for name in (*limits.SCHEDULE_FIELDS, "time_zone", "retention_num", "unknown")
            },
        )
        | small_json_values,
        "tags": field("tags"),
        "time_zone": field("time_zone"),
        "timezone": json_scalars,
    },
)


def assert_spec_or_problems(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert (result.spec is None) == bool(result.problems)
    ranks = [codes.CODE_ORDER.index(problem.code) for problem in result.problems]
    assert ranks == sorted(ranks)
    for problem in result.problems:
        assert isinstance(problem.field, str)  # a JSON path; '' only for an unknown key ''
        assert problem.message


@FAST
@given(json_values)
def test_any_json_value_gives_a_spec_or_problems_and_never_raises(body):
    assert_spec_or_problems(parse_policy(body))


@FAST
@given(policy_shaped)
def test_any_policy_shaped_object_gives_a_spec_or_problems_and_never_raises(body):
    assert_spec_or_problems(parse_policy(body))


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_body_decodes_or_is_refused_with_0000_or_0008(raw):
    try:
        decode_body(raw)
        code = None
    except BodyError as exc:
        code = exc.problem.code
    assert code in {None, "AutoBackup.0000", "AutoBackup.0008"}


# --- valid policies ---------------------------------------------------------------------------

ALLOWED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
names = st.text(ALLOWED, min_size=1, max_size=64).filter(lambda n: not n.lower().startswith("default"))
tag_text = st.text(ALLOWED, max_size=limits.TAG_VALUE_MAX)
tag_lists = st.lists(
    st.tuples(st.text(ALLOWED, min_size=1, max_size=limits.TAG_KEY_MAX), tag_text),
    max_size=limits.MAX_TAGS,
    unique_by=lambda pair: pair[0],
)


@st.composite
def valid_policies(draw):
    """Return (body, expectation) for a policy every field of which is valid on its own.

    Hours are given in local order most of the time, in random order otherwise; frequency is
    used with any hours. The core may refuse such a policy only for the documented reasons:
    times out of local order (0103), a day shift with frequency (0226).
    """
    offset = draw(st.none() | st.sampled_from(offsets.all_offsets()))
    hours = draw(st.lists(st.integers(0, 23), min_size=1, max_size=24, unique=True))
    if draw(st.booleans()):
        hours.sort(key=lambda hour: offsets.local_minute(hour, offset or 0))
    scheduled = {
        "start_time": ", ".join(f"{hour:02d}:00" for hour in hours),
        "status": draw(st.sampled_from(["ON", "OFF"])),
    }
    use_frequency = draw(st.booleans())
    if use_frequency:
        scheduled["frequency"] = draw(st.integers(*limits.FREQUENCY_RANGE))
    if not use_frequency or draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(limits.WEEKDAYS), min_size=1, max_size=7, unique=True))
        scheduled["week_frequency"] = days
    if draw(st.booleans()):
        scheduled["rentention_num"] = draw(st.integers(*limits.RETENTION_NUM_RANGE))
    else:
        scheduled["rentention_day"] = draw(
            st.integers(*limits.RETENTION_DAY_RANGE)
            | st.floats(limits.RETENTION_DAY_RANGE[0], limits.RETENTION_DAY_RANGE[1] + 0.99)
        )
    keep_first = draw(st.sampled_from(["Y", "N", None]))
    if keep_first is not None:
        scheduled["remain_first_backup_of_curMonth"] = keep_first
    body = {"backup_policy_name": draw(names), "scheduled_policy": scheduled}
    pairs = draw(tag_lists)
    if pairs or draw(st.booleans()):
        body["tags"] = [{"key": key, "value": value} for key, value in pairs]
    if offset is not None:
        body["time_zone"] = offsets.format_offset(offset)

    locals_ = [offsets.local_minute(hour, offset or 0) for hour in hours]
    in_local_order = locals_ == sorted(locals_)
    day_shift = in_local_order and use_frequency and offsets.has_day_shift(hours, offset or 0)
    expected_codes = ["AutoBackup.0103"] if not in_local_order else ["AutoBackup.0226"] if day_shift else []
    return body, expected_codes


@FAST
@given(valid_policies())
def test_a_valid_policy_is_accepted_unless_out_of_local_order_or_day_shifted_with_frequency(case):
    body, expected_codes = case
    result = parse_policy(body)
    assert [problem.code for problem in result.problems] == expected_codes


@FAST
@given(valid_policies())
def test_an_accepted_valid_policy_keeps_every_value_it_was_sent(case):
    body, expected_codes = case
    result = parse_policy(body)
    if expected_codes:
        return
    spec, scheduled = result.spec, body["scheduled_policy"]
    assert spec.name == body["backup_policy_name"]
    assert spec.start_time == scheduled["start_time"].replace(" ", "")
    assert spec.status == scheduled["status"]
    if "frequency" in scheduled:
        assert (spec.frequency, spec.week_frequency) == (scheduled["frequency"], None)
    else:
        assert set(spec.week_frequency) == set(scheduled["week_frequency"])
        assert list(spec.week_frequency) == sorted(spec.week_frequency, key=limits.WEEKDAYS.index)
    if "rentention_num" in scheduled:
        assert spec.retention_num == scheduled["rentention_num"]
    else:
        assert spec.retention_day == math.floor(scheduled["rentention_day"])
    assert spec.keep_first_of_month is (scheduled.get("remain_first_backup_of_curMonth") == "Y")
    assert [(tag.key, tag.value) for tag in spec.tags] == [
        (t["key"], t["value"]) for t in body.get("tags", [])
    ]
    assert spec.time_zone == body.get("time_zone")


@FAST
@given(valid_policies())
def test_an_accepted_valid_policy_writes_back_as_a_payload_that_parses_to_the_same_spec(case):
    result = parse_policy(case[0])
    if result.ok:
        assert parse_policy(result.spec.to_payload()).spec == result.spec


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=valid_policies())
def test_an_accepted_policy_reads_back_from_the_database_as_the_same_spec(tenant, case):
    result = parse_policy(case[0])
    if not result.ok:
        return
    with transaction.atomic():
        created = services.policy_create(tenant=tenant, spec=result.spec, actor=audit.Actor.command())
        stored = BackupPolicy.objects.get(pk=created.pk)
        assert stored.to_spec() == result.spec
        transaction.set_rollback(True)  # one example at a time: the quota never fills


@st.composite
def mutated_policies(draw):
    """Return a valid policy with one to three fields replaced by near-valid or any JSON values."""
    body, _ = draw(valid_policies())
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from([*limits.TOP_LEVEL_FIELDS, *limits.SCHEDULE_FIELDS]))
        target = body if name in limits.TOP_LEVEL_FIELDS else body.get("scheduled_policy")
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()):
            target.pop(name, None)
        else:
            target[name] = draw(field(name))
    return body


@FAST
@given(mutated_policies())
def test_a_mutated_valid_policy_gives_a_spec_or_problems_and_never_raises(body):
    assert_spec_or_problems(parse_policy(body))


@FAST
@given(mutated_policies())
def test_an_accepted_mutated_policy_writes_back_as_a_payload_that_parses_to_the_same_spec(body):
    result = parse_policy(body)
    if result.ok:
        assert parse_policy(result.spec.to_payload()).spec == result.spec
