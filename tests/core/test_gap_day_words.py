"""The day a zone skips an hour: the words say once where that day's run goes, as the runs do."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from policies.domain import words
from policies.domain.contract import parse
from policies.domain.schedule import nextruns

JANUARY = datetime(2027, 1, 12, 10, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def berlin_sundays_at(start_time: str):
    body = {
        "backup_policy_name": "p",
        "time_zone_name": "Europe/Berlin",
        "scheduled_policy": {
            "start_time": start_time,
            "week_frequency": ["SUN"],
            "rentention_num": 3,
            "status": "ON",
        },
    }
    return parse.parse_policy(body, now=JANUARY).spec


def test_a_run_in_the_gap_is_said_at_the_hour_it_happens_that_day():
    spec = berlin_sundays_at("01:00")  # local 02:00, which Sun 28 Mar 2027 skips
    spring = nextruns.local_time_changes(spec, BERLIN, start=JANUARY, zone_name="Europe/Berlin")[0]
    assert spring.first_run.zone_local.strftime("%a %d %b %Y %H:%M") == "Sun 28 Mar 2027 03:00"
    said = words.local_time_change_words(spring)
    assert said.startswith(
        "On Sun 28 Mar 2027, Europe/Berlin moves to UTC+02:00 and skips 02:00: that day's run happens at 03:00, just after the gap"
    )
    assert "From Sun 28 Mar 2027, the runs stay at 02:00" not in said
    assert "the runs stay at 02:00 in Europe/Berlin" in said


def test_a_run_outside_the_gap_is_said_as_before():
    spec = berlin_sundays_at("04:00")  # local 05:00
    spring = nextruns.local_time_changes(spec, BERLIN, start=JANUARY, zone_name="Europe/Berlin")[0]
    said = words.local_time_change_words(spring)
    assert said.startswith("From Sun 28 Mar 2027, the runs stay at 05:00 in Europe/Berlin")
    assert "skips" not in said
