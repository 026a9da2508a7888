"""One run instant of a policy, as UTC, as local time at the stored offset, and in its named zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NextRun:
    """One run: the UTC instant, its local time at the stored offset, and in a named zone."""

    utc: datetime
    local: datetime
    zone_local: datetime | None = None

    @property
    def offset_minutes(self) -> int:
        return _offset_of(self.local)

    @property
    def zone_offset_minutes(self) -> int | None:
        return None if self.zone_local is None else _offset_of(self.zone_local)

    @property
    def stale(self) -> bool:
        """True when the named zone's local time differs from the one chosen (the stored offset)."""
        return self.zone_local is not None and self.zone_offset_minutes != self.offset_minutes

    @property
    def shift_minutes(self) -> int:
        """How much later (positive) the run happens in the named zone than at the stored offset."""
        zone = self.zone_offset_minutes
        return 0 if zone is None else zone - self.offset_minutes


def _offset_of(moment: datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0
