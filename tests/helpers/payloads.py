"""Contract request bodies: a valid create body, and one for every row of the error table
(docs/api.md, "Statuses and codes")."""


def valid_payload(**overrides) -> dict:
    """Return a create body the contract accepts; ``overrides`` replace top-level keys."""
    payload = {
        "backup_policy_name": "policy_01",
        "scheduled_policy": {
            "start_time": "12:00",
            "week_frequency": ["SUN", "WED"],
            "rentention_day": 30,
            "remain_first_backup_of_curMonth": "Y",
            "status": "ON",
        },
        "tags": [{"key": "key", "value": "value"}],
        "time_zone": "UTC+08:00",
    }
    payload.update(overrides)
    return payload


def founding_schedule(**changes) -> dict:
    """The founding example's schedule: Mondays 22:00, 00:00 and 02:00 local, 7 backups kept."""
    return {
        "start_time": "22:00,00:00,02:00",
        "week_frequency": ["MON"],
        "rentention_num": 7,
        "status": "ON",
        **changes,
    }


def founding_payload(**overrides) -> dict:
    """Return the founding example at UTC+02:00 as a create body; ``overrides`` replace top-level keys."""
    return valid_payload(**{"scheduled_policy": founding_schedule(), "time_zone": "UTC+02:00", **overrides})


def schedule_payload(**schedule_fields) -> dict:
    """Return a valid body whose ``scheduled_policy`` is exactly ``schedule_fields``."""
    return valid_payload(scheduled_policy=schedule_fields)


EVERY_DAY = {"start_time": "12:00", "frequency": 1, "rentention_num": 7, "status": "ON"}


def every_day(**changes) -> dict:
    """Return a valid body whose scheduled_policy is EVERY_DAY with ``changes`` (None removes)."""
    fields = {**EVERY_DAY, **changes}
    return schedule_payload(**{key: value for key, value in fields.items() if value is not None})


# (id, raw body, status, code): bodies are bytes so that bad JSON can be sent as it is.
ERROR_ROWS = [
    ("empty-body", b"", 400, "AutoBackup.0000"),
    ("json-array", b"[]", 400, "AutoBackup.0000"),
    ("json-string", b'"policy"', 400, "AutoBackup.0000"),
    ("json-null", b"null", 400, "AutoBackup.0000"),
    ("invalid-json", b'{"backup_policy_name": ', 400, "AutoBackup.0008"),
    ("nan", b'{"backup_policy_name": NaN}', 400, "AutoBackup.0008"),
    ("infinity", b'{"backup_policy_name": Infinity}', 400, "AutoBackup.0008"),
    ("not-utf8", b'{"backup_policy_name": "caf\xe9"}', 400, "AutoBackup.0008"),
    ("no-scheduled-policy", {"backup_policy_name": "p1"}, 400, "AutoBackup.0001"),
    ("scheduled-policy-not-object", valid_payload(scheduled_policy="daily"), 400, "AutoBackup.0001"),
    ("unknown-field", every_day(retention_num=7, rentention_num=None), 400, "AutoBackup.0001"),
    ("name-missing", {"scheduled_policy": EVERY_DAY}, 400, "AutoBackup.0101"),
    ("name-too-long", valid_payload(backup_policy_name="p" * 65), 400, "AutoBackup.0101"),
    ("name-bad-character", valid_payload(backup_policy_name="my policy"), 400, "AutoBackup.0102"),
    ("name-default", valid_payload(backup_policy_name="Default_x"), 400, "AutoBackup.0102"),
    ("start-time-half-hour", every_day(start_time="12:30"), 400, "AutoBackup.0103"),
    ("start-time-repeated", every_day(start_time="12:00,12:00"), 400, "AutoBackup.0103"),
    ("start-time-missing", every_day(start_time=None), 400, "AutoBackup.0103"),
    ("status-lower-case", every_day(status="on"), 400, "AutoBackup.0104"),
    ("status-missing", every_day(status=None), 400, "AutoBackup.0104"),
    ("keep-first-invalid", every_day(remain_first_backup_of_curMonth="yes"), 400, "AutoBackup.0105"),
    ("frequency-15", every_day(frequency=15), 400, "AutoBackup.0106"),
    ("frequency-neither", every_day(frequency=None), 400, "AutoBackup.0106"),
    ("week-frequency-lower-case", every_day(frequency=None, week_frequency=["mon"]), 400, "AutoBackup.0106"),
    ("rentention-num-1", every_day(rentention_num=1), 400, "AutoBackup.0107"),
    ("rentention-neither", every_day(rentention_num=None), 400, "AutoBackup.0107"),
    ("rentention-day-1.5", every_day(rentention_num=None, rentention_day=1.5), 400, "AutoBackup.0107"),
    ("tag-key-too-long", valid_payload(tags=[{"key": "k" * 37, "value": "v"}]), 400, "AutoBackup.0214"),
    (
        "tag-repeated-key",
        valid_payload(tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]),
        400,
        "AutoBackup.0214",
    ),
    (
        "eleven-tags",
        valid_payload(tags=[{"key": f"k{i}", "value": "v"} for i in range(11)]),
        400,
        "AutoBackup.0215",
    ),
    ("time-zone-invalid", valid_payload(time_zone="UTC+05:15"), 400, "AutoBackup.0226"),
    (
        "day-shift-with-frequency",
        valid_payload(
            time_zone="UTC+02:00",
            scheduled_policy={**EVERY_DAY, "start_time": "22:00,00:00,02:00"},
        ),
        400,
        "AutoBackup.0226",
    ),
]
