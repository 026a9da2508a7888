"""The scheduler's heartbeat: each tick records when it ran, so a stopped worker is visible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from policies.models import SchedulerHeartbeat

# A scheduler is stale after this many ticks without one: a tick or two may be slow or lost.
STALE_AFTER_TICKS = 3


def record_tick(now: datetime) -> None:
    """Write the one heartbeat row (it never grows), in one statement: an upsert."""
    SchedulerHeartbeat.objects.bulk_create(
        [SchedulerHeartbeat(pk=1, ticked_at=now)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["ticked_at"],
    )


@dataclass(frozen=True)
class SchedulerState:
    stale: bool
    last_tick: datetime | None  # None: no scheduler has ever ticked

    @property
    def word(self) -> str:
        return "stale" if self.stale else "ok"


def scheduler_state(*, now: datetime | None = None) -> SchedulerState:
    """Whether a scheduler ticked within the last three ticks, and when it last did."""
    now = now or timezone.now()
    last = SchedulerHeartbeat.objects.filter(pk=1).values_list("ticked_at", flat=True).first()
    limit = timedelta(seconds=STALE_AFTER_TICKS * settings.SCHEDULER_TICK_SECONDS)
    return SchedulerState(stale=last is None or now - last > limit, last_tick=last)
