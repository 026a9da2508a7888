"""Run backups: the django-tasks-db worker, with the scheduler (and the volume sync) beside it."""

import logging
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from policies.runs import database, inventory, notifications, retention, scheduler, verify

logger = logging.getLogger("policies.worker")


class Scheduler(threading.Thread):
    """Tick every few seconds (due runs, stale tasks), and refresh the volume inventory now and then.

    Nothing stops it but ``stopping``: a failed sync or tick is logged and the next one runs; while
    they keep failing (the database is down, say) the pause between tries doubles, up to a minute.
    """

    def __init__(self, *, tick_seconds: float, sync_seconds: float) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.tick_seconds, self.sync_seconds = tick_seconds, sync_seconds
        self.stopping = threading.Event()
        self.next_sync = 0.0
        self.failures = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                except Exception:  # closing a connection the database dropped may fail too
                    logger.exception("closing the scheduler's old database connection failed")
                self.failures = 0 if self.step() else self.failures + 1
                self.stopping.wait(self.pause())
        finally:
            connection.close()

    def pause(self) -> float:
        if not self.failures:
            return self.tick_seconds
        return min(self.tick_seconds * 2**self.failures, max(self.tick_seconds, 60.0))

    def step(self) -> bool:
        """One sync (when due) and one tick, each on its own: True when both went through."""
        ok = True
        if time.monotonic() >= self.next_sync:
            try:
                inventory.volumes_sync_all()
                retention.retain_orphaned_backups()
                # Each project's store at most once an hour, whatever the number of schedulers.
                retention.collect_hourly()
                self.next_sync = time.monotonic() + self.sync_seconds
            except Exception:  # a failed sync must not stop the tick
                ok = False
                self._failed("volume sync failed")
            try:
                # One bounded batch a sync: the outbox and its deliveries do not grow forever.
                notifications.prune_events()
            except Exception:
                ok = False
                self._failed("pruning old events failed")
        try:
            result = scheduler.scheduler_tick()
        except Exception:  # a bad tick must not stop the next one
            self._failed("scheduler tick failed")
            return False
        try:
            verify.queue_due_verifications()
        except Exception:  # a failed verification batch must not stop the ticks
            ok = False
            self._failed("queueing verifications failed")
        if result.queued or result.skipped or result.swept:
            logger.info(
                "tick: %d task(s) queued, %d skipped, %d taken back from dead workers",
                result.queued,
                result.skipped,
                result.swept,
            )
        return ok

    def _failed(self, what: str) -> None:
        logger.exception(what)
        if isinstance(sys.exc_info()[1], database.DATABASE_DOWN):
            # A connection the database dropped is useless: the next try opens a fresh one.
            connection.close()


def run_worker(worker: Worker, *, sleep=time.sleep) -> None:
    """Run django-tasks-db's worker loop; when the database goes away, wait with backoff and go on.

    The library's loop re-raises a database error (and ``run_task`` cannot record the entry it was
    running): left alone, every worker would exit on a database restart. The entry it held is
    closed by the sweep (``sweep.sweep_stale_tasks``), and its task is queued again.
    """
    pause = 1.0
    while True:
        started = time.monotonic()
        try:
            worker.run()
            return
        except database.DATABASE_DOWN as exc:
            if not worker.running:
                return
            if time.monotonic() - started > 60:
                pause = 1.0  # a new outage after a good while: start the backoff again
            logger.warning("database unreachable (%s); the worker tries again in %.0f s", exc, pause)
            connections.close_all()
            sleep(pause)
            pause = min(pause * 2, 30.0)


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
        ticker = None
        if not options["no_scheduler"]:
            ticker = Scheduler(tick_seconds=options["tick_seconds"], sync_seconds=options["sync_seconds"])
            ticker.start()
        # Webhooks and e-mail in a thread of their own: a slow endpoint never delays a tick.
        deliveries = notifications.DeliveryLoop(poll_seconds=settings.DELIVERY_POLL_SECONDS)
        deliveries.start()
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
            run_worker(worker)
        finally:
            deliveries.stopping.set()
            deliveries.join(timeout=10)
            if ticker is not None:
                ticker.stopping.set()
                ticker.join(timeout=10)
