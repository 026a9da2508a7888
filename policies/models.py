"""Tenants, their backup policies and tags, and hashed API tokens.

The models hold what is stored and the database constraints; every contract rule is checked
before a row is written, in the core (``policies.domain``), and every write goes through
``policies.services``.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from policies.domain.contract import limits, specs

project_id_validator = RegexValidator(
    r"\A[A-Za-z0-9_-]{1,64}\Z", "A project ID is 1 to 64 letters, digits, '-' or '_'."
)


class Tenant(models.Model):
    """A cloud project: the owner of up to ten backup policies."""

    project_id = models.CharField(max_length=64, unique=True, validators=[project_id_validator])
    name = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="tenants")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["project_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.project_id})" if self.name else self.project_id


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"


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


def hash_token(raw: str) -> str:
    """Return the stored digest of a raw API token.

    Tokens are 256 random bits, so a fast hash is enough: there is nothing to guess. The raw
    token is never stored and is shown once, when issued.
    """
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The first characters, to recognise it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEvent(models.Model):
    """One write, recorded in its own transaction: a policy or its tags created, changed or
    deleted, or an API token issued or revoked.

    Copies of the names (user, token prefix, project, policy) keep the record readable after the
    user, token, tenant or policy is gone. For a token issued or revoked, ``token`` and
    ``token_prefix`` name that token, and the policy fields are empty.
    """

    class Entrance(models.TextChoices):
        API = "api", "API"
        DASHBOARD = "dashboard", "Dashboard"
        ADMIN = "admin", "Admin site"
        COMMAND = "command", "Management command"
        SCHEDULER = "scheduler", "Scheduler (re-base of a named zone)"

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        CHANGE = "change", "Change"
        DELETE = "delete", "Delete"
        ASSOCIATE = "associate", "Associate volumes"
        DISASSOCIATE = "disassociate", "Disassociate volumes"
        EXECUTE = "execute", "Execute now"
        TOKEN_ISSUE = "issue", "Issue API token"
        TOKEN_REVOKE = "revoke", "Revoke API token"

    at = models.DateTimeField(default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_prefix = models.CharField(max_length=12, blank=True)
    entrance = models.CharField(max_length=10, choices=Entrance.choices)
    action = models.CharField(max_length=12, choices=Action.choices)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    project_id = models.CharField(max_length=64, blank=True)
    policy_id = models.UUIDField(null=True, blank=True)
    policy_name = models.CharField(max_length=limits.NAME_MAX, blank=True)
    # {"<JSON path of the field>": {"before": ..., "after": ...}} for each field that changed.
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-at"]),
            models.Index(fields=["policy_id", "-at"]),
        ]

    def __str__(self) -> str:
        if self.policy_id is None:
            return f"{self.get_action_display()} {self.token_prefix}… by {self.username or 'nobody'} ({self.entrance})"
        return (
            f"{self.get_action_display()} {self.policy_name} by {self.username or 'nobody'} ({self.entrance})"
        )


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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="backups")
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
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["policy", "volume", "taken_at"])]

    def __str__(self) -> str:
        return self.name


class HealthCheck(models.Model):
    """One row that ``GET /healthz`` rewrites: proof that the database takes writes, without growing it."""

    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"health check written at {self.checked_at}"
