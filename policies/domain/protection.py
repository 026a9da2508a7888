"""Whether a volume is protected: one rule for the API, the dashboard and the admin.

A volume is **protected** while its last good backup is no older than its policy's longest gap
between runs plus the grace; **at risk** when it is late, its latest run failed, or its newest
backup failed verification; **unprotected** with no policy or a policy that is OFF. The clock
of a volume that came under its policy after its last backup starts when it came under it. Callers pass ``now`` and the facts they read; nothing here reads the clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from policies.domain.contract.specs import PolicySpec
from policies.domain.schedule.gaps import longest_gap
from policies.domain.schedule.timeline import require_aware


class Protection(enum.StrEnum):
    PROTECTED = "protected"
    AT_RISK = "at_risk"
    UNPROTECTED = "unprotected"


class Reason(enum.StrEnum):
    """Why a volume is in its state: each entrance words it for its own reader."""

    BACKED_UP = "backed_up"
    FIRST_BACKUP_PENDING = "first_backup_pending"
    LATE = "late"
    LAST_RUN_FAILED = "last_run_failed"
    VERIFY_FAILED = "verify_failed"
    NO_POLICY = "no_policy"
    POLICY_OFF = "policy_off"


@dataclass(frozen=True)
class VolumeFacts:
    """What the database says of one volume, read in bulk by the caller."""

    spec: PolicySpec | None  # its policy's, or None without one
    policy_since: datetime | None  # when it came under that policy (None: not known)
    last_good_backup_at: datetime | None
    latest_task_failed: bool = False
    newest_backup_failed_verification: bool = False


@dataclass(frozen=True)
class VolumeProtection:
    state: Protection
    reason: Reason
    last_backup_at: datetime | None
    # When it turns late if no backup comes (None: unprotected, or late already).
    due_by: datetime | None = None

    def age(self, now: datetime) -> timedelta | None:
        """How old its last good backup is at ``now``."""
        return None if self.last_backup_at is None else now - self.last_backup_at


def volume_protection(facts: VolumeFacts, *, now: datetime, grace: timedelta) -> VolumeProtection:
    """Return the volume's protection at ``now``, with why."""
    require_aware(now, "now")
    last = facts.last_good_backup_at
    if facts.spec is None:
        return VolumeProtection(Protection.UNPROTECTED, Reason.NO_POLICY, last)
    if not facts.spec.enabled:
        return VolumeProtection(Protection.UNPROTECTED, Reason.POLICY_OFF, last)
    if facts.newest_backup_failed_verification:
        return VolumeProtection(Protection.AT_RISK, Reason.VERIFY_FAILED, last)
    if facts.latest_task_failed:
        return VolumeProtection(Protection.AT_RISK, Reason.LAST_RUN_FAILED, last)
    # The clock starts at the newer of its last good backup and its coming under the policy: a
    # volume just added waits for its first run, not for a backup another policy made long ago.
    since = max((moment for moment in (last, facts.policy_since) if moment is not None), default=None)
    if since is None:
        return VolumeProtection(Protection.AT_RISK, Reason.LATE, last)
    due_by = since + longest_gap(facts.spec, now=now) + grace
    if now > due_by:
        return VolumeProtection(Protection.AT_RISK, Reason.LATE, last)
    reason = Reason.BACKED_UP if last is not None and since == last else Reason.FIRST_BACKUP_PENDING
    return VolumeProtection(Protection.PROTECTED, reason, last, due_by)
