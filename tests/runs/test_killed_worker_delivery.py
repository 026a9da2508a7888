"""A worker process killed mid-delivery: the delivery is sent again after its lease, with the same webhook-id."""

import signal
import threading
from datetime import timedelta

import pytest

from policies import audit, events, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import Delivery
from policies.runs import notifications
from tests.helpers.webhooks import Receiver
from tests.helpers.worker_process import start_worker, stop, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_delivery_loses_nothing(tenant):
    # The receiver holds the first request: the worker is killed while it waits for the answer.
    receiver = Receiver(hold=threading.Event()).start()
    try:
        body, _ = rules.parse_webhook_body(
            {"webhook": {"url": receiver.url, "events": ["backup.failed"]}}, allow_http=True
        )
        endpoint, receiver.secret = webhooks.webhook_create(
            tenant=tenant, body=body, actor=audit.Actor.command()
        )
        event = events.emit("backup.failed", tenant.pk, policy_name="nightly", message="disk full")

        worker = start_worker(
            "--no-scheduler", DELIVERY_POLL_SECONDS="1", WEBHOOK_ALLOW_PRIVATE="1", WEBHOOK_ALLOW_HTTP="1"
        )
        try:
            wait_until(receiver.arrived.is_set, what="the worker to send the delivery")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            stop(worker)
        receiver.hold = None
        receiver.hold_release()

        delivery = Delivery.objects.get()
        assert (delivery.event_id, delivery.endpoint_id) == (event.pk, endpoint.pk)
        assert delivery.attempts == 1
        assert delivery.delivered_at is None  # what the dead worker left: a try under its lease
        assert delivery.leased_until is not None

        # Before the lease passes, no other worker sends it; after, the next pass does.
        assert notifications.send_due(now=delivery.leased_until - timedelta(seconds=1)) == 0
        assert notifications.send_due(now=delivery.leased_until + timedelta(seconds=1)) == 1

        delivery.refresh_from_db()
        assert delivery.delivered_at is not None
        assert delivery.attempts == 2
        ids = [r.headers["webhook-id"] for r in receiver.got]
        assert ids == [delivery.webhook_id, delivery.webhook_id], "the duplicate carries the same webhook-id"
        assert all(r.verified == event.payload() for r in receiver.got)
    finally:
        receiver.stop()
