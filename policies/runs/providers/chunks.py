"""A content-addressed chunk store: unchanged data is stored once, and every byte is checked.

A volume is cut into fixed-size chunks (4 MiB by default), as Proxmox Backup Server does for disk
images. Each chunk is a file named by its SHA-256, ``chunks/ab/abcdef…``, written once and shared
by every backup that holds the same bytes. A backup is one index file: the chunk list with each
chunk's size, the size of the volume and the SHA-256 of the whole volume.

Layout of a store root (the caller chooses the root and where under it the indexes live)::

    chunks/00 … chunks/ff/   the chunks, by the first two hex digits of their digest
    writers/*.lease          one per backup being written: its start time, locked while it runs
    lock                     taken shared to reuse a chunk, exclusively by the garbage collector
    **/*.index               the backups (anywhere under the root but in chunks/ and writers/)

What holds, whatever fails when:

- An index is linked into place (never over another) only after every chunk it names is
  durable (each chunk file and each chunk folder fsynced), itself fsynced first: a writer killed
  at any point leaves no index naming a missing chunk, only unreferenced chunks and ``.tmp-``
  files the garbage collector removes.
- The volume is read once. A reader thread fills buffers, the calling thread hashes the whole
  volume and a pool hashes and writes each chunk, on the same buffers (hashlib releases the GIL
  on large buffers). A chunk already in the store is not written again; a chunk written is
  checked once, by hashing the very buffer that is written, never read back. Given the
  previous backup of the same file, an unchanged file is not read at all (``write_backup``).
- Every path inside the store is opened relative to a folder opened with ``O_NOFOLLOW``, and
  every file with ``O_NOFOLLOW``; a chunk's path comes only from a digest this module computed or
  from an index whose every name was checked to be 64 hexadecimal digits.
- Reading a backup back checks each chunk's digest and the whole volume's, and names the bad
  chunk. An index carries ``chunks_sha256``, a digest of its chunk list, sizes and whole digest,
  checked whenever it is read: a verification checks every chunk against its name (one SHA-256
  pass, spread over the pool's threads) and the caller compares that digest with the one it
  recorded, which proves the same bytes as hashing the whole volume again on one core.

This module knows nothing of Django, projects or settings: the caller passes paths and sizes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import io
import itertools
import json
import os
import queue
import re
import secrets
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_SIZE = 4 * 1024 * 1024
FORMAT = "bpc-chunks/1"
INDEX_SUFFIX = ".index"
# A chunk unreferenced by any index is removed only when it is older than the oldest live
# writer by this much: file times are set by the kernel's coarse clock (or a file server's),
# which may lag the clock a writer read its start time from.
GC_MARGIN_SECONDS = 300.0
# A volume's metadata is trusted to say "unchanged" only when its last change is older than the
# backup's start by this much: a write in the same tick of a coarse file clock as the backup's
# look would leave the times as they were (git's "racy clean" case).
SETTLED_SECONDS = 2.0

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"
_WORKERS = 3
_SUBDIRS = [f"{n:02x}" for n in range(256)]
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ChunkStoreError(Exception):
    """The store refused or could not do what was asked; the message says what and where."""


class BadIndex(ChunkStoreError):
    """An index that is not one this module wrote (a bad name, a size that does not add up)."""


class CorruptBackup(ChunkStoreError):
    """A chunk, or the whole volume, does not match its recorded digest."""

    def __init__(self, message: str, *, position: int | None = None, digest: str | None = None) -> None:
        super().__init__(message)
        self.position = position
        self.digest = digest


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


@dataclass(frozen=True)
class BadChunk:
    position: int
    digest: str
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    size: int
    sha256: str
    chunks_sha256: str
    bad_chunks: list[BadChunk] = field(default_factory=list)
    whole_checked: bool = False
    whole_matches: bool = True

    @property
    def ok(self) -> bool:
        return not self.bad_chunks and self.whole_matches


@dataclass(frozen=True)
class GcStats:
    indexes: int
    chunks_kept: int
    chunks_removed: int
    bytes_removed: int
    young_unreferenced: int
    temps_removed: int
    stale_leases: int


@dataclass(frozen=True)
class Index:
    chunk_size: int
    size: int
    sha256: str
    chunks: list[tuple[str, int]]
    # The source's (device, inode, size, mtime_ns, ctime_ns) when it was read, if they had settled.
    source: tuple[int, int, int, int, int] | None = None

    @property
    def chunks_sha256(self) -> str:
        """Return the digest binding the chunk list to the sizes and the whole digest.

        Once every chunk matches its name, this digest determines the volume's bytes as surely
        as the whole SHA-256 does, for a fraction of the hashing: the caller records it beside
        the whole digest, and a verification that checks the chunks need not hash the volume again.
        """
        digest = hashlib.sha256(f"{FORMAT}:{self.chunk_size}:{self.size}:{self.sha256}:".encode())
        for name, _ in self.chunks:
            digest.update(bytes.fromhex(name))
        return digest.hexdigest()


# -- the store's folders


class _Store:
    """Folder descriptors of one store root, opened without following links."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool) -> None:
        self.root = Path(root)
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        self.root_fd = _open_dir(self.root)
        try:
            self.chunks_fd = _subdir(self.root_fd, "chunks", create=create)
            self.writers_fd = _subdir(self.root_fd, "writers", create=create)
            self._subdirs: dict[str, int] = {}
            self._lock = threading.Lock()
            self._create = create
        except BaseException:
            self.close()
            raise

    def subdir(self, digest: str) -> int:
        return self.folder(digest[:2])

    def folder(self, name: str) -> int:
        with self._lock:
            fd = self._subdirs.get(name)
            if fd is None:
                if self._create:
                    # Made durable at once: a chunk is durable only once its folder is.
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o700, dir_fd=self.chunks_fd)
                        os.fsync(self.chunks_fd)
                fd = self._subdirs[name] = os.open(name, _DIR_FLAGS, dir_fd=self.chunks_fd)
            return fd

    def close(self) -> None:
        for fd in getattr(self, "_subdirs", {}).values():
            os.close(fd)
        for name in ("writers_fd", "chunks_fd", "root_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def lock(self, kind: int) -> Iterator[None]:
        # Each holder opens its own descriptor: flock belongs to an open file, not a thread.
        fd = os.open(
            "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=self.root_fd
        )
        try:
            fcntl.flock(fd, kind)
            yield
        finally:
            os.close(fd)


def _open_dir(path: Path) -> int:
    try:
        return os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        raise ChunkStoreError(f"no chunk store at {path}") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ChunkStoreError(f"{path} is not a plain folder (a link?)") from None
        raise


def _subdir(parent_fd: int, name: str, *, create: bool) -> int:
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o700, dir_fd=parent_fd)
            os.fsync(parent_fd)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        raise ChunkStoreError(f"the chunk store has no {name}/ folder") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ChunkStoreError(f"the chunk store's {name} is not a plain folder (a link?)") from None
        raise


def _index_location(store: _Store, index_path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Return the index's folder and file name, refusing one outside the store or misnamed."""
    path = Path(index_path)
    name = path.name
    if not name.endswith(INDEX_SUFFIX) or name.startswith("."):
        raise ChunkStoreError(
            f"an index's name ends with {INDEX_SUFFIX} and does not start with a dot: {name!r}"
        )
    folder = path.parent.resolve()
    root = store.root.resolve()
    if folder != root and root not in folder.parents:
        raise ChunkStoreError(f"{path} is not inside the chunk store {store.root}")
    relative = folder.relative_to(root).parts
    if relative and relative[0] in ("chunks", "writers"):
        raise ChunkStoreError(f"an index may not live in the store's {relative[0]}/ folder")
    return folder, name


# -- writers' leases


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


# -- writing


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


def _fill(fd: int, buf: bytearray, offset: int) -> int:
    """Read into ``buf`` from ``offset`` until it is full or the source ends; return the count."""
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = os.preadv(fd, [view[got:]], offset + got)
        if n == 0:
            break
        got += n
    return got


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


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


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
            digest = hashlib.sha256(view).hexdigest()
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
    body = json.dumps(
        {
            "format": FORMAT,
            "chunk_size": index.chunk_size,
            "size": index.size,
            "sha256": index.sha256,
            "chunks": [[digest, length] for digest, length in index.chunks],
            "chunks_sha256": index.chunks_sha256,
            "source": None if index.source is None else list(index.source),
        },
        separators=(",", ":"),
    ).encode()
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


# -- indexes


def parse_index(body: bytes) -> Index:
    """Return the index in ``body``, refusing any name that is not 64 hex digits or sizes that do not add up."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadIndex(f"the index is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadIndex(f"the index is not in the {FORMAT} format")
    chunk_size, size, whole, chunks = (data.get(key) for key in ("chunk_size", "size", "sha256", "chunks"))
    if not _is_int(chunk_size) or chunk_size <= 0 or not _is_int(size) or size < 0:
        raise BadIndex("the index's sizes are not positive integers")
    if not isinstance(whole, str) or not _HEX64.fullmatch(whole):
        raise BadIndex("the index's whole-volume digest is not 64 hex digits")
    if not isinstance(chunks, list):
        raise BadIndex("the index has no chunk list")
    parsed: list[tuple[str, int]] = []
    for position, entry in enumerate(chunks):
        if not (isinstance(entry, list) and len(entry) == 2):
            raise BadIndex(f"chunk {position} of the index is not a [digest, size] pair")
        digest, length = entry
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise BadIndex(f"chunk {position} of the index is not named by 64 hex digits: {digest!r:.80}")
        last = position == len(chunks) - 1
        if not _is_int(length) or not (0 < length <= chunk_size) or (not last and length != chunk_size):
            raise BadIndex(f"chunk {position} of the index has a bad size: {length!r:.20}")
        parsed.append((digest, length))
    if sum(length for _, length in parsed) != size:
        raise BadIndex("the index's chunk sizes do not add up to its size")
    source = data.get("source")
    if source is not None and not (
        isinstance(source, list) and len(source) == 5 and all(map(_is_int, source))
    ):
        raise BadIndex("the index's source is not five integers")
    index = Index(
        chunk_size=chunk_size,
        size=size,
        sha256=whole,
        chunks=parsed,
        source=None if source is None else (source[0], source[1], source[2], source[3], source[4]),
    )
    if data.get("chunks_sha256") != index.chunks_sha256:
        raise BadIndex("the index's chunk list does not match its chunks_sha256")
    return index


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_file(name: str, dir_fd: int) -> bytes:
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ChunkStoreError(f"{name} is not a regular file")
        parts = []
        while part := os.read(fd, 1 << 20):
            parts.append(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_index(index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str]) -> Index:
    """Return the parsed index of one backup."""
    with _Store(store_root, create=False) as store:
        return _load_index(store, index_path)


def _load_index(store: _Store, index_path: str | os.PathLike[str]) -> Index:
    folder, name = _index_location(store, index_path)
    folder_fd = _open_dir(folder)
    try:
        try:
            body = _read_file(name, folder_fd)
        except FileNotFoundError:
            raise ChunkStoreError(f"the backup {index_path} does not exist") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ChunkStoreError(f"the backup {index_path} is a link") from None
            raise
    finally:
        os.close(folder_fd)
    try:
        return parse_index(body)
    except BadIndex as exc:
        raise BadIndex(f"{index_path}: {exc}") from None


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


# -- reading back


def _read_chunk(store: _Store, digest: str, length: int, buf: bytearray) -> tuple[int, str | None]:
    """Read one chunk into ``buf``; return the bytes read and what is wrong, if anything."""
    try:
        fd = os.open(digest, _READ_FLAGS, dir_fd=store.subdir(digest))
    except FileNotFoundError:
        return 0, "missing"
    except OSError as exc:
        return 0, f"unreadable ({exc.strerror})"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return 0, "not a regular file"
        got = _fill(fd, buf, 0)  # buf holds one byte more than a chunk, to see a chunk too long
    except OSError as exc:
        return 0, f"unreadable ({exc.strerror})"
    finally:
        os.close(fd)
    if got != length:
        return got, f"{got} bytes instead of {length}"
    if hashlib.sha256(memoryview(buf)[:got]).hexdigest() != digest:
        return got, "its content does not match its digest"
    return got, None


def _checked_chunks(
    store: _Store, index: Index, workers: int
) -> Iterator[tuple[int, memoryview, str | None]]:
    """Yield each chunk of ``index`` in order, read and hashed ahead by a pool of threads.

    A view yielded is valid until the next one is asked for.
    """
    window = workers + 1
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(window + 1):
        free.put(bytearray(index.chunk_size + 1))

    def job(digest: str, length: int, buf: bytearray) -> tuple[bytearray, int, str | None]:
        got, problem = _read_chunk(store, digest, length, buf)
        return buf, got, problem

    pending: list[Future[tuple[bytearray, int, str | None]]] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chunk-reader") as pool:
        try:
            upcoming = iter(index.chunks)
            for digest, length in itertools.islice(upcoming, window):
                pending.append(pool.submit(job, digest, length, free.get()))
            position = 0
            while pending:
                buf, got, problem = pending.pop(0).result()
                yield position, memoryview(buf)[:got], problem
                free.put(buf)
                position += 1
                following = next(upcoming, None)
                if following is not None:
                    pending.append(pool.submit(job, *following, free.get()))
        finally:
            for future in pending:
                future.cancel()


def verify_backup(
    index_path: str | os.PathLike[str],
    *,
    store_root: str | os.PathLike[str],
    whole: bool = False,
    workers: int = _WORKERS,
) -> VerifyResult:
    """Read every chunk of a backup and check its digest; report every bad chunk.

    The index's chunk list is checked against its ``chunks_sha256`` when it is read; compare
    the result's ``chunks_sha256`` with the one recorded when the backup was made. ``whole``
    also hashes the whole volume again (one more SHA-256 pass, on one core).
    """
    with _Store(store_root, create=False) as store:
        index = _load_index(store, index_path)
        digest = hashlib.sha256() if whole else None
        bad: list[BadChunk] = []
        for position, data, problem in _checked_chunks(store, index, workers):
            if problem is not None:
                bad.append(BadChunk(position, index.chunks[position][0], problem))
            if digest is not None:
                digest.update(data)
        return VerifyResult(
            size=index.size,
            sha256=index.sha256,
            chunks_sha256=index.chunks_sha256,
            bad_chunks=bad,
            whole_checked=whole,
            whole_matches=digest is None or digest.hexdigest() == index.sha256,
        )


def read_backup(
    index_path: str | os.PathLike[str],
    out: io.RawIOBase | io.BufferedIOBase | int,
    *,
    store_root: str | os.PathLike[str],
    workers: int = _WORKERS,
) -> Index:
    """Write the volume out to ``out`` (a binary file or a descriptor), checking every chunk on the way.

    Raises CorruptBackup at the first bad chunk (bytes before it are already written: restore
    aside and rename only on success), or when the whole volume's digest does not match.
    """
    write = (lambda data: _write_all(out, data)) if isinstance(out, int) else out.write
    with _Store(store_root, create=False) as store:
        index = _load_index(store, index_path)
        whole = hashlib.sha256()
        for position, data, problem in _checked_chunks(store, index, workers):
            if problem is not None:
                digest = index.chunks[position][0]
                raise CorruptBackup(
                    f"chunk {position} ({digest}) of {index_path}: {problem}",
                    position=position,
                    digest=digest,
                )
            whole.update(data)
            write(data)
        if whole.hexdigest() != index.sha256:
            raise CorruptBackup(f"{index_path}: the volume's SHA-256 does not match its index")
        return index


def _write_all(fd: int, data: memoryview) -> None:
    done = 0
    while done < len(data):
        done += os.write(fd, data[done:])


class BackupReader(io.RawIOBase):
    """A backup as a readable stream, each chunk checked before its bytes are given out."""

    def __init__(
        self, index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str], workers: int
    ) -> None:
        self._store = _Store(store_root, create=False)
        try:
            self.index = _load_index(self._store, index_path)
        except BaseException:
            self._store.close()
            raise
        self._name = index_path
        self._chunks = _checked_chunks(self._store, self.index, workers)
        self._whole = hashlib.sha256()
        self._current = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._current:
            if self._done:
                return 0
            try:
                position, data, problem = next(self._chunks)
            except StopIteration:
                self._done = True
                if self._whole.hexdigest() != self.index.sha256:
                    raise CorruptBackup(
                        f"{self._name}: the volume's SHA-256 does not match its index"
                    ) from None
                return 0
            if problem is not None:
                digest = self.index.chunks[position][0]
                raise CorruptBackup(
                    f"chunk {position} ({digest}) of {self._name}: {problem}",
                    position=position,
                    digest=digest,
                )
            self._whole.update(data)
            # The view is only valid until the next chunk is asked for, so keep a copy of what is left.
            self._current = memoryview(bytes(data))
        n = min(len(buffer), len(self._current))
        buffer[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._chunks.close()
            self._store.close()
        super().close()


def open_backup(
    index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str], workers: int = _WORKERS
) -> io.BufferedReader:
    """Open a backup for streaming; reading raises CorruptBackup at a bad chunk or a bad whole digest."""
    return io.BufferedReader(BackupReader(index_path, store_root=store_root, workers=workers), CHUNK_SIZE)


# -- garbage collection


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
