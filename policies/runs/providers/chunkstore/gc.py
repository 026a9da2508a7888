"""Writers' leases, the store's lock, deleting an index and collecting the chunks no index names."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .files import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _READ_FLAGS,
    _SUBDIRS,
    _TMP_PREFIX,
    _index_location,
    _open_dir,
    _read_file,
    _Store,
)
from .index import _HEX64, INDEX_SUFFIX, BadIndex, ChunkStoreError, parse_index

# A chunk unreferenced by any index is removed only when it is older than the oldest live
# writer by this much: file times are set by the kernel's coarse clock (or a file server's),
# which may lag the clock a writer read its start time from.
GC_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class GcStats:
    indexes: int
    chunks_kept: int
    chunks_removed: int
    bytes_removed: int
    young_unreferenced: int
    temps_removed: int
    stale_leases: int


@contextlib.contextmanager
def _lease(store: _Store) -> Iterator[float]:
    """Hold a lease for one backup being written; yield its start time.

    The lease file is locked before it gets its ``.lease`` name, so the collector never sees an
    unlocked lease of a live writer; the lock dies with the process, so a killed writer's lease
    is recognised as stale.
    """
    started = time.time()
    token = secrets.token_hex(8)
    tmp = f"{_TMP_PREFIX}{token}"
    fd = os.open(tmp, _NEW_FLAGS, 0o600, dir_fd=store.writers_fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        body = {"start": started, "pid": os.getpid(), "host": socket.gethostname()}
        os.write(fd, json.dumps(body).encode())
        os.rename(tmp, f"{token}.lease", src_dir_fd=store.writers_fd, dst_dir_fd=store.writers_fd)
        try:
            yield started
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{token}.lease", dir_fd=store.writers_fd)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=store.writers_fd)
        os.close(fd)


def _live_writers(store: _Store) -> tuple[list[float], int]:
    """Return the start times of the writers still running, after removing dead ones' leases."""
    starts: list[float] = []
    stale = 0
    for entry in os.scandir(store.writers_fd):
        if not entry.name.endswith(".lease"):
            continue
        try:
            fd = os.open(entry.name, _READ_FLAGS, dir_fd=store.writers_fd)
        except FileNotFoundError:
            continue  # its writer just finished
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                info = os.fstat(fd)
                try:
                    start = float(json.loads(os.read(fd, 4096))["start"])
                except (ValueError, KeyError, TypeError):
                    start = info.st_mtime
                starts.append(min(start, info.st_mtime))
            else:
                os.unlink(entry.name, dir_fd=store.writers_fd)
                stale += 1
        finally:
            os.close(fd)
    return starts, stale


def delete_index(index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str]) -> None:
    """Delete one backup's index (its chunks go at the next garbage collection); a missing one is no error."""
    with _Store(store_root, create=False) as store:
        folder, name = _index_location(store, index_path)
        folder_fd = _open_dir(folder)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=folder_fd)
                os.fsync(folder_fd)
        finally:
            os.close(folder_fd)


def _indexes_under(store: _Store) -> Iterator[tuple[int, str, str]]:
    """Yield (folder descriptor, name, shown path) of every index under the store, following no link."""
    stack: list[tuple[int, str]] = [(os.dup(store.root_fd), "")]
    try:
        while stack:
            fd, shown = stack[-1]
            entries = list(os.scandir(fd))
            stack.pop()
            try:
                for entry in entries:
                    if not shown and entry.name in ("chunks", "writers"):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((os.open(entry.name, _DIR_FLAGS, dir_fd=fd), f"{shown}{entry.name}/"))
                    elif entry.name.endswith(INDEX_SUFFIX) and not entry.name.startswith("."):
                        yield fd, entry.name, f"{shown}{entry.name}"
            finally:
                os.close(fd)
    finally:
        for fd, _ in stack:
            os.close(fd)


def collect_garbage(
    store_root: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    margin: float = GC_MARGIN_SECONDS,
) -> GcStats:
    """Remove the chunks no index references, never one a backup being written may still name.

    The rule: a chunk is removed only when no index under the store (nor in ``protect``, index
    files kept elsewhere) names it AND its modification time is older than ``margin`` seconds
    before the start of the oldest writer still running (or before this collection's start).
    A writer takes its lease before it touches any chunk, and every chunk it uses is either
    written by it or has its time refreshed by it, so each chunk a running writer will name is
    younger than that writer's start; one that started after the leases were read touches its
    chunks after this collection started. Finding a chunk and refreshing its time happen under
    the store's lock taken shared, removing one under it taken exclusively, so a chunk is never
    removed between a writer finding it and refreshing it. A lease whose lock is free belongs to
    a killed writer and is removed; the ``.tmp-`` files of dead writers go by the same age rule.
    An index that cannot be read stops the collection before anything is removed.
    """
    started = time.time()
    with _Store(store_root, create=False) as store:
        starts, stale = _live_writers(store)
        cutoff = min([started, *starts]) - margin
        referenced: set[str] = set()
        count = 0
        for folder_fd, name, shown in _indexes_under(store):
            try:
                body = _read_file(name, folder_fd)
            except FileNotFoundError:
                continue  # deleted meanwhile: its chunks are kept this time
            except OSError as exc:
                raise ChunkStoreError(
                    f"cannot read the index {shown}: {exc.strerror}; nothing removed"
                ) from exc
            try:
                referenced.update(digest for digest, _ in parse_index(body).chunks)
            except BadIndex as exc:
                raise BadIndex(f"{shown}: {exc}; nothing removed") from None
            count += 1
        for path in protect:
            referenced.update(digest for digest, _ in parse_index(Path(path).read_bytes()).chunks)
        kept = removed = removed_bytes = young = temps = 0
        for sub in _SUBDIRS:
            try:
                folder = store.folder(sub)
            except FileNotFoundError:
                continue
            names = [entry.name for entry in os.scandir(folder)]
            with store.lock(fcntl.LOCK_EX):
                for name in names:
                    is_chunk = _HEX64.fullmatch(name) is not None
                    if is_chunk and name in referenced:
                        kept += 1
                        continue
                    if not (is_chunk or name.startswith(_TMP_PREFIX)):
                        continue  # not the store's: left alone
                    try:
                        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if info.st_mtime >= cutoff:
                        young += is_chunk
                        kept += is_chunk
                        continue
                    os.unlink(name, dir_fd=folder)
                    if is_chunk:
                        removed += 1
                        removed_bytes += info.st_size
                    else:
                        temps += 1
        return GcStats(
            indexes=count,
            chunks_kept=kept,
            chunks_removed=removed,
            bytes_removed=removed_bytes,
            young_unreferenced=young,
            temps_removed=temps,
            stale_leases=stale,
        )


def store_bytes(store_root: str | os.PathLike[str]) -> int:
    """Return the bytes the store's chunks occupy (their sizes, each counted once)."""
    total = 0
    with _Store(store_root, create=False) as store:
        for sub in _SUBDIRS:
            try:
                folder = store.folder(sub)
            except FileNotFoundError:
                continue
            for entry in os.scandir(folder):
                if _HEX64.fullmatch(entry.name):
                    total += entry.stat(follow_symlinks=False).st_size
    return total
