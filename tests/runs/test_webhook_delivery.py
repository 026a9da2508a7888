"""Events delivered: signed webhooks to a real receiver on 127.0.0.1, retried through an outage, e-mail.

The delivery clock is ``now``: an outage of ten minutes, or a day of retries, passes in a second.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from policies import audit, events, webhooks
from policies.domain.contract import webhooks as rules
from policies.models import Delivery, EmailRecipient, Event, Volume
from policies.runs import notifications
from tests.helpers.webhooks import Receiver, stub_resolver

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALL = list(rules.EVENT_TYPES)


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def add_endpoint(tenant, receiver, event_types=ALL):
    body, problems = rules.parse_webhook_body(
        {"webhook": {"url": receiver.url, "events": event_types}}, allow_http=True
    )
    assert not problems
    endpoint, secret = webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())
    receiver.secret = secret
    return endpoint


def failed(tenant, at=T0, **details):
    return events.emit("backup.failed", tenant.pk, occurred_at=at, policy_name="nightly", **details)


def test_an_event_is_delivered_signed_and_its_answer_recorded(tenant, receiver):
    add_endpoint(tenant, receiver)
    event = failed(tenant, message="the disk is full")

    assert notifications.deliver_all(now=T0) == 1

    [got] = receiver.got
    assert got.error == ""
    assert got.verified == event.payload()
    assert got.verified["data"]["message"] == "the disk is full"
    delivery = Delivery.objects.get()
    assert got.headers["webhook-id"] == delivery.webhook_id
    assert (delivery.delivered_at, delivery.attempts, delivery.last_status_code) == (T0, 1, 200)
    assert delivery.last_response == '{"ok": true}'
    event.refresh_from_db()
    assert event.dispatched_at == T0


def test_an_endpoint_hears_only_the_events_it_subscribed_to(tenant, receiver):
    add_endpoint(tenant, receiver, ["run.missed"])
    failed(tenant)
    notifications.deliver_all(now=T0)
    assert receiver.got == []
    assert not Delivery.objects.exists()
    assert Event.objects.get().dispatched_at == T0


def test_a_second_fan_out_writes_no_second_delivery(tenant, receiver):
    endpoint = add_endpoint(tenant, receiver)
    event = failed(tenant)
    assert notifications.fan_out(now=T0) == 1
    assert notifications.fan_out(now=T0) == 0
    # Even an event fanned out again (a worker that lost its commit, say) doubles nothing.
    Event.objects.update(dispatched_at=None)
    assert notifications.fan_out(now=T0) == 1
    assert list(Delivery.objects.values_list("event_id", "endpoint_id")) == [(event.pk, endpoint.pk)]


def test_a_ping_goes_to_the_endpoint_tested_only(tenant, receiver):
    other = Receiver().start()
    try:
        tested = add_endpoint(tenant, receiver)
        add_endpoint(tenant, other)
        EmailRecipient.objects.create(tenant=tenant, address="ops@example.com", events=ALL)
        webhooks.webhook_ping(endpoint=tested)
        notifications.deliver_all(now=T0)
        assert [p["type"] for p in receiver.payloads()] == ["ping"]
        assert other.got == []
        assert Delivery.objects.count() == 1
    finally:
        other.stop()


@pytest.mark.parametrize("down", ["answering 503", "refusing connections"])
def test_the_receiver_down_ten_minutes_gets_every_event_once_after_it_returns(tenant, receiver, down):
    endpoint = add_endpoint(tenant, receiver)
    port = receiver.port
    if down == "answering 503":
        receiver.status = 503
    else:
        receiver.stop()
    # Ten simulated minutes of outage, an event every two minutes, a worker pass every 30 s.
    now, during = T0, []
    while now < T0 + timedelta(minutes=10):
        if (now - T0) % timedelta(minutes=2) == timedelta(0):
            during.append(failed(tenant, at=now, message=f"at {now:%H:%M}"))
        notifications.deliver_all(now=now)
        now += timedelta(seconds=30)
    assert receiver.accepted_ids() == []
    assert not Delivery.objects.filter(delivered_at__isnull=False).exists()

    if down == "answering 503":
        receiver.status = 200
    else:
        receiver = Receiver(port=port, secret=receiver.secret).start()
    try:
        while Delivery.objects.filter(delivered_at__isnull=True).exists() and now < T0 + timedelta(hours=2):
            notifications.deliver_all(now=now)
            now += timedelta(seconds=30)
        deliveries = {d.webhook_id: d for d in Delivery.objects.filter(endpoint=endpoint)}
        assert len(deliveries) == len(during) == 5
        accepted = receiver.accepted_ids()
        assert sorted(accepted) == sorted(deliveries), "each event delivered exactly once"
        assert all(d.delivered_at and d.gave_up_at is None for d in deliveries.values())
        assert {p["data"]["id"] for p in receiver.payloads()} == {str(e.pk) for e in during}
        # Every try of one event to the endpoint carried the same webhook-id.
        assert {r.headers["webhook-id"] for r in receiver.got} <= set(deliveries)
    finally:
        receiver.stop()


def test_a_delivery_is_retried_on_the_schedule_for_over_a_day_then_given_up(tenant, receiver):
    receiver.status = 500
    add_endpoint(tenant, receiver)
    failed(tenant)
    now = T0
    notifications.deliver_all(now=now)
    delivery = Delivery.objects.get()
    while delivery.next_attempt_at is not None:
        now = delivery.next_attempt_at
        notifications.deliver_all(now=now)
        delivery.refresh_from_db()

    assert delivery.attempts == rules.MAX_ATTEMPTS == len(receiver.got)
    assert delivery.gave_up_at == now
    assert now - T0 >= timedelta(hours=24)
    assert delivery.delivered_at is None
    assert (delivery.last_status_code, delivery.last_error) == (500, "")  # the code says it once
    assert {r.headers["webhook-id"] for r in receiver.got} == {delivery.webhook_id}
    assert all(r.verified is not None for r in receiver.got), "each try signed afresh"


def test_a_redirect_is_not_followed_and_counts_as_a_failure(tenant, receiver):
    target = Receiver().start()
    try:
        receiver.status, receiver.location = 307, target.url
        add_endpoint(tenant, receiver)
        failed(tenant)
        notifications.deliver_all(now=T0)
        assert target.got == []
        delivery = Delivery.objects.get()
        assert (delivery.last_status_code, delivery.delivered_at) == (307, None)
        assert delivery.next_attempt_at == T0 + timedelta(seconds=rules.RETRY_DELAYS[0])
    finally:
        target.stop()


def test_only_the_start_of_a_long_answer_is_kept(tenant, receiver):
    receiver.answer = b"x" * 100_000
    add_endpoint(tenant, receiver)
    failed(tenant)
    notifications.deliver_all(now=T0)
    assert Delivery.objects.get().last_response == "x" * 500


def test_an_endpoint_that_does_not_answer_in_time_is_retried(tenant, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.hold = threading.Event()
    add_endpoint(tenant, receiver)
    failed(tenant)
    notifications.deliver_all(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.last_error == "no answer within 1 s"
    assert delivery.next_attempt_at == T0 + timedelta(seconds=5)


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_sent(tenant, receiver, settings):
    endpoint = add_endpoint(tenant, receiver)
    endpoint.url = f"http://hooks.example.com:{receiver.port}/in"
    endpoint.save()
    failed(tenant)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    # Public when it was added, loopback now (DNS rebinding): refused, never connected to.
    notifications.deliver_all(now=T0, resolve=stub_resolver({"hooks.example.com": ["127.0.0.1"]}))
    assert receiver.got == []
    delivery = Delivery.objects.get()
    assert delivery.last_error == "not sent: hooks.example.com resolves to 127.0.0.1, a loopback address"
    assert delivery.delivered_at is None


def test_a_delivery_connects_to_the_address_checked_with_the_urls_host(tenant, receiver):
    endpoint = add_endpoint(tenant, receiver)
    endpoint.url = f"http://hooks.example.com:{receiver.port}/in"
    endpoint.save()
    failed(tenant)
    resolver = stub_resolver({"hooks.example.com": ["127.0.0.1"]})
    notifications.deliver_all(now=T0, resolve=resolver)
    assert resolver.asked == ["hooks.example.com"]
    [got] = receiver.got
    assert got.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert got.verified is not None


def test_a_try_whose_lease_passed_to_another_worker_settles_nothing(tenant, receiver):
    add_endpoint(tenant, receiver)
    failed(tenant)
    notifications.fan_out(now=T0)
    first, first_token = notifications.claim_one(T0)
    later = first.leased_until + timedelta(seconds=1)
    second, second_token = notifications.claim_one(later)
    assert second.pk == first.pk
    assert second.attempts == 2
    notifications.settle(second, second_token, notifications.webhook_http.Answer(status=204), later)
    # The first worker, back from a long pause, reports a failure: its lease is gone.
    notifications.settle(first, first_token, notifications.webhook_http.Answer(status=500), later)
    delivery = Delivery.objects.get()
    assert (delivery.delivered_at, delivery.last_status_code) == (later, 204)


def test_each_recipient_gets_one_email_per_event_with_a_clear_subject(tenant, mailoutbox):
    volume = Volume.objects.create(tenant=tenant, name="db.img")
    webhooks.recipient_add(
        tenant=tenant, address="ops@example.com", chosen=("backup.failed",), actor=audit.Actor.command()
    )
    webhooks.recipient_add(
        tenant=tenant, address="dev@example.com", chosen=("run.missed",), actor=audit.Actor.command()
    )
    failed(tenant, volume_id=volume.resource_id, message="the disk is full")

    notifications.deliver_all(now=T0)
    notifications.deliver_all(now=T0 + timedelta(minutes=1))

    [mail] = mailoutbox
    assert mail.to == ["ops@example.com"]
    assert mail.subject == "[Backup Policy Console] backup failed: nightly / db.img"
    assert "the disk is full" in mail.body
    assert Delivery.objects.get().delivered_at == T0


def test_the_event_types_are_the_outbox_types_but_ping():
    assert set(rules.EVENT_TYPES) | {rules.PING} == set(Event.Type.values)
