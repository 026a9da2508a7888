"""Backups made as the product makes them: a policy's run, or a manual backup, each executed in-process."""

from policies import audit, backups, volumes
from policies.domain.contract import backups as rules
from policies.models import Backup
from policies.runs import execution
from tests.helpers.runs import associate


def backed_up(policy, vols) -> list[Backup]:
    """Put the volumes in the policy and run it once ("Run now"): one backup of each, in volume order."""
    associate(policy, vols)
    for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command()):
        execution.execute_task(task.pk)
    return [Backup.objects.filter(task__volume=volume, policy=policy).latest("created_at") for volume in vols]


def manual_backup(tenant, volume, name: str = "") -> Backup:
    """A manual backup of one volume (as an API client's create), made at once."""
    body = rules.CreateBody(volume.resource_id, name, "")
    backup = backups.backup_create(tenant=tenant, body=body, actor=audit.Actor.command())
    execution.execute_task(backup.task_id)
    backup.refresh_from_db()
    return backup
