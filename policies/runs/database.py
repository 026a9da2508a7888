"""The database may be away for a while (a restart, a failover): work outside a transaction waits for it."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)


# The database errors that mean "not reachable now" (a restart, a failover, a cut connection).
DATABASE_DOWN = (OperationalError, InterfaceError)


def with_database_retry(action, *, what: str, sleep=None):
    """Run ``action()``; while the database is unreachable, try again with backoff, then give up.

    Between tries the broken connection is closed, so that the next try opens a fresh one. Only
    for work outside any transaction: a transaction cannot outlive its connection.
    """
    give_up = time.monotonic() + settings.BACKUP_DB_RETRY_SECONDS
    pause = 0.5
    while True:
        try:
            return action()
        except DATABASE_DOWN as exc:
            if time.monotonic() + pause > give_up:
                raise
            logger.warning("database unreachable while %s (%s); trying again in %.1f s", what, exc, pause)
            connection.close()
            (sleep or time.sleep)(pause)
            pause = min(pause * 2, 10.0)
