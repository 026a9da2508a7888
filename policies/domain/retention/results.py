"""What a retention simulation gives: each backup made and when it goes, day by day, and the picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from policies.domain.contract.specs import PolicySpec
from policies.domain.retention.steady import SteadyState
from policies.domain.schedule.timeline import ONE_DAY


@dataclass
class SimulatedBackup:
    number: int
    created: int
    first_of_month: bool
    protected: bool = False
    deleted: int | None = None
    reason: str = ""
    by: int | None = None  # the backup whose creation pushed this one out (count rule)
    released: int | None = None  # when its month ended, if it was protected


@dataclass(frozen=True)
class Backup:
    """One backup of the simulation: when it is made, when it is deleted (None: kept), and why."""

    number: int
    created_at: datetime
    local_created: datetime
    first_of_month: bool
    deleted_at: datetime | None
    local_deleted: datetime | None
    reason: str
    explanation: str

    @property
    def kept(self) -> bool:
        return self.deleted_at is None


@dataclass(frozen=True)
class RetentionDay:
    """One local day of the simulated span: the backups made and deleted, and how many exist at its end."""

    day: date
    created: tuple[Backup, ...]
    deleted: tuple[int, ...]
    exist: int

    @property
    def first_of_month(self) -> bool:
        return any(backup.first_of_month for backup in self.created)


@dataclass(frozen=True)
class RetentionForecast:
    """The backups a policy makes and keeps over ``weeks`` weeks from ``start`` (local midnight)."""

    spec: PolicySpec
    start: date
    weeks: int
    window_from: datetime
    window_until: datetime
    backups: tuple[Backup, ...]
    days: tuple[RetentionDay, ...]
    steady: SteadyState | None
    rule: str
    note: str = ""

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def kept(self) -> list[Backup]:
        return [backup for backup in self.backups if backup.kept]

    @property
    def deleted(self) -> list[Backup]:
        return [backup for backup in self.backups if not backup.kept]

    @property
    def oldest_kept(self) -> Backup | None:
        kept = self.kept
        return kept[0] if kept else None

    @property
    def event_days(self) -> list[RetentionDay]:
        """The days on which a backup is made or deleted (the others change nothing)."""
        return [day for day in self.days if day.created or day.deleted]

    def calendar(self) -> list[list[CalendarCell]]:
        """Return the span as weeks (Sunday first) of day cells, for the picture."""
        by_day = {day.day: day for day in self.days}
        first = self.start - timedelta(days=(self.start.weekday() + 1) % 7)
        last = self.start + timedelta(days=self.weeks * 7 - 1)
        weeks, day = [], first
        while day <= last:
            week = []
            for _ in range(7):
                # The month is named on its 1st and in the first cell, where the eye starts.
                week.append(CalendarCell(day, by_day.get(day), name_month=day.day == 1 or day == first))
                day += ONE_DAY
            weeks.append(week)
        return weeks


@dataclass(frozen=True)
class CalendarCell:
    day: date
    record: RetentionDay | None  # None: outside the simulated span
    name_month: bool = False

    MARKS = 4  # more backups in one day are summed up as "+n"

    @property
    def in_span(self) -> bool:
        return self.record is not None

    @property
    def label(self) -> str:
        return f"{self.day.day} {self.day:%b}" if self.name_month else str(self.day.day)

    @property
    def marks(self) -> tuple[Backup, ...]:
        return self.record.created[: self.MARKS] if self.record else ()

    @property
    def more(self) -> int:
        return max(0, len(self.record.created) - self.MARKS) if self.record else 0
