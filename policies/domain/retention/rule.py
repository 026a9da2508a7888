"""The retention rule of a spec, as the simulation and the steady state read it."""

from __future__ import annotations

from dataclasses import dataclass

from policies.domain.contract.limits import MINUTES_PER_DAY
from policies.domain.contract.specs import PolicySpec


@dataclass(frozen=True)
class Rule:
    """The retention rule of a spec: exactly one of ``num`` / ``day_minutes``."""

    num: int | None
    day_minutes: int | None
    keep_first: bool

    @classmethod
    def of(cls, spec: PolicySpec) -> Rule:
        day = spec.retention_day * MINUTES_PER_DAY if spec.retention_num is None else None
        return cls(spec.retention_num, day, spec.keep_first_of_month)
