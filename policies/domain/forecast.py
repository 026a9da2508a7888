"""Everything the dashboard shows about a policy's future, computed once per preview."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from policies.domain.contract.specs import PolicySpec
from policies.domain.retention.results import RetentionForecast
from policies.domain.retention.simulation import DEFAULT_WEEKS, simulate_retention
from policies.domain.schedule.instants import NextRun
from policies.domain.schedule.nextruns import local_time_changes, next_runs
from policies.domain.schedule.timeline import require_aware, schedule_tz
from policies.domain.schedule.zones import LocalTimeChange

# --- The dashboard's answer ---------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyForecast:
    """Everything the dashboard shows about a policy's future, computed once per preview."""

    spec: PolicySpec
    now: datetime
    zone_name: str | None
    runs: list[NextRun]
    changes: list[LocalTimeChange]
    retention: RetentionForecast
    count: int = 6

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @functools.cached_property
    def key(self) -> str:
        """A digest of everything shown, ``now`` aside: two forecasts with one key read the same.

        The dashboard's live preview sends back the key of the forecast on the screen and gets
        no new one while the key stays (a name or a tag changed, the clock moved within an hour).
        Every part is a frozen dataclass of values, whose repr is stable. The retention's days
        are left out of the digest: they are its backups counted day by day over its span
        (``retention._days``), so the backups, the span and the spec decide them; their repr
        was most of the digest's cost. Cached: a template asks twice.
        """
        retention = replace(self.retention, days=())
        shown = (self.spec, self.zone_name, self.count, self.runs, self.changes, retention)
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def policy_forecast(
    spec: PolicySpec,
    *,
    now: datetime,
    zone_name: str | None = None,
    count: int = 6,
    weeks: int = DEFAULT_WEEKS,
) -> PolicyForecast:
    """Return the next runs, the zone's local-time changes and the retention picture from ``now``."""
    require_aware(now, "now")
    zone = ZoneInfo(zone_name) if zone_name else None
    local_today = now.astimezone(schedule_tz(spec.offset_minutes)).date()
    return PolicyForecast(
        spec=spec,
        now=now,
        zone_name=zone_name,
        runs=next_runs(spec, start=now, count=count, zone=zone),
        changes=local_time_changes(spec, zone, start=now, zone_name=zone_name) if zone else [],
        retention=simulate_retention(spec, start=local_today, weeks=weeks, not_before=now),
        count=count,
    )
