"""Reading a backup back: to a file, as a stream, or only to verify it; every chunk checked."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import queue
import stat
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from .files import _READ_FLAGS, _WORKERS, _fill, _load_index, _Store, _write_all
from .index import CHUNK_SIZE, CorruptBackup, Index, chunk_name


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


def read_index(index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str]) -> Index:
    """Return the parsed index of one backup."""
    with _Store(store_root, create=False) as store:
        return _load_index(store, index_path)


def _read_chunk(
    store: _Store, index: Index, digest: str, length: int, buf: bytearray
) -> tuple[int, str | None]:
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
    if chunk_name(memoryview(buf)[:got], index.format) != digest:
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
        got, problem = _read_chunk(store, index, digest, length, buf)
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


def missing_chunks(index_path: str | os.PathLike[str], *, store_root: str | os.PathLike[str]) -> list[int]:
    """Return the positions of the chunks of a backup that are absent or of the wrong size.

    A cheap check (one ``stat`` per distinct chunk, nothing read): what ``verify_backup`` proves
    by reading, this only suggests.
    """
    with _Store(store_root, create=False) as store:
        index = _load_index(store, index_path)
        bad: dict[str, bool] = {}
        for digest, length in index.chunks:
            if digest not in bad:
                try:
                    info = os.stat(digest, dir_fd=store.subdir(digest), follow_symlinks=False)
                    bad[digest] = not stat.S_ISREG(info.st_mode) or info.st_size != length
                except FileNotFoundError:
                    bad[digest] = True
        return [position for position, (digest, _) in enumerate(index.chunks) if bad[digest]]
