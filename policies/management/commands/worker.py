"""Run backups: the django-tasks-db worker, with the scheduler (and the volume sync) beside it."""

import logging
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from policies import runs, volumes

logger = logging.getLogger("policies.worker")


class Scheduler(threading.Thread):
    """Tick every few seconds (due runs, stale tasks), and refresh the volume inventory now and then."""

    def __init__(self, *, tick_seconds: float, sync_seconds: float) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.tick_seconds, self.sync_seconds = tick_seconds, sync_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        next_sync = 0.0
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    if time.monotonic() >= next_sync:
                        volumes.volumes_sync_all()
                        next_sync = time.monotonic() + self.sync_seconds
                    result = runs.scheduler_tick()
                    if result.queued or result.skipped or result.swept:
                        logger.info(
                            "tick: %d task(s) queued, %d skipped, %d taken back from dead workers",
                            result.queued,
                            result.skipped,
                            result.swept,
                        )
                except Exception:  # a bad tick must not stop the next one
                    logger.exception("scheduler tick failed")
                self.stopping.wait(self.tick_seconds)
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Run one worker (django-tasks-db) and, unless --no-scheduler, the scheduler beside it."

    def add_arguments(self, parser):
        parser.add_argument("--no-scheduler", action="store_true", help="Only execute tasks.")
        parser.add_argument("--tick-seconds", type=float, default=settings.SCHEDULER_TICK_SECONDS)
        parser.add_argument("--sync-seconds", type=float, default=settings.VOLUME_SYNC_SECONDS)
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between polls of an empty queue."
        )
        parser.add_argument("--worker-id", default=None)
        parser.add_argument(
            "--batch", action="store_true", help="Run what is queued, then stop (tests, cron)."
        )

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        scheduler = None
        if not options["no_scheduler"]:
            scheduler = Scheduler(tick_seconds=options["tick_seconds"], sync_seconds=options["sync_seconds"])
            scheduler.start()
        worker = Worker(
            queue_names=["default"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=options["worker_id"] or get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            if scheduler is not None:
                scheduler.stopping.set()
                scheduler.join(timeout=10)
