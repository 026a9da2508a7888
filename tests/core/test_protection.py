"""Protection: protected, at risk or unprotected, from a volume's facts and ``now``; the longest gap between runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from policies.domain.contract.specs import PolicySpec
from policies.domain.protection import Protection, Reason, VolumeFacts, volume_protection
from policies.domain.schedule.gaps import longest_gap

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
GRACE = timedelta(minutes=30)
DAILY = PolicySpec(
    name="d", start_hours=(1,), status="ON", frequency=1, retention_num=3, time_zone="UTC+00:00"
)
BERLIN = replace(
    DAILY, start_hours=(1,), time_zone="UTC+01:00", time_zone_name="Europe/Berlin"
)  # 02:00 local
WEEKLY = replace(DAILY, frequency=None, week_frequency=("MON",))


def protection(spec=DAILY, *, last=None, since=None, failed=False, verify_failed=False, now=NOW):
    facts = VolumeFacts(
        spec, since, last, latest_task_failed=failed, newest_backup_failed_verification=verify_failed
    )
    return volume_protection(facts, now=now, grace=GRACE)


def test_a_backup_no_older_than_the_longest_gap_and_the_grace_is_protected():
    found = protection(last=NOW - timedelta(hours=24, minutes=30))
    assert (found.state, found.reason) == (Protection.PROTECTED, Reason.BACKED_UP)
    assert found.due_by == NOW
    assert found.age(NOW) == timedelta(hours=24, minutes=30)


def test_a_backup_older_than_the_longest_gap_and_the_grace_is_at_risk_late():
    found = protection(last=NOW - timedelta(hours=24, minutes=31))
    assert (found.state, found.reason) == (Protection.AT_RISK, Reason.LATE)
    assert found.last_backup_at == NOW - timedelta(hours=24, minutes=31)


@pytest.mark.parametrize(
    ("spec", "reason"), [(None, Reason.NO_POLICY), (replace(DAILY, status="OFF"), Reason.POLICY_OFF)]
)
def test_no_policy_or_a_policy_off_is_unprotected_however_recent_the_backup(spec, reason):
    found = protection(spec, last=NOW - timedelta(minutes=5))
    assert (found.state, found.reason) == (Protection.UNPROTECTED, reason)


@pytest.mark.parametrize(
    ("failed", "verify_failed", "reason"),
    [(True, False, Reason.LAST_RUN_FAILED), (False, True, Reason.VERIFY_FAILED)],
)
def test_a_failed_latest_run_or_a_newest_backup_failing_verification_is_at_risk(
    failed, verify_failed, reason
):
    found = protection(last=NOW - timedelta(hours=1), failed=failed, verify_failed=verify_failed)
    assert (found.state, found.reason) == (Protection.AT_RISK, reason)


@pytest.mark.parametrize(
    ("since", "state"),
    [(NOW - timedelta(hours=3), Protection.PROTECTED), (NOW - timedelta(days=2), Protection.AT_RISK)],
)
def test_a_volume_without_backups_waits_for_its_first_run_then_is_late(since, state):
    assert protection(since=since).state == state


def test_a_volume_added_after_an_old_backup_counts_from_when_it_was_added():
    found = protection(last=NOW - timedelta(days=90), since=NOW - timedelta(hours=2))
    assert (found.state, found.reason) == (Protection.PROTECTED, Reason.FIRST_BACKUP_PENDING)


def test_nothing_known_is_at_risk():
    assert protection().state == Protection.AT_RISK


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        protection(last=NOW, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("spec", "gap"),
    [
        (DAILY, timedelta(days=1)),
        (WEEKLY, timedelta(days=7)),
        (replace(DAILY, start_hours=(1, 13)), timedelta(hours=12)),
        # Days 1, 4, ... 28 of a 30-day month, then the 1st: 3 days; after a 31st, only 1.
        (replace(DAILY, frequency=3), timedelta(days=3)),
        # A named zone runs at 02:00 local through both changes: 25 hours across the fall-back one.
        (BERLIN, timedelta(hours=25)),
    ],
)
def test_the_longest_gap_between_runs(spec, gap):
    assert longest_gap(spec, now=NOW) == gap


def test_a_named_zone_daily_backup_25_hours_old_after_the_autumn_change_is_still_protected():
    after_fallback = datetime(2027, 10, 31, 1, 10, tzinfo=UTC)  # 02:10 CET, the run at 02:00 CET is late
    last = datetime(2027, 10, 30, 0, 0, tzinfo=UTC)  # 02:00 CEST the day before
    assert protection(BERLIN, last=last, now=after_fallback).state == Protection.PROTECTED
    assert protection(DAILY, last=last, now=after_fallback).state == Protection.AT_RISK
