"""The events outbox delivered: fanned out to a project's webhooks and e-mail recipients, then sent and retried.

Two steps, each safe under any number of workers:

- ``fan_out`` claims undispatched events with SKIP LOCKED and, in the same transaction, writes one
  ``Delivery`` per (event, endpoint) and (event, recipient) and marks the events dispatched; the
  unique constraints make a second fan-out of one event write nothing.
- ``send_due`` claims one due delivery at a time under a lease (``leased_until`` and its own
  ``lease_token``; the try is counted then), sends it outside any transaction, and settles it
  only if the lease is still its own. A worker killed mid-send leaves the lease to expire; the
  delivery is then sent again, with the same ``webhook-id``.

``prune_events`` deletes, a bounded batch at a time, the dispatched events older than
``EVENTS_KEEP_DAYS`` whose deliveries are all finished (delivered or given up), with those
deliveries: an event not yet fanned out, or with a try still to come, is never deleted.

Every function takes ``now``, the delivery clock: what is due and when to try again. The
``webhook-timestamp`` of a try is the wall clock, as a receiver checks it against its own.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from policies.domain.contract import webhooks as rules
from policies.domain.event_words import event_subject, event_words
from policies.models import Delivery, EmailRecipient, Event, Volume, WebhookEndpoint

from . import webhook_http

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 200
PRUNE_BATCH = 500


def fan_out(*, now: datetime | None = None) -> int:
    """Write the deliveries of undispatched events; return how many events were dispatched."""
    now = now or timezone.now()
    # Looked at first without a transaction: on SQLite each one takes the write lock.
    if not Event.objects.filter(dispatched_at__isnull=True).exists():
        return 0
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(dispatched_at__isnull=True)
            .order_by("occurred_at", "id")[:FAN_OUT_BATCH]
        )
        if not events:
            return 0
        tenant_ids = {event.tenant_id for event in events}
        endpoints: dict[int, list[WebhookEndpoint]] = defaultdict(list)
        for endpoint in WebhookEndpoint.objects.filter(tenant_id__in=tenant_ids):
            endpoints[endpoint.tenant_id].append(endpoint)
        recipients: dict[int, list[EmailRecipient]] = defaultdict(list)
        for recipient in EmailRecipient.objects.filter(tenant_id__in=tenant_ids):
            recipients[recipient.tenant_id].append(recipient)
        rows = []
        for event in events:
            new = {"tenant_id": event.tenant_id, "event": event, "created_at": now, "next_attempt_at": now}
            if event.type == rules.PING:
                # A test goes to the endpoint tested, and to nothing else.
                tested = str(event.details.get("webhook_id", ""))
                rows += [
                    Delivery(endpoint=e, **new) for e in endpoints[event.tenant_id] if str(e.pk) == tested
                ]
                continue
            rows += [
                Delivery(endpoint=e, **new) for e in endpoints[event.tenant_id] if event.type in e.events
            ]
            rows += [
                Delivery(recipient=r, **new) for r in recipients[event.tenant_id] if event.type in r.events
            ]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(dispatched_at=now)
    return len(events)


def claim_one(now: datetime) -> tuple[Delivery, uuid.UUID] | None:
    """Lease the next due delivery to this worker, counting its try; None when nothing is due."""
    token = uuid.uuid4()
    due = Q(next_attempt_at__lte=now) & (Q(leased_until__isnull=True) | Q(leased_until__lte=now))
    if not Delivery.objects.filter(due).exists():
        return None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.leased_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.lease_token = token
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempts", "leased_until", "lease_token", "last_attempt_at"])
    return delivery, token


def send_due(*, now: datetime | None = None, limit: int = 50, resolve=None) -> int:
    """Send up to ``limit`` due deliveries, one at a time; return how many were tried.

    Without ``now``, each claim and its outcome read the clock afresh: a pass of slow endpoints
    must not date its last deliveries to when it began.
    """
    tried = 0
    while tried < limit:
        at = now or timezone.now()
        claimed = claim_one(at)
        if claimed is None:
            break
        delivery, token = claimed
        tried += 1
        try:
            answer = _send(delivery, resolve=resolve)
        except Exception as exc:  # one bad delivery must not stop the others
            logger.exception("delivery %s failed unexpectedly", delivery.pk)
            answer = webhook_http.Answer(error=f"not sent: {exc.__class__.__name__}")
        settle(delivery, token, answer, now or timezone.now())
    return tried


def deliver_all(*, now: datetime | None = None, resolve=None) -> int:
    """Fan out, then send everything due (at ``now``, or as the clock goes): one pass of the loop."""
    while fan_out(now=now):
        pass
    tried = 0
    while sent := send_due(now=now, resolve=resolve):
        tried += sent
    return tried


def _send(delivery: Delivery, *, resolve=None) -> webhook_http.Answer:
    event = Event.objects.select_related("tenant").get(pk=delivery.event_id)
    if delivery.endpoint_id is not None:
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        return _send_webhook(delivery, event, endpoint, resolve=resolve)
    recipient = EmailRecipient.objects.get(pk=delivery.recipient_id)
    return _send_email(event, recipient)


def signed_headers(secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one try: its id, its time and the signature of both with the body."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }


def _send_webhook(delivery, event, endpoint, *, resolve=None) -> webhook_http.Answer:
    target, problems = rules.parse_url(endpoint.url, allow_http=settings.WEBHOOK_ALLOW_HTTP)
    if target is None:
        return webhook_http.Answer(error=f"not sent: {problems[0].detail}")
    body = json.dumps(event.payload(), separators=(",", ":"), sort_keys=True)
    headers = signed_headers(endpoint.secret, delivery.webhook_id, body, timezone.now())
    return webhook_http.post(target, body.encode(), headers, resolve=resolve)


def _send_email(event: Event, recipient: EmailRecipient) -> webhook_http.Answer:
    details = dict(event.details)
    if event.volume_id and not details.get("volume_name"):
        details["volume_name"] = (
            Volume.objects.filter(tenant_id=event.tenant_id, resource_id=event.volume_id)
            .values_list("name", flat=True)
            .first()
            or ""
        )
    send_mail(
        event_subject(event.type, details),
        email_text(event, details),
        settings.DEFAULT_FROM_EMAIL,
        [recipient.address],
    )
    return webhook_http.Answer(status=250)


def email_text(event: Event, details: dict) -> str:
    """The body of an event's e-mail: what happened, when, of what, and the event's ID."""
    lines = [
        f"{event_words(event.type).capitalize()} in project {event.tenant.project_id}.",
        "",
        f"When: {event.occurred_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    shown = (
        ("Policy", "policy_name"),
        ("Volume", "volume_name"),
        ("Backup", "backup_name"),
        ("Message", "message"),
    )
    lines += [f"{label}: {details[key]}" for label, key in shown if details.get(key)]
    lines += ["", f"Event ID: {event.pk}"]
    return "\n".join(lines) + "\n"


def settle(delivery: Delivery, token: uuid.UUID, answer: webhook_http.Answer, now: datetime) -> None:
    """Record the try's outcome, only while the lease is still this worker's."""
    fields: dict = {
        "leased_until": None,
        "lease_token": None,
        "last_status_code": answer.status,
        "last_error": answer.error[:500],
        "last_response": answer.excerpt[:500],
    }
    if answer.ok:
        fields.update(delivered_at=now, next_attempt_at=None)
    else:
        # An answer is its status code (shown beside the excerpt): last_error holds only a try
        # that got none (refused, timed out, not sent).
        delay = rules.retry_delay(delivery.attempts)
        if delay is None:
            fields.update(gave_up_at=now, next_attempt_at=None)
        else:
            fields["next_attempt_at"] = now + timedelta(seconds=delay)
        logger.warning(
            "delivery %s, try %d: %s; %s",
            delivery.pk,
            delivery.attempts,
            answer.error or f"answered {answer.status}",
            "given up" if delay is None else f"next try in {delay} s",
        )
    Delivery.objects.filter(pk=delivery.pk, lease_token=token).update(**fields)


def prune_events(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Delete up to ``limit`` (PRUNE_BATCH) finished events older than ``EVENTS_KEEP_DAYS``; return how many."""
    limit = limit or PRUNE_BATCH
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_KEEP_DAYS)
    unfinished = Delivery.objects.filter(
        event=OuterRef("pk"), delivered_at__isnull=True, gave_up_at__isnull=True
    )
    with transaction.atomic():
        # SKIP LOCKED: rows another worker holds are left to the next pass. Only a fan-out makes
        # deliveries, and only of events not yet dispatched: none of these gets a new one.
        ids = list(
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(dispatched_at__isnull=False, dispatched_at__lt=cutoff)
            .filter(~Exists(unfinished))
            .order_by("dispatched_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Event.objects.filter(pk__in=ids).delete()  # its deliveries with it (CASCADE)
    return len(ids)


class DeliveryLoop(threading.Thread):
    """The worker's delivery thread: fan out and send every few seconds, beside the scheduler.

    Its own thread, so that a slow endpoint (up to its timeout) never delays a scheduler tick.
    """

    def __init__(self, *, poll_seconds: float) -> None:
        super().__init__(name="deliveries", daemon=True)
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                    deliver_all()
                except Exception:  # a database outage, say: the next pass tries again
                    logger.exception("delivering events failed")
                    connection.close()
                self.stopping.wait(self.poll_seconds)
        finally:
            connection.close()
