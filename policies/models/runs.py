"""Volumes, the backup tasks of their runs, and the backups those tasks made."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from policies.domain.contract import limits

from .accounts import Tenant
from .policies import BackupPolicy


class Volume(models.Model):
    """A block-storage volume of a tenant, as its provider lists it; protected by at most one policy."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        IN_USE = "in-use", "In use"
        ERROR = "error", "Error"
        DELETED = "deleted", "Deleted"

    # The statuses a backup can be made in (Cinder backs up available and in-use volumes).
    BACKUP_STATUSES = frozenset({Status.AVAILABLE, Status.IN_USE})

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="volumes")
    resource_id = models.UUIDField(default=uuid.uuid4)
    name = models.CharField(max_length=255, blank=True)
    size_gib = models.FloatField(default=0)
    status = models.CharField(max_length=16, default=Status.AVAILABLE)
    availability_zone = models.CharField(max_length=255, blank=True)
    host = models.CharField(
        max_length=255, blank=True, help_text="The host or pool, as the provider names it."
    )
    provider = models.CharField(max_length=32, default="local")
    # The provider's own handle of the volume (the local provider: the file name).
    locator = models.CharField(max_length=1024, blank=True)
    policy = models.ForeignKey(
        BackupPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="volumes"
    )
    # When it came under its policy: a volume just added is not late before its first run.
    policy_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "resource_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "resource_id"], name="uniq_volume_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name or str(self.resource_id)


class BackupTask(models.Model):
    """One backup of one volume for one run of a policy: made once, whatever runs at the same time."""

    class Status(models.TextChoices):
        WAITING = "WAITING", "Waiting"
        RUNNING = "RUNNING", "Running"
        EXECUTE_SUCCESS = "EXECUTE_SUCCESS", "Succeeded"
        EXECUTE_FAIL = "EXECUTE_FAIL", "Failed"
        EXECUTE_TIMEOUT = "EXECUTE_TIMEOUT", "Timed out"
        SKIP = "SKIP", "Skipped"

    ACTIVE = (Status.WAITING, Status.RUNNING)
    FINISHED = (Status.EXECUTE_SUCCESS, Status.EXECUTE_FAIL, Status.EXECUTE_TIMEOUT, Status.SKIP)

    job_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="backup_tasks")
    # Kept when the policy or the volume is deleted (the history stays), with copies of the names.
    policy = models.ForeignKey(
        BackupPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="backup_tasks"
    )
    policy_name = models.CharField(max_length=limits.NAME_MAX)
    volume = models.ForeignKey(Volume, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    resource_id = models.UUIDField()
    scheduled_at = models.DateTimeField()
    manual = models.BooleanField(default=False, help_text="Started by 'execute now', not by the schedule.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A RUNNING task whose lease has passed belongs to a worker that died: the sweep takes it back.
    lease_until = models.DateTimeField(null=True, blank=True)
    backup_name = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-job_id"]
        constraints = [
            # A run happens once: any number of schedulers may try to insert it.
            models.UniqueConstraint(fields=["policy", "volume", "scheduled_at"], name="uniq_task_per_run"),
        ]
        indexes = [
            models.Index(fields=["policy", "created_at"]),
            models.Index(fields=["status", "lease_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.backup_name} ({self.status})"


class Backup(models.Model):
    """A backup the provider holds. It outlives its policy (as the service's do) and can be restored."""

    class Status(models.TextChoices):
        CREATING = "creating", "Creating"
        AVAILABLE = "available", "Available"
        DELETING = "deleting", "Deleting"
        RESTORING = "restoring", "Restoring"
        ERROR = "error", "Error"

    class Verify(models.TextChoices):
        PENDING = "pending", "Pending"
        OK = "ok", "Verified"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="backups")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    description = models.CharField(max_length=255, blank=True)
    fail_reason = models.TextField(blank=True)
    verify_status = models.CharField(max_length=8, choices=Verify.choices, default=Verify.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)
    # While a worker verifies it: the claim (two schedulers never queue it twice) and its fencing
    # token; a worker that dies leaves it, and the backup is taken again once it has passed.
    verify_lease_until = models.DateTimeField(null=True, blank=True)
    policy = models.ForeignKey(
        BackupPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="backups"
    )
    policy_name = models.CharField(max_length=limits.NAME_MAX, blank=True)
    volume = models.ForeignKey(
        Volume, null=True, blank=True, on_delete=models.SET_NULL, related_name="backups"
    )
    resource_id = models.UUIDField()
    task = models.OneToOneField(
        BackupTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="backup"
    )
    name = models.CharField(max_length=64)
    provider = models.CharField(max_length=32)
    # The provider's handle: the local provider's file path, Cinder's backup ID.
    locator = models.CharField(max_length=1024)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # The instant the retention rule counts from: the run's scheduled instant.
    taken_at = models.DateTimeField()
    # Made by "execute now": retention never counts or deletes it (docs/operations.md, "Retention").
    manual = models.BooleanField(default=False)
    # The policy that made it, kept when that policy is deleted, and that policy's stored fields as
    # they stood then: what retains the backup once no policy holds its volume.
    origin_policy_id = models.UUIDField(null=True, blank=True, editable=False)
    retention = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [
            models.Index(fields=["policy", "volume", "taken_at"]),
            # The verifications due: pending ones by age, verified ones by when.
            models.Index(fields=["verify_status", "created_at"]),
            models.Index(fields=["verify_status", "verified_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def failed_verification(cls, at, reason: str) -> dict:
        """The changes that mark a backup whose bytes no longer match its digest: unusable, with why.

        Verification and a restore that finds the bytes changed both write them.
        """
        return {
            "status": cls.Status.ERROR,
            "verify_status": cls.Verify.FAILED,
            "verified_at": at,
            "fail_reason": reason[:2000],
        }


class Restore(models.Model):
    """One restore of a backup, into a new volume or over an existing one, run by the worker."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.WAITING, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="restores")
    # Kept when the backup is deleted afterwards (the history stays), with a copy of its name.
    backup = models.ForeignKey(
        Backup, null=True, blank=True, on_delete=models.SET_NULL, related_name="restores"
    )
    backup_name = models.CharField(max_length=64)
    # The target: an existing volume, or (new_volume) the volume the restore makes, once made.
    volume = models.ForeignKey(
        Volume, null=True, blank=True, on_delete=models.SET_NULL, related_name="restores"
    )
    volume_name = models.CharField(max_length=255)
    # The ID the new volume will have, when its provider knows it beforehand (answered at once).
    target_resource_id = models.UUIDField(null=True, blank=True)
    new_volume = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    message = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    entrance = models.CharField(max_length=10)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A RUNNING restore whose lease has passed belongs to a worker that died: the sweep takes it back.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"restore of {self.backup_name} to {self.volume_name} ({self.status})"
