"""Names and leases of backup attempts: what one attempt owns, and how long it is trusted."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings


def backup_name_for(job_id: uuid.UUID) -> str:
    """Return the name of a task's backup: ``autobk_`` and a short unique suffix."""
    return f"autobk_{job_id.hex[:12]}"


def attempt_name(backup_name: str, attempt: int) -> str:
    """Return the provider-side name of one attempt of a task: what that attempt alone may delete."""
    return f"{backup_name}-{attempt}"


def lease_length() -> timedelta:
    """How long a RUNNING attempt is trusted before the sweep takes its task back."""
    return timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS + settings.BACKUP_LEASE_GRACE_SECONDS)
