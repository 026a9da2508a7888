"""The health check's row: written by each /healthz probe, to prove the database takes writes."""

from __future__ import annotations

from django.db import models


class HealthCheck(models.Model):
    """One row that ``GET /healthz`` rewrites: proof that the database takes writes, without growing it."""

    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"health check written at {self.checked_at}"


class SchedulerHeartbeat(models.Model):
    """One row each scheduler tick rewrites: when the last tick ran, so a stopped worker is visible."""

    ticked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"scheduler ticked at {self.ticked_at}"
