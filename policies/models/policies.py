"""Backup policies and their tags: what is stored of a policy, and the spec it reads back as."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from policies.domain.contract import limits, specs
from policies.domain.schedule import nextruns

from .accounts import Tenant


class BackupPolicy(models.Model):
    """A stored policy, always the canonical form of a :class:`specs.PolicySpec`."""

    class Status(models.TextChoices):
        ON = "ON", "On"
        OFF = "OFF", "Off"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=limits.NAME_MAX)
    # Canonical comma-joined UTC hours, in ascending local order: "22:00,00:00,02:00".
    start_time = models.CharField(max_length=24 * 6)
    frequency = models.PositiveSmallIntegerField(null=True, blank=True)
    # Local weekdays in week order, comma-joined: "SUN,WED". Empty when frequency is used.
    week_frequency = models.CharField(max_length=27, blank=True)
    retention_num = models.PositiveSmallIntegerField(null=True, blank=True)
    retention_day = models.PositiveIntegerField(null=True, blank=True)
    keep_first_of_month = models.BooleanField(default=False)
    status = models.CharField(max_length=3, choices=Status.choices, default=Status.ON)
    time_zone = models.CharField(max_length=9, blank=True)
    # An IANA zone name (our extension): the policy keeps its local times there; the scheduler
    # re-bases time_zone and start_time when the zone's offset changes.
    time_zone_name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # The next scheduled run (the core's next run), read by the scheduler: a tick selects only
    # the ON policies whose next_run_at has come. Null while the policy is OFF.
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "backup policies"
        constraints = [
            models.UniqueConstraint(Lower("name"), "tenant", name="uniq_policy_name_per_tenant_ci"),
            # Exactly one member of each pair is stored: what is read back is what runs.
            models.CheckConstraint(
                condition=(
                    models.Q(frequency__isnull=False, week_frequency="")
                    | (models.Q(frequency__isnull=True) & ~models.Q(week_frequency=""))
                ),
                name="policy_one_of_frequency_or_week",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(retention_num__isnull=False, retention_day__isnull=True)
                    | models.Q(retention_num__isnull=True, retention_day__isnull=False)
                ),
                name="policy_one_of_retention_num_or_day",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def fields_from_spec(cls, spec: specs.PolicySpec) -> dict:
        """Return the model field values that store ``spec`` (tags aside)."""
        return {
            "name": spec.name,
            "start_time": spec.start_time,
            "frequency": spec.frequency,
            "week_frequency": ",".join(spec.week_frequency or ()),
            "retention_num": spec.retention_num,
            "retention_day": spec.retention_day,
            "keep_first_of_month": spec.keep_first_of_month,
            "status": spec.status,
            "time_zone": spec.time_zone or "",
            "time_zone_name": spec.time_zone_name or "",
        }

    def to_spec(self, tags=None) -> specs.PolicySpec:
        """Return the stored policy as a spec; pass ``tags`` to avoid a query per policy."""
        if tags is None:
            tags = self.tags.all()
        values = {name: getattr(self, name) for name in self.SPEC_FIELDS}
        return self.spec_from_values(values, [(tag.key, tag.value) for tag in tags])

    def first_run_from(self, moment):
        """Return the policy's first run at or after ``moment`` (None while it is OFF): its next_run_at."""
        run = nextruns.next_run(self.to_spec(tags=()), start=moment)
        return None if run is None else run.utc

    # The stored fields a spec is read from (tags aside): what a read without instances selects.
    SPEC_FIELDS = (
        "name",
        "start_time",
        "frequency",
        "week_frequency",
        "retention_num",
        "retention_day",
        "keep_first_of_month",
        "status",
        "time_zone",
        "time_zone_name",
    )

    @staticmethod
    def spec_from_values(values, tags) -> specs.PolicySpec:
        """Return the spec stored in ``values`` (a row of :attr:`SPEC_FIELDS`) and ``(key, value)`` tags."""
        return specs.PolicySpec(
            name=values["name"],
            start_hours=tuple(int(part[:2]) for part in values["start_time"].split(",")),
            status=values["status"],
            frequency=values["frequency"],
            week_frequency=tuple(values["week_frequency"].split(",")) if values["week_frequency"] else None,
            retention_num=values["retention_num"],
            retention_day=values["retention_day"],
            keep_first_of_month=values["keep_first_of_month"],
            time_zone=values["time_zone"] or None,
            time_zone_name=values["time_zone_name"] or None,
            tags=tuple(specs.Tag(key, value) for key, value in tags),
        )


class PolicyTag(models.Model):
    policy = models.ForeignKey(BackupPolicy, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=limits.TAG_KEY_MAX)
    value = models.CharField(max_length=limits.TAG_VALUE_MAX, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        # Keys are case-sensitive (the contract), so no Lower() here.
        constraints = [models.UniqueConstraint(fields=["policy", "key"], name="uniq_tag_key_per_policy")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
