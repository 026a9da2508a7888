"""Who changed what: the ``Actor`` of every write and the audit records it leaves.

Each record is written in the caller's transaction, with each changed field before and after
(``domain.changes``). The services (``services``, ``accounts``, ``volumes``) record through here.
"""

from dataclasses import dataclass
from typing import Any

from policies.domain.contract import specs
from policies.domain.contract.changes import audit_changes

from .models import ApiToken, AuditEvent, BackupPolicy


@dataclass(frozen=True)
class Actor:
    """Who is writing, and through which entrance: what the audit trail records."""

    entrance: str
    user: Any = None
    token: ApiToken | None = None

    @classmethod
    def api(cls, user, token: ApiToken | None) -> "Actor":
        return cls(AuditEvent.Entrance.API, user, token)

    @classmethod
    def dashboard(cls, user) -> "Actor":
        return cls(AuditEvent.Entrance.DASHBOARD, user)

    @classmethod
    def admin(cls, user) -> "Actor":
        return cls(AuditEvent.Entrance.ADMIN, user)

    @classmethod
    def command(cls, user=None) -> "Actor":
        return cls(AuditEvent.Entrance.COMMAND, user)

    @classmethod
    def scheduler(cls) -> "Actor":
        return cls(AuditEvent.Entrance.SCHEDULER)


def record_change(
    actor: Actor,
    action: str,
    policy: BackupPolicy,
    before: specs.PolicySpec | None,
    after: specs.PolicySpec | None,
    changes: dict | None = None,
) -> AuditEvent | None:
    """Record the change from ``before`` to ``after`` (None: created, deleted); nothing if none."""
    # ``changes`` may be worked out before the transaction, to keep the locks short.
    if changes is None:
        changes = audit_changes(before, after)
    if not changes:
        return None
    return record_event(actor, action, policy, changes, name=(after or before).name)


def actor_fields(actor: Actor) -> dict:
    """The fields of an audit record that say who acted, and through which entrance."""
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    return {
        "user": user,
        "username": user.get_username() if user else "",
        "token": actor.token,
        "token_prefix": actor.token.prefix if actor.token else "",
        "entrance": actor.entrance,
    }


def record_event(
    actor: Actor, action: str, policy: BackupPolicy, changes: dict, name: str = ""
) -> AuditEvent:
    """Write one audit record of ``policy`` (its tenant loaded) in the caller's transaction."""
    return AuditEvent.objects.create(
        **actor_fields(actor),
        action=action,
        tenant_id=policy.tenant_id,
        project_id=policy.tenant.project_id,
        policy_id=policy.pk,
        policy_name=name or policy.name,
        changes=changes,
    )


def record_backup_event(actor: Actor, action: str, backup, changes: dict) -> AuditEvent:
    """Write one audit record of a backup (made, deleted, restored) in the caller's transaction.

    ``changes`` names the backup and the target; the policy fields name the backup's policy, if any.
    """
    return AuditEvent.objects.create(
        **actor_fields(actor),
        action=action,
        tenant_id=backup.tenant_id,
        project_id=backup.tenant.project_id,
        policy_id=backup.policy_id,
        policy_name=backup.policy_name,
        changes=changes,
    )


def record_project_event(actor: Actor, action: str, tenant, changes: dict) -> AuditEvent:
    """Write one audit record of a project's setting (a webhook, a recipient) in the caller's transaction."""
    return AuditEvent.objects.create(
        **actor_fields(actor),
        action=action,
        tenant_id=tenant.pk,
        project_id=tenant.project_id,
        changes=changes,
    )
