"""The trust checks announced: a failed verification and a missed run reach a webhook receiver, signed."""

from datetime import timedelta

import pytest

from policies import audit, volumes, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import Backup
from policies.runs import execution, notifications, scheduler, verify
from tests.helpers.runs import (
    MONDAY,
    associate,
    daily_policy,
    flip_one_byte,
    make_volumes,
    run_queued_verifications,
)
from tests.helpers.webhooks import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(tenant):
    running = Receiver().start()
    body, problems = rules.parse_webhook_body(
        {"webhook": {"url": running.url, "events": ["backup.verify_failed", "run.missed"]}}, allow_http=True
    )
    assert not problems
    _, running.secret = webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())
    yield running
    running.stop()


def test_one_flipped_byte_is_announced_as_backup_verify_failed_with_a_valid_signature(tenant, receiver):
    volume = make_volumes(tenant, {"db.img": b"D" * 50_000})[0]
    policy = daily_policy(tenant)
    associate(policy, [volume])
    [task] = volumes.policy_execute(policy=policy, actor=audit.Actor.command())
    execution.execute_task(task.pk)
    backup = Backup.objects.get(task=task)
    flip_one_byte(tenant.project_id)
    at = backup.created_at + timedelta(minutes=11)

    verify.queue_due_verifications(now=at)
    assert run_queued_verifications(now=at) == [verify.FAILED]
    assert notifications.deliver_all(now=at) == 1

    [got] = receiver.got
    assert got.error == ""  # the standardwebhooks package verified the signature
    assert got.verified["type"] == "backup.verify_failed"
    assert got.verified["data"]["backup_id"] == str(backup.pk)


def test_a_run_missed_while_workers_were_stopped_is_announced_when_one_returns(tenant, receiver):
    policy = daily_policy(tenant, now=MONDAY + timedelta(hours=1))  # next run 12:00
    associate(policy, make_volumes(tenant, {"db.img": b"d"}))
    back = MONDAY + timedelta(hours=14)

    scheduler.scheduler_tick(now=back)
    assert notifications.deliver_all(now=back) == 1

    [got] = receiver.got
    assert got.error == ""
    assert got.verified["type"] == "run.missed"
    assert got.verified["data"]["scheduled_at"] == (MONDAY + timedelta(hours=12)).isoformat()
    assert got.verified["data"]["policy_id"] == str(policy.pk)
