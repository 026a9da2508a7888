"""The contract's fixed vocabulary: limits, ranges, weekday codes and field names."""

from __future__ import annotations

MAX_POLICIES_PER_TENANT = 10
MAX_TAGS = 10
NAME_MAX = 64
TAG_KEY_MAX = 36
TAG_VALUE_MAX = 43
FREQUENCY_RANGE = (1, 14)
RETENTION_NUM_RANGE = (2, 14)
RETENTION_DAY_RANGE = (2, 99999)
OFFSET_RANGE = (-12 * 60, 14 * 60)
OFFSET_MINUTES = (0, 30, 45)

# Week order is the contract's (SUN first); the index is the local weekday number used below.
WEEKDAYS: tuple[str, ...] = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

SCHEDULE_FIELDS: tuple[str, ...] = (
    "start_time",
    "frequency",
    "week_frequency",
    "rentention_num",
    "rentention_day",
    "remain_first_backup_of_curMonth",
    "status",
)
TOP_LEVEL_FIELDS: tuple[str, ...] = (
    "backup_policy_name",
    "scheduled_policy",
    "tags",
    "time_zone",
    "time_zone_name",
)
TAG_FIELDS: tuple[str, ...] = ("key", "value")
