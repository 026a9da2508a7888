"""The field checks are plain functions: each returns its clean value and every problem it found."""

from policies.domain.contract import check, codes


def test_a_check_returns_the_clean_value_and_no_problem():
    assert check.start_time("22:00,00:00") == check.Checked((22, 0), ())


def test_a_check_returns_every_problem_of_its_field_and_no_value():
    hours, problems = check.start_time("12:30,25:00,12:30")
    assert hours is None
    assert [p.code for p in problems] == [codes.START_TIME] * 3


def test_collect_adds_the_problems_to_the_callers_list_and_hands_back_the_value():
    found: list[codes.Problem] = []
    assert check.collect(found, check.policy_name("nightly")) == "nightly"
    assert check.collect(found, check.policy_name("default-x")) is None
    assert [(p.field, p.code) for p in found] == [("backup_policy_name", codes.NAME_CHARS)]


def test_a_check_keeps_nothing_between_calls():
    check.week_frequency(["MON", "MON"])
    assert check.week_frequency(["MON"]) == check.Checked(("MON",), ())
