"""Writing a backup: the volume read once, its chunks hashed and written by a pool, the index last."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import queue
import secrets
import stat
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .files import (
    _NEW_FLAGS,
    _READ_FLAGS,
    _TMP_PREFIX,
    _WORKERS,
    _exists,
    _fill,
    _index_location,
    _load_index,
    _open_dir,
    _Store,
)
from .gc import _lease
from .index import CHUNK_SIZE, ChunkStoreError, Index, chunk_name, index_body

# A volume's metadata is trusted to say "unchanged" only when its last change is older than the
# backup's start by this much: a write in the same tick of a coarse file clock as the backup's
# look would leave the times as they were (git's "racy clean" case).
SETTLED_SECONDS = 2.0


@dataclass(frozen=True)
class BackupStats:
    size: int
    sha256: str
    chunks_sha256: str
    chunks: int
    chunks_written: int
    bytes_written: int
    chunk_size: int
    from_parent: bool = False


class _Buffer:
    """A reusable read buffer, given back once the whole-volume hash and its chunk's job are done."""

    __slots__ = ("data", "length", "users", "_lock", "_free")

    def __init__(self, size: int, free: queue.Queue[_Buffer]) -> None:
        self.data = bytearray(size)
        self.length = 0
        self.users = 0
        self._lock = threading.Lock()
        self._free = free

    def view(self) -> memoryview:
        return memoryview(self.data)[: self.length]

    def release(self) -> None:
        with self._lock:
            self.users -= 1
            done = self.users == 0
        if done:
            self._free.put(self)


def write_backup(
    source: int | str | os.PathLike[str],
    index_path: str | os.PathLike[str],
    *,
    store_root: str | os.PathLike[str],
    chunk_size: int = CHUNK_SIZE,
    workers: int = _WORKERS,
    progress: Callable[[int], None] | None = None,
    parent: str | os.PathLike[str] | None = None,
) -> BackupStats:
    """Store the volume read from ``source`` (an open descriptor, or a path) as a new backup.

    ``progress`` is called with the bytes read so far after each chunk; whatever it raises (a
    deadline passed) stops the backup, and no index is written. ``index_path`` must not exist.

    ``parent``, the index of the previous backup of the same volume file, lets an unchanged file
    go unread, as restic does: when the file's device, inode, size, mtime and ctime are those
    recorded in the parent (recorded only once they had settled, and unchanged while it was
    read), the new index names the parent's chunks, each found whole and refreshed first. A
    process can set a file's mtime but not its ctime, and any write moves both.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    with _Store(store_root, create=True) as store:
        folder, name = _index_location(store, index_path)
        folder_fd = _open_dir(folder)
        try:
            if _exists(name, folder_fd):
                raise ChunkStoreError(f"the backup {index_path} already exists")
            own_fd = None
            if not isinstance(source, int):
                own_fd = source_fd = os.open(source, _READ_FLAGS)
                mode = os.fstat(source_fd).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
                    os.close(source_fd)
                    raise ChunkStoreError(f"{source} is neither a regular file nor a block device")
            else:
                source_fd = source
            try:
                with _lease(store) as started:
                    before = os.fstat(source_fd)
                    reused = (
                        None
                        if parent is None
                        else _reuse_parent(store, parent, source_fd, before, chunk_size)
                    )
                    if reused is not None:
                        index = reused
                        stats = BackupStats(
                            size=index.size,
                            sha256=index.sha256,
                            chunks_sha256=index.chunks_sha256,
                            chunks=len(index.chunks),
                            chunks_written=0,
                            bytes_written=0,
                            chunk_size=chunk_size,
                            from_parent=True,
                        )
                    else:
                        stats, index = _write_chunks(store, source_fd, chunk_size, workers, progress)
                        settled = (
                            stat.S_ISREG(before.st_mode)
                            and max(before.st_mtime, before.st_ctime) < started - SETTLED_SECONDS
                            and _fingerprint(os.fstat(source_fd)) == _fingerprint(before)
                        )
                        if settled:
                            index = dataclasses.replace(index, source=_fingerprint(before))
                    _write_index(folder_fd, name, index)
            finally:
                if own_fd is not None:
                    os.close(own_fd)
        finally:
            os.close(folder_fd)
    return stats


def _fingerprint(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _reuse_parent(
    store: _Store, parent: str | os.PathLike[str], source_fd: int, before: os.stat_result, chunk_size: int
) -> Index | None:
    """Return the parent's index for the new backup if the source is unchanged and every chunk is there."""
    try:
        index = _load_index(store, parent)
    except ChunkStoreError:
        return None
    if index.source is None or index.source != _fingerprint(before) or index.chunk_size != chunk_size:
        return None
    for digest, length in dict(index.chunks).items():
        if not _refresh_chunk(store, digest, length):
            return None
    if _fingerprint(os.fstat(source_fd)) != index.source:
        return None
    return index


def _write_chunks(
    store: _Store,
    source_fd: int,
    chunk_size: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> tuple[BackupStats, Index]:
    free: queue.Queue[_Buffer] = queue.Queue()
    for _ in range(workers + 3):
        free.put(_Buffer(chunk_size, free))
    filled: queue.Queue[_Buffer | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        offset = 0
        try:
            while not stop.is_set():
                buf = free.get()
                if stop.is_set():
                    break
                buf.length = _fill(source_fd, buf.data, offset)
                if buf.length == 0:
                    free.put(buf)
                    break
                buf.users = 2
                offset += buf.length
                filled.put(buf)
                if buf.length < chunk_size:
                    break
        except BaseException as exc:
            filled.put(exc)
        filled.put(None)

    whole = hashlib.sha256()
    jobs: list[Future[tuple[str, int, bool]]] = []
    dirty: set[int] = set()
    seen: set[str] = set()
    dirty_lock = threading.Lock()

    def store_chunk(buf: _Buffer) -> tuple[str, int, bool]:
        try:
            view = buf.view()
            digest = chunk_name(view)
            # A chunk repeated within the volume (zeros) is stored by its first job only; the
            # index is written after every job, so the repeats need not wait for it.
            with dirty_lock:
                repeated = digest in seen
                seen.add(digest)
            if repeated:
                return digest, len(view), False
            written = _put_chunk(store, digest, view)
            if written:
                with dirty_lock:
                    dirty.add(store.subdir(digest))
            return digest, len(view), written
        finally:
            buf.release()

    reader = threading.Thread(target=read, name="chunk-reader", daemon=True)
    size = 0
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chunk-writer") as pool:
            reader.start()
            try:
                while (item := filled.get()) is not None:
                    if isinstance(item, BaseException):
                        raise item
                    jobs.append(pool.submit(store_chunk, item))
                    try:
                        whole.update(item.view())
                    finally:
                        item.release()
                    size += item.length
                    if jobs[-1].done() and jobs[-1].exception() is not None:
                        break
                    if progress is not None:
                        progress(size)
                results = [job.result() for job in jobs]
            except BaseException:
                stop.set()
                for job in jobs:
                    job.cancel()
                raise
    finally:
        stop.set()
        free.put(_Buffer(0, free))  # wakes a reader waiting for a buffer
        reader.join()
    for fd in dirty:
        os.fsync(fd)
    chunks = [(digest, length) for digest, length, _ in results]
    written = [length for _, length, was_written in results if was_written]
    index = Index(chunk_size, size, whole.hexdigest(), chunks)
    stats = BackupStats(
        size=size,
        sha256=index.sha256,
        chunks_sha256=index.chunks_sha256,
        chunks=len(chunks),
        chunks_written=len(written),
        bytes_written=sum(written),
        chunk_size=chunk_size,
    )
    return stats, index


def _refresh_chunk(store: _Store, digest: str, length: int) -> bool:
    """Return True when the chunk is present with its size, after making its time now."""
    folder = store.subdir(digest)
    # Shared with other writers, exclusive with the collector: between finding the chunk and
    # refreshing its time, the collector cannot remove it.
    with store.lock(fcntl.LOCK_SH):
        try:
            fd = os.open(digest, _READ_FLAGS, dir_fd=folder)
        except FileNotFoundError:
            return False
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_size == length:
                os.utime(fd)
                return True
            return False
        finally:
            os.close(fd)


def _put_chunk(store: _Store, digest: str, data: memoryview) -> bool:
    """Make the chunk ``digest`` present and fresh; return True when it had to be written."""
    if _refresh_chunk(store, digest, len(data)):
        return False
    folder = store.subdir(digest)
    # Absent, or the wrong size (a truncated chunk is replaced, which repairs every backup naming it).
    tmp = f"{_TMP_PREFIX}{digest}-{secrets.token_hex(4)}"
    fd = os.open(tmp, _NEW_FLAGS, 0o600, dir_fd=folder)
    try:
        try:
            done = 0
            while done < len(data):
                done += os.write(fd, data[done:])
            os.fsync(fd)
            if os.fstat(fd).st_size != len(data):
                raise ChunkStoreError(f"chunk {digest} was not written whole")
        finally:
            os.close(fd)
        os.rename(tmp, digest, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=folder)
        raise
    return True


def _write_index(folder_fd: int, name: str, index: Index) -> None:
    body = index_body(index)
    tmp = f"{_TMP_PREFIX}{name}-{secrets.token_hex(4)}"
    fd = os.open(tmp, _NEW_FLAGS, 0o600, dir_fd=folder_fd)
    try:
        try:
            done = 0
            while done < len(body):
                done += os.write(fd, body[done:])
            os.fsync(fd)
        finally:
            os.close(fd)
        # A link, unlike a rename, never replaces: an index that appeared meanwhile stays.
        try:
            os.link(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
        except FileExistsError:
            raise ChunkStoreError(f"the backup {name} already exists") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=folder_fd)
    try:
        os.fsync(folder_fd)
    except BaseException:
        # The caller is told the backup failed, so no index of it stays (its chunks are durable
        # either way: an index the disk keeps after all is whole, and the caller's discard removes it).
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder_fd)
        raise
