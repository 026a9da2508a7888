"""The re-base of named zones: before a zone's offset change moves a run, the stored offset follows.

Each re-base is one audited change (entrance ``scheduler``), under the locks of every write.
"""

import logging

from django.db import transaction
from django.utils import timezone

from policies.domain.schedule import localtimes

from .audit import Actor
from .audit import record_change as _record
from .models import AuditEvent, BackupPolicy
from .services import PolicyNotFound, lock_policy

logger = logging.getLogger(__name__)


def policy_rebase(*, policy: BackupPolicy, now) -> bool:
    """Re-base one policy with a named zone if its zone's offset at its next run is not the stored one.

    Under the same locks as every write (tenant, then policy), read again under them: a second
    scheduler that comes after the first finds nothing to do. One audited change, entrance
    ``scheduler``. Return True when this call re-based the policy.
    """
    with transaction.atomic():
        try:
            current = lock_policy(policy)
        except PolicyNotFound:
            return False  # deleted meanwhile
        before = current.to_spec()
        after = localtimes.rebase(before, now=now)
        if after is None:
            return False
        fields = BackupPolicy.fields_from_spec(after)
        current.time_zone, current.start_time = fields["time_zone"], fields["start_time"]
        current.save(update_fields=["time_zone", "start_time", "updated_at"])
        _record(Actor.scheduler(), AuditEvent.Action.CHANGE, current, before, after)
    logger.info(
        "policy %s re-based for %s: %s %s -> %s %s",
        current.pk,
        before.time_zone_name,
        before.time_zone,
        before.start_time,
        after.time_zone,
        after.start_time,
    )
    return True


def policies_rebase_zones(*, now=None) -> int:
    """Re-base every policy whose named zone's offset changes before its next run; return how many.

    Called on each scheduler tick and by ``manage.py rebase_zones``; safe to run from any number
    of schedulers at once.
    """
    now = now or timezone.now()
    count = 0
    for policy in _named_zone_policies():
        # A first look without locks: most ticks find nothing to do and take no lock at all.
        if localtimes.rebase(policy.to_spec(tags=()), now=now) is None:
            continue
        count += policy_rebase(policy=policy, now=now)
    return count


# Policies read at a time by the re-base's first look: bounded memory for any number of them.
READ_BATCH = 2000


def _named_zone_policies():
    """Every policy with a named zone, in batches of READ_BATCH by primary key.

    Plain reads, not ``iterator()``: on PostgreSQL that opens a server-side cursor (DECLARE,
    FETCH, CLOSE: three round trips, and WITH HOLD outside a transaction) on every tick, while
    the few batches here cost one query each.
    """
    named = BackupPolicy.objects.exclude(time_zone_name="").select_related("tenant").order_by("pk")
    after = None
    while True:
        batch = list((named if after is None else named.filter(pk__gt=after))[:READ_BATCH])
        yield from batch
        if len(batch) < READ_BATCH:
            return
        after = batch[-1].pk
