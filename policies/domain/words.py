"""Every English phrase of the core's maths: durations, day shifts, schedules, retention rules,
runs, backups, the long run and a zone's daylight-saving changes.

The maths modules (nextruns, retention, longrun, zones) return values and hold no words; the
API, the dashboard's views and its templates (``policies/templatetags/forecast_words.py``) say
those values through the functions here, so each thing is said one way everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from policies.domain.contract.limits import MINUTES_PER_DAY, WEEKDAYS
from policies.domain.schedule.offsets import format_minutes, format_offset
from policies.domain.schedule.week import Run, runs_of_day, utc_week

if TYPE_CHECKING:
    from policies.domain.contract.specs import PolicySpec
    from policies.domain.retention.results import Backup, RetentionForecast, SimulatedBackup
    from policies.domain.retention.steady import SteadyState
    from policies.domain.schedule.instants import NextRun
    from policies.domain.schedule.timeline import RunCalendar
    from policies.domain.schedule.zones import LocalTimeChange

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")  # fmt: skip

WEEKDAY_NAMES: tuple[str, ...] = (
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
)

# How a run's UTC day relates to its local day (see utc_day_shift), in words.
DAY_SHIFT_WORDS = {-1: "day before", 0: "same day", 1: "day after"}


def every_n_days(frequency: int) -> str:
    """Return ``every day`` or ``every N days``."""
    return "every day" if frequency == 1 else f"every {frequency} days"


def _label(weekday: int | None, minute: int) -> str:
    time = format_minutes(minute)
    return f"{WEEKDAY_NAMES[weekday][:3]} {time}" if weekday is not None else time


def local_label(run: Run) -> str:
    """Return ``Mon 02:00`` (a weekday schedule) or ``02:00``: the run's local time."""
    return _label(run.local_weekday, run.local_minute)


def utc_label(run: Run) -> str:
    """Return ``Sun 22:00`` (a weekday schedule) or ``22:00``: the run's UTC time."""
    return _label(run.utc_weekday, run.utc_minute)


def _join_words(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def schedule_in_words(spec: PolicySpec) -> tuple[str, str]:
    """Return the schedule in plain words: (in local time, in UTC)."""
    zone = spec.time_zone or "UTC"
    if spec.time_zone_name is not None:
        zone = f"{spec.time_zone_name}, now {zone}"
    runs = runs_of_day(spec)
    local_times = ", ".join(format_minutes(run.local_minute) for run in runs)
    if spec.week_frequency is not None:
        days = _join_words([WEEKDAY_NAMES[WEEKDAYS.index(day)] for day in spec.week_frequency])
        local = f"{days} at {local_times} ({zone})"
        utc = ", ".join(utc_label(run) for run in utc_week(spec)) + " UTC"
        return local, utc
    every = every_n_days(spec.frequency or 1)
    local = f"{every.capitalize()} at {local_times} ({zone})"
    utc_times = ", ".join(
        format_minutes(run.utc_minute)
        + (f" ({DAY_SHIFT_WORDS[run.utc_day_shift]})" if run.utc_day_shift else "")
        for run in runs
    )
    return local, f"{every} at {utc_times} UTC"


def rule_words(spec: PolicySpec) -> str:
    """Say the retention rule in plain words."""
    if spec.retention_num is not None:
        words = f"keeps the {spec.retention_num} newest backups"
    else:
        words = f"deletes each backup when it is {spec.retention_day} days old"
    if spec.keep_first_of_month:
        words += "; also keeps the first backup of each month until the month ends"
    return words


def duration_words(minutes: int) -> str:
    """Return ``7 days``, ``16 days 12 hours``, ``1 hour 30 minutes``."""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) if parts else "0 minutes"


_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def size_words(gib: float) -> str:
    """Return a size given in GiB in the binary unit that fits, to three figures: ``256 KiB``."""
    size = max(gib, 0) * 2**30
    unit = 0
    while size >= 1024 and unit < len(_SIZE_UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{round(size)} B"
    shown = f"{size:.3g}"  # three significant figures: 256, 1.5, 40.1
    if "e" in shown:  # 1000 to 1023 of a unit
        shown = f"{size:.0f}"
    return f"{shown} {_SIZE_UNITS[unit]}"


def bytes_words(size: int) -> str:
    """Return a size given in bytes in the words of ``size_words``, so a volume and its backup read alike."""
    return size_words(size / 2**30)


def explain(item: SimulatedBackup, spec: PolicySpec, calendar: RunCalendar) -> str:
    month = _MONTH_NAMES[calendar.day_of(item.created).month - 1]
    if item.reason == "count":
        return (
            f"deleted when backup {item.by} was made: only the {spec.retention_num} newest are kept"
            if item.by is not None
            else f"deleted: only the {spec.retention_num} newest are kept"
        )
    if item.reason == "age":
        return f"deleted when {spec.retention_day} days old"
    if item.reason == "month_end":
        rule = (
            f"not among the {spec.retention_num} newest"
            if spec.retention_num is not None
            else f"older than {spec.retention_day} days"
        )
        return f"first backup of {month}: kept until the month ended, then deleted ({rule})"
    if item.reason == "first_of_month":
        return f"kept: first backup of {month}, kept while the month lasts"
    extra = f" (first backup of {month}, kept through its month)" if item.protected else ""
    if item.reason == "newest":
        return f"kept: one of the {spec.retention_num} newest at the end of the span{extra}"
    return f"kept: younger than {spec.retention_day} days at the end of the span{extra}"


OFF_NOTE = "The policy is OFF: it makes no runs and creates no backups until its status is ON."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


# --- Runs: dates and clocks at the stored offset (a template's date filter would move them to
# the server's zone). A table of runs says the local date once, then each clock; a clock on
# another day than the local one is named with its weekday (Sun 23:00).


def run_local_words(run: NextRun) -> str:
    """``Mon 02 Mar 2026 02:00``: the run's local date and time."""
    return f"{run.local:%a %d %b %Y %H:%M}"


def run_date_words(run: NextRun) -> str:
    return f"{run.local:%a %d %b %Y}"


def run_time_words(run: NextRun) -> str:
    return f"{run.local:%H:%M}"


def _clock(run: NextRun, moment: datetime) -> str:
    return f"{moment:%H:%M}" if moment.date() == run.local.date() else f"{moment:%a %H:%M}"


def run_zone_time_words(run: NextRun) -> str:
    return "" if run.zone_local is None else _clock(run, run.zone_local)


def run_utc_time_words(run: NextRun) -> str:
    return _clock(run, run.utc)


# --- Backups of the retention simulation


def backup_created_words(backup: Backup) -> str:
    return f"{backup.local_created:%a %d %b %H:%M}"


def backup_time_words(backup: Backup) -> str:
    return f"{backup.local_created:%H:%M}"


def backup_deleted_words(backup: Backup) -> str:
    return "" if backup.local_deleted is None else f"{backup.local_deleted:%a %d %b}"


def retention_summary(result: RetentionForecast) -> str:
    """The retention picture in one paragraph, for people who do not see it."""
    if not result.enabled:
        return result.note
    span = f"{_plural(result.weeks, 'week')} from {result.start:%a %d %b %Y}"
    deleted, kept = len(result.deleted), len(result.kept)
    text = (
        f"Over {span} the policy makes {_plural(len(result.backups), 'backup')}; "
        f"{deleted} of them {'is' if deleted == 1 else 'are'} deleted within the "
        f"span and {kept} exist{'s' if kept == 1 else ''} at its end."
    )
    oldest = result.oldest_kept
    if oldest is not None:
        text += f" The oldest backup at the end was made on {oldest.local_created:%a %d %b %Y %H:%M}."
    firsts = [backup for backup in result.backups if backup.first_of_month]
    if firsts and result.spec.keep_first_of_month:
        text += f" {len(firsts)} first-of-the-month backup{'s are' if len(firsts) != 1 else ' is'} kept while the month lasts."
    return text


# --- The long run


def steady_oldest_words(steady: SteadyState) -> str:
    """How old the oldest restore point is: ``between 42 days and 49 days``."""
    if steady.oldest_min_minutes is None or steady.oldest_max_minutes is None:
        return "no backup exists"
    low, high = duration_words(steady.oldest_min_minutes), duration_words(steady.oldest_max_minutes)
    return low if low == high else f"between {low} and {high}"


def steady_gap_words(steady: SteadyState) -> str:
    return duration_words(steady.longest_gap_minutes)


# --- A named zone's daylight-saving change


def _date_words(moment: date) -> str:
    return f"{moment:%a %d %b %Y}"


def local_time_change_words(change: LocalTimeChange) -> str:
    """Say a zone's offset change: with the first run it moves when a schedule is known."""
    if change.first_run is None:
        return _zone_change_words(change)
    when = _date_words(change.local_day)
    after = format_offset(change.change.after_minutes)
    first = _date_words(change.from_date)
    times = ", ".join(change.local_times)
    skipped = change.skipped_times
    if change.rebased_time_zone is not None and skipped:
        assert change.first_run is not None
        assert change.first_run.zone_local is not None  # skipped_times is empty without them
        return (
            f"On {when}, {change.zone_name} moves to {after} and skips {', '.join(skipped)}: that "
            f"day's run happens at {change.first_run.zone_local:%H:%M}, just after the gap; after "
            f"it, the runs stay at {times} in {change.zone_name}. The policy is re-based "
            f"before that run (stored offset {change.rebased_time_zone}, UTC start times "
            f"{change.rebased_start_time})."
        )
    if change.rebased_time_zone is not None:
        return (
            f"From {first}, the runs stay at {times} in {change.zone_name}: the zone moves to {after} "
            f"on {when}, and the policy is re-based before its first run at the new offset "
            f"(stored offset {change.rebased_time_zone}, UTC start times {change.rebased_start_time})."
        )
    if not change.stale:
        return (
            f"From {first}, the runs happen at {times} in {change.zone_name} again, as chosen: "
            f"the zone is back at {after} from {when}."
        )
    later = "later" if change.shift_minutes > 0 else "earlier"
    return (
        f"From {first}, the runs happen at {times} in {change.zone_name}, "
        f"{duration_words(abs(change.shift_minutes))} {later} than chosen ({', '.join(change.chosen_times)}): "
        f"the zone moves to {after} on {when}, the policy keeps "
        f"{format_offset(change.stored_minutes)}."
    )


def _zone_change_words(change: LocalTimeChange) -> str:
    """The change told by the zone alone, before the runs are known."""
    after = format_offset(change.change.after_minutes)
    when = f"From {_date_words(change.local_day)} ({change.change.at:%H:%M} UTC), {change.zone_name} is at {after}"
    if change.keeps_local:
        return (
            f"{when}: the policy keeps its local times, re-based to {after} before its first run "
            "at the new offset (its UTC times change)."
        )
    if change.shift_minutes == 0:
        return f"{when} again: the runs happen at the local times shown."
    direction = "later" if change.shift_minutes > 0 else "earlier"
    return (
        f"{when}, but the policy keeps {format_offset(change.stored_minutes)}: its runs then happen "
        f"{duration_words(abs(change.shift_minutes))} {direction} in local time than shown "
        "(the UTC times do not change)."
    )


# --- Protection ---------------------------------------------------------------------------------

PROTECTION_WORDS = {"protected": "Protected", "at_risk": "At risk", "unprotected": "Unprotected"}
PROTECTION_REASON_WORDS = {
    "backed_up": "its last good backup is recent enough for its schedule",
    "first_backup_pending": "waiting for its first backup under its policy",
    "late": "late: no good backup since its policy's longest gap between runs and the grace",
    "last_run_failed": "its latest run failed",
    "verify_failed": "its newest backup failed verification",
    "no_policy": "no backup policy",
    "policy_off": "its backup policy is OFF",
}


def age_words(minutes: int) -> str:
    """Return how old something is, to the minute below a day, to the hour from a day on."""
    if minutes >= MINUTES_PER_DAY:
        minutes -= minutes % 60
    return duration_words(max(minutes, 0))
