"""The store's folders and files, each opened relative to a folder and without following a link."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from .index import INDEX_SUFFIX, BadIndex, ChunkStoreError, Index, parse_index

_TMP_PREFIX = ".tmp-"
_WORKERS = 3
_SUBDIRS = [f"{n:02x}" for n in range(256)]
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


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


def _write_all(fd: int, data: memoryview) -> None:
    done = 0
    while done < len(data):
        done += os.write(fd, data[done:])
