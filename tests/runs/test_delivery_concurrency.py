"""Workers racing over the outbox: each event is fanned out once and each delivery sent once."""

from datetime import UTC, datetime

import pytest

from policies import audit, events, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import Delivery
from policies.runs import notifications
from tests.helpers.concurrency import in_parallel
from tests.helpers.webhooks import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_four_workers_delivering_at_once_send_each_event_once(tenant):
    receiver = Receiver().start()
    try:
        body, _ = rules.parse_webhook_body(
            {"webhook": {"url": receiver.url, "events": ["backup.failed"]}}, allow_http=True
        )
        _, receiver.secret = webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())
        for number in range(12):
            events.emit("backup.failed", tenant.pk, occurred_at=T0, message=f"failure {number}")

        outcomes = in_parallel([lambda: notifications.deliver_all(now=T0)] * 4)

        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
        assert sum(outcomes) == 12
        ids = receiver.accepted_ids()
        assert len(ids) == len(set(ids)) == Delivery.objects.count() == 12
        assert Delivery.objects.filter(delivered_at=T0, attempts=1).count() == 12
    finally:
        receiver.stop()
