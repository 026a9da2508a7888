"""What counts as an outage: the database cannot be reached, or cannot be written, right now.

Such a failure is not a bug of the request: the same request may succeed in a few seconds, so
every entrance answers it 503 with ``Retry-After`` (the API in its envelope,
``policies.api.errors``; pages with ``templates/503.html``, ``config.views``), never 500.
"""

from django.db import DatabaseError, InterfaceError, OperationalError

# Seconds a client is told to wait before trying again (the Retry-After header).
RETRY_AFTER_SECONDS = 10

# PostgreSQL states that say "not now" rather than "never": a read-only server or transaction
# (a standby, default_transaction_read_only), which psycopg reports as InternalError.
_OUTAGE_SQLSTATES = {"25006"}


def is_outage(exc: BaseException | None) -> bool:
    """Return True when ``exc`` says the database is unreachable, read-only, full or busy.

    Django reports a lost or refused connection, SQLite's "readonly database", "database or disk
    is full" and "database is locked", and PostgreSQL's connection, disk-full and shutdown states
    as ``OperationalError``; a closed connection as ``InterfaceError``.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DatabaseError):
        return getattr(exc.__cause__, "sqlstate", None) in _OUTAGE_SQLSTATES
    return False
