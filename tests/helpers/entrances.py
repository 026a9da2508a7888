"""The entrances' table: payloads every entrance (API, dashboard form, admin) accepts or refuses alike.

Each row is ``(id, payload, existing, codes)``: a create body the dashboard's form can express,
the policies the project already holds (``(count, prefix)`` or None), and the contract codes of
the refusal in the API's order (empty: accepted).
"""

from http import HTTPStatus

from policies.domain.contract import codes as error_codes
from tests.helpers.payloads import founding_schedule, schedule_payload, valid_payload
from tests.helpers.policies import make_policy

BERLIN_WEEK = founding_schedule()
EVERY_3_DAYS = {"start_time": "20:00,21:00", "frequency": 3, "rentention_day": 30, "status": "ON"}


def _with(**fields):
    return {**BERLIN_WEEK, **fields}


def _without(*names):
    return {k: v for k, v in BERLIN_WEEK.items() if k not in names}


# (id, payload, policies already in the project: (count, name prefix), expected codes; [] = accepted)
ROWS = [
    ("founding-example", valid_payload(), None, []),
    (
        "weekday-at-utc+2",
        valid_payload(scheduled_policy=BERLIN_WEEK, time_zone="UTC+02:00", tags=[]),
        None,
        [],
    ),
    ("every-n-days-uniform-shift", valid_payload(scheduled_policy=EVERY_3_DAYS), None, []),
    (
        "half-hour-zone",
        valid_payload(scheduled_policy=_with(start_time="00:00"), time_zone="UTC+05:30"),
        None,
        [],
    ),
    (
        "no-time-zone",
        {"backup_policy_name": "utc_only", "scheduled_policy": _with(start_time="01:00,05:00")},
        None,
        [],
    ),
    (
        "retention-day-rounded-down",
        schedule_payload(**_with(rentention_num=None) | {"rentention_day": 30.9}),
        None,
        [],
    ),
    (
        "off-and-keep-first",
        schedule_payload(**_with(status="OFF", remain_first_backup_of_curMonth="Y")),
        None,
        [],
    ),
    (
        "day-shift-with-frequency",
        valid_payload(
            scheduled_policy={**_without("week_frequency"), "frequency": 1}, time_zone="UTC+02:00", tags=[]
        ),
        None,
        [error_codes.TIME_ZONE],
    ),
    (
        "day-shift-west",
        valid_payload(
            scheduled_policy={**_without("week_frequency"), "start_time": "23:00,00:00", "frequency": 2},
            time_zone="UTC-03:00",
        ),
        None,
        [error_codes.TIME_ZONE],
    ),
    ("bad-name-chars", valid_payload(backup_policy_name="bad name!"), None, [error_codes.NAME_CHARS]),
    (
        "name-starts-with-Default",
        valid_payload(backup_policy_name="Default_x"),
        None,
        [error_codes.NAME_CHARS],
    ),
    ("name-too-long", valid_payload(backup_policy_name="n" * 65), None, [error_codes.NAME_LENGTH]),
    (
        "name-missing",
        {k: v for k, v in valid_payload().items() if k != "backup_policy_name"},
        None,
        [error_codes.NAME_LENGTH],
    ),
    ("no-start-time", schedule_payload(**_without("start_time")), None, [error_codes.START_TIME]),
    ("status-missing", schedule_payload(**_without("status")), None, [error_codes.STATUS]),
    ("no-weekday", schedule_payload(**_with(week_frequency=[])), None, [error_codes.FREQUENCY]),
    (
        "frequency-out-of-range",
        schedule_payload(**{**_without("week_frequency"), "start_time": "12:00", "frequency": 15}),
        None,
        [error_codes.FREQUENCY],
    ),
    (
        "frequency-with-fraction",
        schedule_payload(**{**_without("week_frequency"), "start_time": "12:00", "frequency": 2.5}),
        None,
        [error_codes.FREQUENCY],
    ),
    (
        "retention-num-out-of-range",
        schedule_payload(**_with(rentention_num=15)),
        None,
        [error_codes.RETENTION],
    ),
    (
        "retention-day-too-short",
        schedule_payload(**{**_without("rentention_num"), "rentention_day": 1.5}),
        None,
        [error_codes.RETENTION],
    ),
    ("no-retention", schedule_payload(**_without("rentention_num")), None, [error_codes.RETENTION]),
    ("bad-tag-key", valid_payload(tags=[{"key": "bad key", "value": "x"}]), None, [error_codes.TAG]),
    (
        "repeated-tag-key",
        valid_payload(tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]),
        None,
        [error_codes.TAG],
    ),
    (
        "eleven-tags",
        valid_payload(tags=[{"key": f"k{i}", "value": ""} for i in range(11)]),
        None,
        [error_codes.TAG_COUNT],
    ),
    ("offset-minutes-15", valid_payload(time_zone="UTC+05:15"), None, [error_codes.TIME_ZONE]),
    ("offset-beyond-14h", valid_payload(time_zone="UTC+14:30"), None, [error_codes.TIME_ZONE]),
    (
        "several-problems-in-contract-order",
        valid_payload(backup_policy_name="Default", scheduled_policy=_with(rentention_num=1, status="MAYBE")),
        None,
        [error_codes.NAME_CHARS, error_codes.STATUS, error_codes.RETENTION],
    ),
    (
        "name-taken-ignoring-case",
        valid_payload(backup_policy_name="NIGHTLY"),
        (1, "nightly"),
        [error_codes.NAME_TAKEN],
    ),
    ("quota", valid_payload(backup_policy_name="eleventh"), (10, "existing"), [error_codes.QUOTA]),
    (
        "quota-before-a-free-name",
        valid_payload(backup_policy_name="existing_00"),
        (10, "existing"),
        [error_codes.QUOTA],
    ),
]


def store_existing(tenant, count_and_prefix):
    """Give the tenant a row's existing policies: ``(count, prefix)``, or None for none."""
    if not count_and_prefix:
        return
    count, prefix = count_and_prefix
    for i in range(count):
        name = prefix if count == 1 else f"{prefix}_{i:02d}"
        make_policy(tenant, name)


def api_codes(response):
    """The contract codes of an API answer, in order: none for a 200."""
    if response.status_code == HTTPStatus.OK:
        return []
    error = response.json()["error"]
    return [detail["code"] for detail in error.get("details", [])] or [error["code"]]
