"""The audit trail: one record per change, with who made it and through which entrance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from policies.domain.contract import limits

from .accounts import ApiToken, Tenant


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
        BACKUP_CREATE = "backup", "Create a backup"
        BACKUP_DELETE = "delete_bk", "Delete a backup"
        RESTORE = "restore", "Restore a backup"
        WEBHOOK_ADD = "webhook_add", "Add a webhook"
        WEBHOOK_REMOVE = "webhook_del", "Remove a webhook"
        RECIPIENT_ADD = "email_add", "Add an e-mail recipient"
        RECIPIENT_REMOVE = "email_del", "Remove an e-mail recipient"

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

    # The actions whose record names what they concern in its one change (a backup, a webhook).
    NAMED_BY_CHANGES = (
        Action.BACKUP_CREATE,
        Action.BACKUP_DELETE,
        Action.RESTORE,
        Action.WEBHOOK_ADD,
        Action.WEBHOOK_REMOVE,
        Action.RECIPIENT_ADD,
        Action.RECIPIENT_REMOVE,
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-at"]),
            models.Index(fields=["policy_id", "-at"]),
        ]

    def __str__(self) -> str:
        if self.action in self.NAMED_BY_CHANGES:
            backup = next(
                (self.changes[k] for k in ("backup", "webhook", "recipient") if k in self.changes), {}
            )
            named = backup.get("after") or backup.get("before") or ""
            return f"{self.get_action_display()} {named} by {self.username or 'nobody'} ({self.entrance})"
        if self.policy_id is None:
            return f"{self.get_action_display()} {self.token_prefix}… by {self.username or 'nobody'} ({self.entrance})"
        return (
            f"{self.get_action_display()} {self.policy_name} by {self.username or 'nobody'} ({self.entrance})"
        )
