"""Run calls from real threads at once, each with its own database connection."""

import threading

from django.db import connection


def in_parallel(calls) -> list[object]:
    """Run every call at once (each in its own thread); return each result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = calls[index]()
        except BaseException as exc:  # kept, and checked by the test in its own thread
            outcomes[index] = exc
        finally:
            connection.close()  # this thread's connection; a left-open one blocks the flush

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def kinds(outcomes) -> list[str]:
    """The sorted type names of the outcomes: ``["BackupPolicy", "PolicyQuotaExceeded", ...]``."""
    return sorted(type(outcome).__name__ for outcome in outcomes)
