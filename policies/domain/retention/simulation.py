"""The retention simulation: which backups a policy makes, keeps and deletes, and when.

Retention (a simulation of a policy that starts at ``start`` with no backups)
  - ``rentention_num`` N: after each new backup, only the N newest are kept; older ones are deleted
    at that instant.
  - ``rentention_day`` D: a backup lives exactly D x 24 hours; it is deleted when it turns D days old.
  - ``remain_first_backup_of_curMonth`` Y: the first backup made in a local calendar month is kept
    while that month lasts, *beyond* the rule: it does not count toward N and it does not expire.
    When the month ends (local midnight of the 1st) it is an ordinary backup again and the rule is
    applied to it at once: with N it stays only if it is among the N newest, with D only if it is
    younger than D days.
  - Events at one instant run in this order: the month's end, expiries by age, the new backup,
    the count rule. So a daily policy with D = 7 holds 7 backups, not 8.
  - A policy whose status is OFF makes no runs and no backups.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from policies.domain.contract.limits import MINUTES_PER_WEEK
from policies.domain.contract.specs import PolicySpec
from policies.domain.retention.results import Backup, RetentionDay, RetentionForecast, SimulatedBackup
from policies.domain.retention.rule import Rule
from policies.domain.retention.steady import steady_state
from policies.domain.schedule.timeline import RunCalendar, ZoneRunCalendar, minute_ceil, utc_at
from policies.domain.words import OFF_NOTE, explain, rule_words

# --- Retention --------------------------------------------------------------------------------

# The span the dashboard and the API simulate when none is asked for.
DEFAULT_WEEKS = 8
# The most backups one retention forecast of the API lists: an hourly policy over 52 weeks would
# be 8736 (2.7 MB of JSON); 2000 keep an answer under about 1 MB and still cover 11 weeks of it.
MAX_RETENTION_BACKUPS = 2000


def backups_per_week_at_most(spec: PolicySpec) -> int:
    """Return the most runs the policy can make in any 7 days (ON or not)."""
    times = len(spec.start_hours)
    if spec.week_frequency is not None:
        return times * len(spec.week_frequency)
    every = spec.frequency or 1
    # Every N days restarts on the 1st of each local month: a week that spans a month's end can
    # hold one run more than 7 / N.
    return times * (7 if every == 1 else -(-7 // every) + 1)


class _Simulation:
    """The state of one play of a policy: every backup made, the pool the rule may delete from."""

    def __init__(self, calendar: RunCalendar, rule: Rule) -> None:
        self.calendar, self.rule = calendar, rule
        self.items: list[SimulatedBackup] = []
        self.pool: list[SimulatedBackup] = []  # alive and not protected, oldest first
        self.protected: SimulatedBackup | None = None
        self.last_month: date | None = None

    def next_expiry(self) -> list[int]:
        if self.rule.day_minutes is not None and self.pool:
            return [self.pool[0].created + self.rule.day_minutes]
        return []

    def end_month(self, moment: int) -> SimulatedBackup | None:
        """The month ended: its first backup is an ordinary one again, in creation order."""
        released, self.protected = self.protected, None
        if released is not None:
            released.released = moment
            bisect.insort(self.pool, released, key=lambda item: item.created)
        return released

    def expire(self, moment: int, released: SimulatedBackup | None) -> None:
        if self.rule.day_minutes is None:
            return
        while self.pool and self.pool[0].created + self.rule.day_minutes <= moment:
            gone = self.pool.pop(0)
            gone.deleted, gone.reason = moment, "month_end" if gone is released else "age"

    def make(self, moment: int) -> SimulatedBackup:
        month = self.calendar.day_of(moment).replace(day=1)
        new = SimulatedBackup(len(self.items) + 1, moment, first_of_month=month != self.last_month)
        self.last_month = month
        self.items.append(new)
        if self.rule.keep_first and new.first_of_month:
            new.protected, self.protected = True, new
        else:
            self.pool.append(new)
        return new

    def count(self, moment: int, released: SimulatedBackup | None, new: SimulatedBackup | None) -> None:
        if self.rule.num is None:
            return
        while len(self.pool) > self.rule.num:
            gone = self.pool.pop(0)
            gone.deleted, gone.reason = moment, "month_end" if gone is released else "count"
            gone.by = new.number if new is not None else None

    def finish(self) -> list[SimulatedBackup]:
        kept = "newest" if self.rule.num is not None else "young"
        for item in self.items:
            if item.deleted is None:
                item.reason = "first_of_month" if item is self.protected else kept
        return self.items


def _simulate(calendar: RunCalendar, rule: Rule, t0: int, t1: int) -> list[SimulatedBackup]:
    """Play the policy from ``t0`` (no backups yet) to ``t1``; return every backup made."""
    return _play(calendar, rule, list(calendar.runs(t0, t1)), t0, t1)


def _play(calendar: RunCalendar, rule: Rule, made: Sequence[int], t0: int, t1: int) -> list[SimulatedBackup]:
    """Apply the retention rule from ``t0`` to ``t1`` to backups made at the minutes ``made``.

    The forecast passes the schedule's runs; the worker passes the backups that really exist
    (:func:`retention_keeps`), so both delete by one rule. Events at one instant run in this
    order: the month's end, expiries by age, the new backups, the count rule.
    """
    made_at = Counter(made)
    run_set = set(made_at)
    month_set = set(calendar.month_starts(t0 + 1, t1) if rule.keep_first else [])
    fixed = sorted(run_set | month_set)
    play = _Simulation(calendar, rule)
    index = 0
    while True:
        moments = ([fixed[index]] if index < len(fixed) else []) + play.next_expiry()
        if not moments or min(moments) >= t1:
            break
        moment = min(moments)
        released = play.end_month(moment) if moment in month_set else None
        play.expire(moment, released)
        new = None
        for _ in range(made_at[moment] if moment in run_set else 0):
            new = play.make(moment)
        play.count(moment, released, new)
        if index < len(fixed) and fixed[index] == moment:
            index += 1
    return play.finish()


def retention_keeps(spec: PolicySpec, made: Sequence[datetime], *, now: datetime) -> list[bool]:
    """Return, for each backup made at an instant of ``made``, whether the retention keeps it at ``now``.

    The same rule as the forecast (:func:`simulate_retention`), played over the backups that
    exist: the oldest first, with the month ends and the expiries between them. Instants count
    by the minute (a run is a whole minute; "execute now" may be any instant).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not made:
        return []
    minutes = [(moment - _EPOCH) // timedelta(minutes=1) for moment in made]
    order = sorted(range(len(minutes)), key=minutes.__getitem__)
    ordered = [minutes[index] for index in order]
    end = (now - _EPOCH) // timedelta(minutes=1) + 1
    items = _play(RunCalendar(spec), Rule.of(spec), ordered, ordered[0], max(end, ordered[-1] + 1))
    keeps = [False] * len(minutes)
    for index, item in zip(order, items, strict=True):
        keeps[index] = item.deleted is None
    return keeps


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def simulate_retention(
    spec: PolicySpec, *, start: date, weeks: int = DEFAULT_WEEKS, not_before: datetime | None = None
) -> RetentionForecast:
    """Simulate the backups a policy makes from local midnight of ``start`` over ``weeks`` weeks.

    ``not_before``: the policy makes its first backup at or after this instant (the dashboard
    passes ``now``, so a run earlier today is not drawn); the days still start at ``start``.
    """
    # A named zone keeps its local times: the backups are made at its runs through each change.
    calendar = ZoneRunCalendar(spec) if spec.time_zone_name is not None else RunCalendar(spec)
    t0 = calendar.midnight(start)
    t1 = t0 + weeks * MINUTES_PER_WEEK
    first = t0 if not_before is None else max(t0, minute_ceil(not_before))
    common = {
        "spec": spec,
        "start": start,
        "weeks": weeks,
        "window_from": utc_at(t0),
        "window_until": utc_at(t1),
        "rule": rule_words(spec),
    }
    if not spec.enabled:
        return RetentionForecast(backups=(), days=(), steady=None, note=OFF_NOTE, **common)
    items = _simulate(calendar, Rule.of(spec), first, t1)
    backups = tuple(
        Backup(
            number=item.number,
            created_at=utc_at(item.created),
            local_created=calendar.local_at(item.created),
            first_of_month=item.first_of_month,
            deleted_at=None if item.deleted is None else utc_at(item.deleted),
            local_deleted=None if item.deleted is None else calendar.local_at(item.deleted),
            reason=item.reason,
            explanation=explain(item, spec, calendar),
        )
        for item in items
    )
    return RetentionForecast(
        backups=backups,
        days=_days(calendar, items, backups, start, weeks),
        steady=steady_state(spec, start=start),
        **common,
    )


def _days(
    calendar: RunCalendar, items: list[SimulatedBackup], backups: tuple[Backup, ...], start: date, weeks: int
) -> tuple[RetentionDay, ...]:
    created: dict[date, list[Backup]] = {}
    deleted: dict[date, list[int]] = {}
    for item, backup in zip(items, backups, strict=True):
        created.setdefault(calendar.day_of(item.created), []).append(backup)
        if item.deleted is not None:
            deleted.setdefault(calendar.day_of(item.deleted), []).append(item.number)
    days, exist = [], 0
    for offset in range(weeks * 7):
        day = start + timedelta(days=offset)
        made, gone = created.get(day, []), deleted.get(day, [])
        # Exists at the day's end: made before the next midnight and not deleted before it.
        exist += len(made) - len(gone)
        days.append(RetentionDay(day, tuple(made), tuple(sorted(gone)), exist))
    return tuple(days)
