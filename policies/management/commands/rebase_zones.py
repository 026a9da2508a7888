from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from policies import zone_rebase


class Command(BaseCommand):
    help = (
        "Re-base the policies with a named time zone whose zone changes its offset before their next "
        "run (new time_zone and start_time, the same local times). The scheduler does this on every "
        "tick; this command is for a machine without one, or from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="the time to re-base at, ISO 8601 with its offset (default: now)",
        )

    def handle(self, *args, **options):
        now = None
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now {options['now']!r}: {exc}") from exc
            if now.tzinfo is None:
                raise CommandError("--now needs its offset, e.g. 2027-03-28T00:00:00+00:00")
        count = zone_rebase.policies_rebase_zones(now=now)
        self.stdout.write(f"re-based {count} {'policy' if count == 1 else 'policies'}")
