"""The local provider's upkeep of its backups: the cheap check, verification, garbage collection, bytes held.

A backup in the store (an index) is checked chunk by chunk; a full copy made before the store is
hashed whole. ``LocalProvider`` supplies the folders and the locators' reading.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import stat

from . import chunkstore
from .base import TransientProviderError, VerifyOutcome
from .localfiles import opened

# The provider's own logger: these are LocalProvider's methods, and operators filter on its name.
logger = logging.getLogger("policies.runs.providers.local")

STORE = ".store"
# The file in a store that says which period its last scheduled collection ran in.
_COLLECTED = "collected"


class StoreUpkeep:
    """What ``LocalProvider`` adds to keep its backups checked and its stores small."""

    def check_backup(self, project_id: str, locator: str) -> bool:
        """True while the index reads and names no missing chunk (or, for a full copy, while its file is there)."""
        index = self._index(project_id, locator)
        if index is None:
            try:
                return stat.S_ISREG(os.lstat(self._path(locator)).st_mode)
            except FileNotFoundError:
                return False
        try:
            missing = chunkstore.missing_chunks(index, store_root=self._store_root(project_id))
        except chunkstore.ChunkStoreError as exc:
            logger.warning("backup %s cannot be read: %s", locator, exc)
            return False
        if missing:
            logger.warning("backup %s misses %d chunk(s), the first at %d", locator, len(missing), missing[0])
        return not missing

    def verify_backup(self, project_id: str, locator: str, sha256: str) -> VerifyOutcome:
        """Read every chunk once and check it against its name; compare the whole digest with ``sha256``.

        The index's own digest covers its chunk list and the whole volume's SHA-256, and is checked
        when it is read; each chunk is checked against its name, spread over a pool of threads. So
        one pass at disk speed proves the bytes are those recorded, without hashing the volume
        again on one core. A full copy (made before the store) is hashed whole.
        """
        index = self._index(project_id, locator)
        try:
            if index is None:
                digest = hashlib.sha256()
                with open(self._path(locator), "rb") as reader:
                    while chunk := reader.read(chunkstore.CHUNK_SIZE):
                        digest.update(chunk)
                found, size, bad = digest.hexdigest(), None, []
            else:
                checked = chunkstore.verify_backup(index, store_root=self._store_root(project_id))
                found, size, bad = checked.sha256, checked.size, checked.bad_chunks
        except FileNotFoundError:
            return VerifyOutcome(False, "its stored copy no longer exists")
        except chunkstore.ChunkStoreError as exc:
            return VerifyOutcome(False, f"its stored copy cannot be read: {exc}")
        except OSError as exc:
            raise TransientProviderError(
                f"backup {locator!r} cannot be read now: {exc.strerror or exc}"
            ) from exc
        if bad:
            first = bad[0]
            return VerifyOutcome(
                False,
                f"{len(bad)} of its stored chunks are damaged (the first, chunk {first.position}: "
                f"{first.reason})",
            )
        if found != sha256:
            return VerifyOutcome(
                False,
                f"its bytes have the SHA-256 {found[:12]}…, not the {sha256[:12]}… recorded when it was made",
            )
        read = f"{size} bytes" if size is not None else "its bytes"
        return VerifyOutcome(True, f"read back {read}: SHA-256 {sha256[:12]}… matches")

    # -- the store

    def collect_garbage(self, project_id: str, *, period: str = "") -> chunkstore.GcStats | None:
        """Remove the chunks of the project's store that no backup names; None when nothing ran.

        With ``period`` (say, the hour), a collection runs at most once per period and project,
        whatever the number of workers: the store records the period of its last one, under a lock.
        """
        root = self._store_root(project_id)
        if not root.is_dir():
            return None
        if not period:
            return chunkstore.collect_garbage(root)
        fd = os.open(root / _COLLECTED, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with opened(fd):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another worker collects now
            if os.read(fd, 256).decode(errors="replace") == period:
                return None
            stats = chunkstore.collect_garbage(root)
            os.ftruncate(fd, 0)
            os.pwrite(fd, period.encode(), 0)
        return stats

    def stored_bytes(self, project_id: str) -> int:
        """The bytes the project's backups occupy: the store's chunks, each once, and any full copies."""
        folder = self._backup_dir(project_id)
        total = 0
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        if (folder / STORE).is_dir():
            total += chunkstore.store_bytes(folder / STORE)
        return total
