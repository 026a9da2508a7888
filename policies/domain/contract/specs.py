"""A valid policy in canonical form, and the result of reading one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.domain.contract.codes import Problem
from policies.domain.schedule.offsets import parse_offset


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class PolicySpec:
    """A policy that satisfies every rule of the contract, in canonical form.

    ``start_hours`` are UTC hours in the order given (ascending local time). Exactly one of
    ``frequency`` / ``week_frequency`` and one of ``retention_num`` / ``retention_day`` is set:
    the member of each pair that runs.
    """

    name: str
    start_hours: tuple[int, ...]
    status: str
    frequency: int | None = None
    week_frequency: tuple[str, ...] | None = None
    retention_num: int | None = None
    retention_day: int | None = None
    keep_first_of_month: bool = False
    time_zone: str | None = None
    tags: tuple[Tag, ...] = field(default_factory=tuple)
    # An IANA zone (our extension): the policy keeps its local times there across offset changes.
    time_zone_name: str | None = None

    @property
    def start_time(self) -> str:
        return ",".join(f"{hour:02d}:00" for hour in self.start_hours)

    @property
    def offset_minutes(self) -> int:
        return parse_offset(self.time_zone) if self.time_zone else 0

    @property
    def enabled(self) -> bool:
        return self.status == "ON"

    def scheduled_policy(self) -> dict[str, Any]:
        """Return the stored ``scheduled_policy`` object, as the API reads it back."""
        body: dict[str, Any] = {"start_time": self.start_time}
        if self.frequency is not None:
            body["frequency"] = self.frequency
        else:
            body["week_frequency"] = list(self.week_frequency or ())
        if self.retention_num is not None:
            body["rentention_num"] = self.retention_num
        else:
            body["rentention_day"] = self.retention_day
        body["remain_first_backup_of_curMonth"] = "Y" if self.keep_first_of_month else "N"
        body["status"] = self.status
        return body

    def to_payload(self) -> dict[str, Any]:
        """Return the create request body that describes exactly this policy."""
        payload: dict[str, Any] = {
            "backup_policy_name": self.name,
            "scheduled_policy": self.scheduled_policy(),
        }
        if self.tags:
            payload["tags"] = [{"key": tag.key, "value": tag.value} for tag in self.tags]
        if self.time_zone is not None:
            payload["time_zone"] = self.time_zone
        if self.time_zone_name is not None:
            payload["time_zone_name"] = self.time_zone_name
        return payload


@dataclass(frozen=True)
class ParseResult:
    """Either a spec (no problems) or every problem found, in the contract's order."""

    spec: PolicySpec | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.spec is not None


@dataclass(frozen=True)
class TagAction:
    """A batch tag request: ``create`` or ``update`` tags (key and value: an upsert each), or
    ``delete`` them (value optional). No tags at all is a valid request that changes nothing."""

    action: str
    tags: tuple[Tag, ...]
    # For delete: the keys whose value was not given, which go whatever their value.
    any_value: frozenset[str] = frozenset()

    @property
    def upserts(self) -> bool:
        """True for ``create`` and ``update``: both add new keys and replace existing values."""
        return self.action != "delete"


TAG_ACTIONS: tuple[str, ...] = ("create", "update", "delete")
