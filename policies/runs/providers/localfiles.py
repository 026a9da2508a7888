"""The local provider's names and files: volume IDs and locators, and restores written aside.

A name is bytes: any name the filesystem allows gets an ID derived from its bytes and a name a
person can read. A restore is written into a new file beside its target (``O_EXCL``, no link
followed), fsynced, and renamed over the target only when its SHA-256 is the one recorded: a
damaged backup, a full disk or any other failure leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import stat
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes

from . import chunkstore
from .base import ProviderError

logger = logging.getLogger(__name__)

# The resource_id of a file is derived from its project and name, so it is stable across syncs.
_VOLUME_NAMESPACE = uuid.UUID("6f4c1f4e-2d0a-4a54-9c6e-3b3f6c9c7a11")
_NAME_MAX = 255  # the display name's room in the database
# A listed volume's locator: "<device>:<inode>:<the name's bytes, percent-encoded>".
_LOCATOR = re.compile(r"(\d+):(\d+):([A-Za-z0-9%._~-]+)")
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_BLOCK = 1024 * 1024
# The folder of a store that names each volume file's latest backup (the parent of its next one).
_PARENTS = "parents"
# A file name's room in bytes; the file a restore writes aside is named after its target within it.
_FILE_NAME_BYTES = 255
_ASIDE_TAIL = ".restore-"
_ASIDE_TOKEN_BYTES = 4


def safe(part: str) -> str:
    if not part or part in {".", ".."} or "/" in part or "\\" in part or "\0" in part:
        raise ProviderError(f"{part!r} is not a plain file name")
    return part


def volume_id(project_id: str, name: bytes) -> uuid.UUID:
    """The stable ID of a project's volume file: a UUID 5 of its project and name, as bytes.

    For a name that is UTF-8 this is ``uuid5(namespace, f"{project_id}/{name}")``; any other
    name hashes its own bytes, so it gets an ID of its own instead of an encoding error.
    """
    digest = hashlib.sha1(_VOLUME_NAMESPACE.bytes + os.fsencode(project_id) + b"/" + name).digest()  # noqa: S324 - UUID 5 is SHA-1 by definition
    return uuid.UUID(bytes=digest[:16], version=5)


def display_name(name: bytes) -> str:
    """A name a person can read and the database can store: undecodable bytes shown as ``\\xNN``."""
    text = name.decode("utf-8", "backslashreplace")
    return text if len(text) <= _NAME_MAX else text[: _NAME_MAX - 1] + "…"


def volume_locator(name: bytes, info: os.stat_result) -> str:
    return f"{info.st_dev}:{info.st_ino}:{quote_from_bytes(name, safe='')}"


@dataclass(frozen=True)
class Listed:
    """What a locator says: the file's name (bytes) and, when it was listed, its device and inode."""

    name: bytes
    identity: tuple[int, int] | None


def parse_locator(locator: str) -> Listed:
    match = _LOCATOR.fullmatch(locator)
    if match:
        return Listed(unquote_to_bytes(match[3]), (int(match[1]), int(match[2])))
    # A bare file name (a caller that names the file itself): no identity to compare.
    return Listed(os.fsencode(safe(locator)), None)


def words(name: bytes) -> str:
    return repr(display_name(name))


@contextmanager
def opened(fd: int):
    try:
        yield fd
    finally:
        os.close(fd)


def check_restore_target(to: Path) -> None:
    try:
        info = os.lstat(to)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise ProviderError(f"{to} is a symbolic link: refused (a restore writes only a real file)")
    if not stat.S_ISREG(info.st_mode):
        raise ProviderError(f"{to} is not a regular file: refused")
    if info.st_nlink > 1:
        raise ProviderError(
            f"{to} has {info.st_nlink} hard links: refused (the others would keep the old data)"
        )


Progress = Callable[[int], None]


class _Counted:
    """The file written aside, counting what goes into it and hashing it unless the copy does."""

    def __init__(self, writer, *, hashing: bool, progress: Progress | None) -> None:
        self.writer = writer
        self.digest = hashlib.sha256() if hashing else None
        self.written = 0
        self.progress = progress

    def write(self, data) -> int:
        if self.digest is not None:
            self.digest.update(data)
        self.writer.write(data)
        self.written += len(data)
        if self.progress is not None:
            self.progress(self.written)
        return len(data)


def write_aside(
    copy: Callable[[_Counted], str | None],
    to: Path,
    *,
    expected: str,
    what: str,
    progress: Progress | None = None,
    digested: bool = False,
) -> int:
    """Write a new file beside ``to`` with ``copy``; rename it over ``to`` only if its SHA-256 is ``expected``.

    ``copy`` writes the backup's bytes into the file it is given, and raises ProviderError for a
    backup it finds damaged on the way. With ``digested``, ``copy`` hashes what it writes itself
    and returns the digest, so the bytes are hashed once, not twice. ``progress`` is told the
    bytes written so far after each write (a block or a chunk: megabytes, not bytes).
    """
    try:
        folder = os.open(to.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ProviderError(f"cannot write into {to.parent}: {exc.strerror}") from exc
    with opened(folder):
        aside = f"{aside_prefix(to.name)}{secrets.token_hex(_ASIDE_TOKEN_BYTES)}"
        try:
            fd = os.open(
                aside,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=folder,
            )
            with os.fdopen(fd, "wb") as writer:
                counted = _Counted(writer, hashing=not digested, progress=progress)
                returned = copy(counted)
                writer.flush()
                os.fsync(writer.fileno())
            digest = returned if digested else counted.digest.hexdigest()
            if expected and digest != expected:
                raise ProviderError(
                    f"{what} is damaged: its SHA-256 is {digest[:12]}…, recorded "
                    f"{expected[:12]}… ({counted.written} bytes read); {to} is left as it was"
                )
            # A symbolic link put at the target meanwhile is replaced, never followed.
            os.rename(aside, to.name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            _unlink_quietly(aside, folder)
            raise ProviderError(
                f"restoring {what} to {to} failed: {exc.strerror or exc}; {to} is left as it was"
            ) from exc
        except BaseException:
            _unlink_quietly(aside, folder)
            raise
        try:
            os.fsync(folder)
        except OSError as exc:
            # The rename is done: the target holds the checked bytes, but a crash may still undo it.
            raise ProviderError(
                f"restoring {what} to {to} wrote it, but its folder could not be synced: "
                f"{exc.strerror or exc}; a crash may leave the old {to.name}"
            ) from exc
        return counted.written


def aside_prefix(name: str) -> str:
    """The start of the name a restore into ``name`` writes aside under: its leftovers match it.

    The target's name is cut, in bytes, so that the whole fits in a file name when the target's does.
    """
    room = _FILE_NAME_BYTES - 1 - len(_ASIDE_TAIL) - 2 * _ASIDE_TOKEN_BYTES
    return f".{os.fsdecode(os.fsencode(name)[:room])}{_ASIDE_TAIL}"


def _unlink_quietly(name: str, folder: int) -> None:
    """Remove a file left by a failed write; a failure to is logged, never raised.

    It runs while another error is on its way up: that error says why the write failed, and must
    not be replaced by this one (the file left is a restore's leftover, named as such).
    """
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("%s, left by a failed write, could not be removed: %s", name, exc.strerror or exc)


def _parent_file(locator: str) -> str:
    return hashlib.sha256(locator.encode()).hexdigest()


def parent_backup(root: Path, locator: str) -> Path | None:
    """The index of the volume file's previous backup, if one was recorded and is still there.

    The store reuses it only if the file's device, inode, size, mtime and ctime are the ones it
    recorded: whatever this names, a changed file is read again.
    """
    try:
        folder = os.open(root / _PARENTS, _DIRECTORY)
    except FileNotFoundError:
        return None
    with opened(folder):
        try:
            fd = os.open(_parent_file(locator), _READ, dir_fd=folder)
        except FileNotFoundError:
            return None
        with opened(fd):
            name = os.read(fd, 512).decode(errors="replace")
    if (
        name.endswith(chunkstore.INDEX_SUFFIX)
        and name == os.path.basename(name)
        and os.path.lexists(root / name)
    ):
        return root / name
    return None


def remember_parent(root: Path, locator: str, index_name: str) -> None:
    """Record ``index_name`` as the volume file's latest backup (replacing the record atomically)."""
    (root / _PARENTS).mkdir(exist_ok=True)
    folder = os.open(root / _PARENTS, _DIRECTORY)
    with opened(folder):
        name = _parent_file(locator)
        tmp = f".tmp-{name}-{secrets.token_hex(4)}"
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder
        )
        try:
            with opened(fd):
                os.write(fd, index_name.encode())
            os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            _unlink_quietly(tmp, folder)
            raise


def restore_copy(path: Path, to: Path, *, expected: str, what: str, progress: Progress | None = None) -> int:
    """Restore a full-copy backup (made before the chunk store) through ``write_aside``."""
    try:
        source = os.open(path, _READ)
    except FileNotFoundError:
        raise ProviderError(f"{what} is gone") from None
    except OSError as exc:
        raise ProviderError(f"cannot read {what}: {exc.strerror}") from exc
    with opened(source):
        if not stat.S_ISREG(os.fstat(source).st_mode):
            raise ProviderError(f"{what} is not a regular file")

        def copy(out) -> None:
            while block := os.read(source, _COPY_BLOCK):
                out.write(block)

        return write_aside(copy, to, expected=expected, what=what, progress=progress)
