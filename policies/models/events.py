"""The events outbox: what happened to a project's backups, written with the change it describes."""

from __future__ import annotations

import uuid
from datetime import UTC

from django.db import models
from django.utils import timezone

from policies.domain.event_words import EVENT_WORDS

from .accounts import Tenant


class Event(models.Model):
    """One thing that happened (a backup failed, a run was missed, …), to be announced.

    It is written in the transaction of the change it describes, so an event exists exactly when
    its change does; the worker later fans it out to the project's webhooks and e-mail recipients.
    It names what it concerns by id, not by foreign key: it outlives the policy, volume or backup.
    """

    # The core's event types (``BACKUP_VERIFY_FAILED`` is "backup.verify_failed"), in its words.
    Type = models.TextChoices(
        "Type",
        [
            (event.upper().replace(".", "_"), (event, words.capitalize()))
            for event, words in EVENT_WORDS.items()
        ],
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=Type.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    policy_id = models.UUIDField(null=True, blank=True)
    volume_id = models.UUIDField(null=True, blank=True, help_text="The volume's resource_id.")
    backup_id = models.UUIDField(null=True, blank=True)
    task_id = models.UUIDField(null=True, blank=True, help_text="The backup task's job_id.")
    restore_id = models.UUIDField(null=True, blank=True)
    # What a person reads: the names and the message, copied when the event happens.
    details = models.JSONField(default=dict, blank=True)
    # Set once the worker has fanned the event out to the project's endpoints and recipients.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["dispatched_at", "occurred_at"]),
            models.Index(fields=["tenant", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M:%S} UTC"

    def payload(self) -> dict:
        """The event as announced: the Standard Webhooks shape (type, timestamp, data)."""
        data = {"id": str(self.id), "project_id": self.tenant.project_id}
        for field in ("policy_id", "volume_id", "backup_id", "task_id", "restore_id"):
            value = getattr(self, field)
            data[field] = str(value) if value is not None else None
        data.update(self.details)
        return {
            "type": self.type,
            "timestamp": self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": data,
        }
