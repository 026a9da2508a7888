"""Delete the old, finished events of the outbox with their deliveries (the worker does it too)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from policies.runs import notifications


class Command(BaseCommand):
    help = (
        f"Delete the dispatched events older than EVENTS_KEEP_DAYS (now {settings.EVENTS_KEEP_DAYS}) "
        "whose deliveries are all delivered or given up, with those deliveries. An event not yet "
        "dispatched, or with a delivery still to be tried, is kept. The worker does this on every sync."
    )

    def handle(self, *args, **options):
        pruned = 0
        # Batch after batch, each in its own short transaction, until nothing is left to prune.
        while batch := notifications.prune_events():
            pruned += batch
        self.stdout.write(f"deleted {pruned} {'event' if pruned == 1 else 'events'}")
