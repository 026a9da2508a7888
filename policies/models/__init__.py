"""The models: what is stored and the database constraints, one module per topic.

Every contract rule is checked before a row is written, in the core (``policies.domain``), and every
write goes through the services. Django finds the models of an app in its ``models`` module, so
each is imported here.
"""

from .accounts import ApiToken, Membership, Tenant, hash_token, project_id_validator
from .audit import AuditEvent
from .events import Event
from .health import HealthCheck, SchedulerHeartbeat
from .policies import BackupPolicy, PolicyTag
from .runs import Backup, BackupTask, Restore, Volume
from .webhooks import Delivery, EmailRecipient, WebhookEndpoint

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Backup",
    "BackupPolicy",
    "BackupTask",
    "Delivery",
    "EmailRecipient",
    "Event",
    "HealthCheck",
    "Membership",
    "PolicyTag",
    "Restore",
    "SchedulerHeartbeat",
    "Tenant",
    "Volume",
    "WebhookEndpoint",
    "hash_token",
    "project_id_validator",
]
