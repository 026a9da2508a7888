"""Old, finished events and their deliveries are pruned; an event with something still to do never is."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from policies import events
from policies.management.commands.worker import Scheduler
from policies.models import Delivery, EmailRecipient, Event
from policies.runs import notifications

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)  # past the default 30 days


def event(tenant, *, dispatched_at=OLD, deliveries=()):
    """An event dispatched at ``dispatched_at`` (None: not yet), with a delivery in each state given."""
    made = events.emit("backup.failed", tenant.pk, occurred_at=dispatched_at or OLD, policy_name="nightly")
    Event.objects.filter(pk=made.pk).update(dispatched_at=dispatched_at)
    for index, state in enumerate(deliveries):
        recipient = EmailRecipient.objects.create(
            tenant=tenant, address=f"{made.pk.hex[:8]}-{index}@example.com", events=["backup.failed"]
        )
        done = {
            "delivered": {"delivered_at": OLD},
            "gave up": {"gave_up_at": OLD},
            "retrying": {"attempts": 3, "next_attempt_at": NOW + timedelta(hours=1)},
        }[state]
        Delivery.objects.create(tenant=tenant, event=made, recipient=recipient, created_at=OLD, **done)
    return made


def left() -> set:
    return set(Event.objects.values_list("pk", flat=True))


def test_old_dispatched_events_with_finished_deliveries_go_with_their_deliveries(tenant):
    delivered = event(tenant, deliveries=["delivered", "gave up"])
    nobody = event(tenant)  # dispatched to no endpoint nor recipient
    undispatched = event(tenant, dispatched_at=None)
    retrying = event(tenant, deliveries=["delivered", "retrying"])
    recent = event(tenant, dispatched_at=NOW - timedelta(days=29), deliveries=["delivered"])

    assert notifications.prune_events(now=NOW) == 2

    assert left() == {undispatched.pk, retrying.pk, recent.pk}
    assert not Delivery.objects.filter(event_id__in=[delivered.pk, nobody.pk]).exists()
    assert Delivery.objects.count() == 3


def test_the_number_of_days_kept_is_a_setting(tenant, settings):
    settings.EVENTS_KEEP_DAYS = 60
    event(tenant, deliveries=["delivered"])
    assert notifications.prune_events(now=NOW) == 0
    settings.EVENTS_KEEP_DAYS = 7
    assert notifications.prune_events(now=NOW) == 1


def test_a_pass_prunes_a_bounded_batch_oldest_first(tenant):
    event(tenant, dispatched_at=OLD - timedelta(days=1))  # the older
    newer = event(tenant)
    assert notifications.prune_events(now=NOW, limit=1) == 1
    assert left() == {newer.pk}
    assert notifications.prune_events(now=NOW, limit=1) == 1
    assert left() == set()


def test_the_command_prunes_every_batch(tenant, monkeypatch):
    monkeypatch.setattr(notifications, "PRUNE_BATCH", 2)
    for _ in range(5):
        event(tenant, dispatched_at=datetime.now(UTC) - timedelta(days=40), deliveries=["delivered"])
    kept = event(tenant, dispatched_at=None)
    out = StringIO()
    call_command("prune_events", stdout=out)
    assert out.getvalue().strip() == "deleted 5 events"
    assert left() == {kept.pk}


def test_the_workers_scheduler_prunes_on_its_sync(tenant):
    gone = event(tenant, dispatched_at=datetime.now(UTC) - timedelta(days=40), deliveries=["gave up"])
    kept = event(tenant, dispatched_at=datetime.now(UTC) - timedelta(days=40), deliveries=["retrying"])
    assert Scheduler(tick_seconds=1, sync_seconds=300).step() is True
    assert gone.pk not in left()
    assert kept.pk in left()
