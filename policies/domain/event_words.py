"""The words of an announced event: what an e-mail's subject and a dashboard row say of it."""

from __future__ import annotations

from collections.abc import Mapping

PRODUCT = "Backup Policy Console"

# Every type of event, in the order they are listed, with how a person reads it.
EVENT_WORDS = {
    "backup.failed": "backup failed",
    "backup.succeeded": "backup succeeded",
    "run.missed": "scheduled run missed",
    "backup.verify_failed": "backup failed verification",
    "restore.succeeded": "restore succeeded",
    "restore.failed": "restore failed",
    "ping": "test notification",
}


def event_words(event_type: str) -> str:
    """``backup failed``: the event type as a person reads it."""
    return EVENT_WORDS.get(event_type, event_type)


def event_subject(event_type: str, details: Mapping) -> str:
    """``[Backup Policy Console] backup failed: nightly / db.img``: what it is, and of what."""
    names = [
        str(details[key])
        for key in ("policy_name", "volume_name")
        if isinstance(details.get(key), str | int) and details.get(key) != ""
    ]
    if not names and details.get("backup_name"):
        names = [str(details["backup_name"])]
    about = f": {' / '.join(names)}" if names else ""
    # A subject is one line: a name holding a line break must not start a header of its own.
    return " ".join(f"[{PRODUCT}] {event_words(event_type)}{about}".split())
