"""Named IANA zones and their offset changes (daylight saving), told against a stored offset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from policies.domain.schedule.instants import NextRun
from policies.domain.schedule.offsets import format_minutes


@dataclass(frozen=True)
class OffsetChange:
    """A named zone changes its UTC offset at ``at`` (aware UTC)."""

    at: datetime
    before_minutes: int
    after_minutes: int

    @property
    def delta_minutes(self) -> int:
        return self.after_minutes - self.before_minutes


def zone_offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    """Return the zone's UTC offset in minutes at the aware instant ``at``."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    offset = at.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_changes(zone: ZoneInfo, *, now: datetime, days: int = 365) -> list[OffsetChange]:
    """Return the zone's offset changes in the ``days`` after ``now``, to the minute."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    changes = []
    step = timedelta(hours=6)  # shorter than any real gap between two changes
    end = now + timedelta(days=days)
    before, current = now, zone_offset_minutes(zone, now)
    while before < end:
        after = min(before + step, end)
        offset = zone_offset_minutes(zone, after)
        if offset != current:
            low, high = before, after  # the change lies in (low, high]: bisect to the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if zone_offset_minutes(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            changes.append(
                OffsetChange(
                    at=high.replace(second=0, microsecond=0), before_minutes=current, after_minutes=offset
                )
            )
            current = offset
        before = after
    return changes


# --- Named zones and words for people (the dashboard's needs; still pure) ------------------

# The areas of the IANA database whose zones are places people live in; the legacy aliases
# (``US/Eastern``, ``Etc/GMT+5`` with its inverted sign, ``EST5EDT`` ...) would only confuse.
# Backward-compatible names inside these areas (``Asia/Calcutta``) stay: some browsers report them.
NAMED_ZONE_AREAS: tuple[str, ...] = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


_named_zone_cache: list[tuple[str, ...]] = []


def named_zone_names() -> tuple[str, ...]:
    """Return the IANA zone names a person would pick, sorted, with ``UTC`` first."""
    # available_timezones() walks the tz database on every call; the database does not change
    # while the process runs, so the answer is kept.
    if not _named_zone_cache:
        from zoneinfo import available_timezones

        names = sorted(name for name in available_timezones() if name.split("/")[0] in NAMED_ZONE_AREAS)
        _named_zone_cache.append(("UTC", *names))
    return _named_zone_cache[0]


def named_zones(*, now: datetime) -> list[tuple[str, int]]:
    """Return ``(zone name, offset minutes in force at now)`` for every named zone."""
    return [(name, zone_offset_minutes(ZoneInfo(name), now)) for name in named_zone_names()]


def is_named_zone(name: str) -> bool:
    """True for a zone name :func:`named_zone_names` offers (cheap: no tz database scan)."""
    if name != "UTC" and name.split("/")[0] not in NAMED_ZONE_AREAS:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


@dataclass(frozen=True)
class LocalTimeChange:
    """A named zone changes its UTC offset, told against the fixed offset a policy stores.

    One type for every telling of a daylight-saving change: the zone alone (:func:`dst_notes`,
    the form's note before a schedule is known) leaves the run fields empty; a schedule's
    forecast (``nextruns.local_time_changes``) adds the first run the change moves, the local
    times chosen and, for a policy that keeps its local times there, what it stores after its
    re-base. The words are ``words.local_time_change_words``.
    """

    zone_name: str
    change: OffsetChange
    stored_minutes: int
    keeps_local: bool = False  # a policy with this named zone: re-based, its local times stay
    first_run: NextRun | None = None
    day_minutes: tuple[int, ...] = ()  # the chosen local times (at the stored offset)
    rebased_time_zone: str | None = None
    rebased_start_time: str | None = None

    @property
    def shift_minutes(self) -> int:
        """How much later (positive) or earlier (negative) the runs happen in local time."""
        return self.change.after_minutes - self.stored_minutes

    @property
    def stale(self) -> bool:
        return self.shift_minutes != 0

    @property
    def local_times(self) -> list[str]:
        """The zone's local times of one run day from ``first_run`` on.

        Listed in the order of :attr:`chosen_times`, each under the time it was chosen as, so
        that the sentence pairs them: chosen 23:00 shifted an hour later is 00:00, last.
        """
        return [format_minutes(minute + self.shift_minutes) for minute in self.day_minutes]

    @property
    def chosen_times(self) -> list[str]:
        return [format_minutes(minute) for minute in self.day_minutes]

    @property
    def skipped_times(self) -> list[str]:
        """The chosen local times that the change skips on its own day (a gap), when the first
        run it moves is on that day: that run happens at ``first_run``'s local time instead."""
        run = self.first_run
        if run is None or run.zone_local is None or self.change.delta_minutes <= 0:
            return []
        if run.zone_local.date() != self.local_day:
            return []
        # The wall clock jumps from ``start`` (the change at the old offset) to start + delta.
        start = (self.change.at.hour * 60 + self.change.at.minute + self.change.before_minutes) % (24 * 60)
        end = start + self.change.delta_minutes
        return [format_minutes(minute) for minute in self.day_minutes if start <= minute % (24 * 60) < end]

    @property
    def local_day(self) -> date:
        """The zone's local date of the change itself."""
        return self.change.at.astimezone(ZoneInfo(self.zone_name)).date()

    @property
    def from_date(self) -> date:
        """The zone's local date of the first run affected."""
        assert self.first_run is not None
        assert self.first_run.zone_local is not None
        return self.first_run.zone_local.date()


def dst_notes(
    zone_name: str, *, stored_minutes: int, now: datetime, days: int = 365, keeps_local: bool = False
) -> list[LocalTimeChange]:
    """Return the zone's offset changes in the next ``days``, told against the stored offset."""
    zone = ZoneInfo(zone_name)
    return [
        LocalTimeChange(zone_name, change, stored_minutes, keeps_local)
        for change in offset_changes(zone, now=now, days=days)
    ]
