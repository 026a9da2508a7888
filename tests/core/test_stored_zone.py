"""A body that sends back the stored named zone with its stored offset keeps both, even while a re-base is due."""

from datetime import UTC, datetime

from policies.domain.contract import codes, parse

SUMMER = datetime(2026, 7, 14, 10, tzinfo=UTC)
WINTER = datetime(2026, 1, 13, 10, tzinfo=UTC)
BODY = {
    "backup_policy_name": "berlin",
    "time_zone_name": "Europe/Berlin",
    "scheduled_policy": {
        "start_time": "01:00",
        "week_frequency": ["MON"],
        "rentention_num": 7,
        "status": "ON",
    },
}
# Made in summer (UTC+02:00), read in winter: the scheduler's re-base to UTC+01:00 is due.
STORED = parse.parse_policy(BODY, now=SUMMER).spec


def test_the_stored_pair_sent_back_unchanged_keeps_the_stored_offset_while_a_re_base_is_due():
    sent_back = {k: v for k, v in STORED.to_payload().items() if k != "tags"}
    result = parse.parse_policy_update(sent_back, STORED, now=WINTER)
    assert result.spec == STORED


def test_a_form_s_whole_payload_with_the_stored_pair_keeps_it_too():
    assert parse.parse_policy_edit(STORED.to_payload(), STORED, now=WINTER).spec == STORED


def test_another_offset_with_the_stored_zone_is_still_checked_against_the_zone_now():
    body = {"time_zone": "UTC+03:00", "time_zone_name": "Europe/Berlin"}
    result = parse.parse_policy_update(body, STORED, now=WINTER)
    assert [(p.field, p.code) for p in result.problems] == [("time_zone_name", codes.TIME_ZONE)]


def test_the_zone_sent_alone_takes_its_offset_now():
    result = parse.parse_policy_update({"time_zone_name": "Europe/Berlin"}, STORED, now=WINTER)
    assert (result.spec.time_zone, result.spec.start_time) == ("UTC+01:00", "01:00")
