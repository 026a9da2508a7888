"""The embedded provider: a project's volumes are files, a backup is a verified copy.

Volumes are the regular files in ``LOCAL_VOLUME_ROOT/<project_id>/`` (sub-folders and other
kinds of file are ignored). A backup of ``disk1.img`` named ``autobk_1a2b3c4d-1`` is the file
``LOCAL_BACKUP_ROOT/<project_id>/autobk_1a2b3c4d-1``. It is written under a temporary name
(``.autobk_1a2b3c4d-1.partial``), its SHA-256 is checked against the digest of the source as it
was read during the copy, and only then renamed into place, atomically: a worker killed
mid-copy leaves a ``.partial`` file, which :meth:`LocalProvider.discard` removes when the task
is taken back, never a backup that looks complete.

A tenant controls the files of its folder, so the provider reads exactly the file it listed and
nothing a tenant can point it to: every open is relative to the folder opened before it and
refuses a symbolic link (``O_NOFOLLOW``), the project folder included; the file read must be the
one listed (its device and inode are part of the locator); a file with other hard links is
refused (it may be another project's file, or one outside the volumes). A name is bytes: any
name the filesystem allows is a volume, with an ID derived from its bytes, or is skipped with a
logged reason.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
import stat
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes

from .base import BackupResult, ProviderError, ProviderTimeout, TransientProviderError, VolumeInfo

logger = logging.getLogger(__name__)

# The resource_id of a file is derived from its project and name, so it is stable across syncs.
_VOLUME_NAMESPACE = uuid.UUID("6f4c1f4e-2d0a-4a54-9c6e-3b3f6c9c7a11")
_CHUNK = 1024 * 1024
_GIB = 1024**3
_NAME_MAX = 255  # the display name's room in the database
# A listed volume's locator: "<device>:<inode>:<the name's bytes, percent-encoded>".
_LOCATOR = re.compile(r"(\d+):(\d+):([A-Za-z0-9%._~-]+)")
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _safe(part: str) -> str:
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
class _Listed:
    """What a locator says: the file's name (bytes) and, when it was listed, its device and inode."""

    name: bytes
    identity: tuple[int, int] | None


def _parse_locator(locator: str) -> _Listed:
    match = _LOCATOR.fullmatch(locator)
    if match:
        return _Listed(unquote_to_bytes(match[3]), (int(match[1]), int(match[2])))
    # A bare file name (a caller that names the file itself): no identity to compare.
    return _Listed(os.fsencode(_safe(locator)), None)


def _words(name: bytes) -> str:
    return repr(display_name(name))


@contextmanager
def _opened(fd: int):
    try:
        yield fd
    finally:
        os.close(fd)


class LocalProvider:
    name = "local"

    def __init__(
        self,
        volume_root: Path,
        backup_root: Path,
        *,
        bytes_per_second: int | None = None,
        min_free_bytes: int = 0,
    ) -> None:
        self.volume_root = Path(volume_root)
        self.backup_root = Path(backup_root)
        # An optional copy rate limit, to spare a shared disk (and to let tests stop a copy midway).
        self.bytes_per_second = bytes_per_second
        # A backup that would leave less free space than this on the backup disk is refused before
        # it starts: one project's large copy must not fill the disk that every project writes to.
        self.min_free_bytes = min_free_bytes

    # -- volumes

    def _open_project_folder(self, project_id: str) -> int:
        """Open the project's volume folder; refuse one that is a symbolic link. FileNotFoundError: none."""
        root = os.open(self.volume_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        with _opened(root):
            try:
                return os.open(os.fsencode(_safe(project_id)), _DIRECTORY, dir_fd=root)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise ProviderError(
                        f"the volume folder of project {project_id!r} is a symbolic link or not a "
                        "folder: refused (only a real folder is read)"
                    ) from None
                raise

    def list_volumes(self, project_id: str) -> list[VolumeInfo]:
        try:
            folder = self._open_project_folder(project_id)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise TransientProviderError(
                f"cannot read the volumes of {project_id!r}: {exc.strerror}"
            ) from exc
        volumes = []
        with _opened(folder), os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda entry: os.fsencode(entry.name)):
                name = os.fsencode(entry.name)  # the name's own bytes, whatever their encoding
                if name.startswith(b"."):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone since the listing
                if not stat.S_ISREG(info.st_mode):
                    if stat.S_ISLNK(info.st_mode):
                        logger.info(
                            "project %s: %s skipped: a symbolic link is never a volume",
                            project_id,
                            _words(name),
                        )
                    continue
                if info.st_nlink > 1:
                    logger.warning(
                        "project %s: %s skipped: it has %d hard links (it may be another project's file)",
                        project_id,
                        _words(name),
                        info.st_nlink,
                    )
                    continue
                volumes.append(
                    VolumeInfo(
                        resource_id=volume_id(project_id, name),
                        name=display_name(name),
                        size_gib=round(info.st_size / _GIB, 6),
                        status="available",
                        availability_zone="local",
                        host=socket.gethostname(),
                        locator=volume_locator(name, info),
                    )
                )
        return volumes

    def _open_volume(self, project_id: str, locator: str) -> tuple[int, os.stat_result, str]:
        """Open exactly the listed file for reading: its fd, its fstat, and its name for messages."""
        listed = _parse_locator(locator)
        shown = _words(listed.name)
        try:
            folder = self._open_project_folder(project_id)
        except FileNotFoundError:
            raise ProviderError(f"volume file {shown} no longer exists") from None
        except OSError as exc:
            raise TransientProviderError(f"cannot read volume file {shown}: {exc.strerror}") from exc
        with _opened(folder):
            try:
                fd = os.open(listed.name, _READ, dir_fd=folder)
            except FileNotFoundError:
                raise ProviderError(f"volume file {shown} no longer exists") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ProviderError(
                        f"volume file {shown} is now a symbolic link: refused (only the file listed is read)"
                    ) from None
                raise TransientProviderError(f"cannot read volume file {shown}: {exc.strerror}") from exc
        info = os.fstat(fd)
        problem = ""
        if not stat.S_ISREG(info.st_mode):
            problem = f"volume {shown} is not a regular file: refused"
        elif info.st_nlink > 1:
            problem = (
                f"volume file {shown} has {info.st_nlink} hard links: refused (it may be another "
                "project's file)"
            )
        elif listed.identity is not None and listed.identity != (info.st_dev, info.st_ino):
            problem = (
                f"volume file {shown} is not the file listed (another file took its name since the "
                "inventory was synced): refused until the next sync lists it"
            )
        if problem:
            os.close(fd)
            raise ProviderError(problem)
        os.set_blocking(fd, True)
        return fd, info, shown

    # -- backups

    def _backup_dir(self, project_id: str) -> Path:
        return self.backup_root / _safe(project_id)

    def _partial(self, project_id: str, backup_name: str) -> Path:
        return self._backup_dir(project_id) / f".{_safe(backup_name)}.partial"

    def create_backup(
        self, project_id: str, volume: VolumeInfo | str, backup_name: str, *, deadline: float
    ) -> BackupResult:
        locator = volume.locator if isinstance(volume, VolumeInfo) else volume
        target_dir = self._backup_dir(project_id)
        target_dir.mkdir(parents=True, exist_ok=True)
        partial = self._partial(project_id, backup_name)
        final = target_dir / _safe(backup_name)
        source, info, shown = self._open_volume(project_id, locator)
        with _opened(source):
            self._check_free_space(target_dir, info.st_size, shown)
            copied, copy_digest = self._copy(source, partial, shown, deadline)
        return BackupResult(
            locator=str(final.relative_to(self.backup_root)),
            size_bytes=copied,
            sha256=copy_digest,
            message=f"copied {copied} bytes of {shown}, SHA-256 {copy_digest[:12]}… verified",
        )

    def _check_free_space(self, target_dir: Path, size: int, shown: str) -> None:
        reserve = self.min_free_bytes
        free = shutil.disk_usage(target_dir).free
        if free - size < reserve:
            raise ProviderError(
                f"not enough free space for the backup of {shown}: it needs {size} bytes, the backup "
                f"disk has {free} free and keeps {reserve} in reserve"
            )

    def _copy(self, source: int, partial: Path, shown: str, deadline: float) -> tuple[int, str]:
        source_digest = hashlib.sha256()
        copied = 0
        started = time.monotonic()
        final = partial.with_name(partial.name[1 : -len(".partial")])
        try:
            writer_fd = os.open(
                partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
            with os.fdopen(writer_fd, "wb") as writer:
                while chunk := os.read(
                    source, _CHUNK if self.bytes_per_second is None else min(_CHUNK, self.bytes_per_second)
                ):
                    if time.monotonic() > deadline:
                        raise ProviderTimeout(
                            f"the copy of {shown} did not finish in time ({copied} bytes copied)"
                        )
                    source_digest.update(chunk)
                    writer.write(chunk)
                    copied += len(chunk)
                    if self.bytes_per_second:
                        time.sleep(max(0.0, started + copied / self.bytes_per_second - time.monotonic()))
                writer.flush()
                os.fsync(writer.fileno())
            copy_digest = _sha256(partial)
            if copy_digest != source_digest.hexdigest():
                raise TransientProviderError(
                    f"the copy of {shown} does not match its source (SHA-256); retrying"
                )
            os.replace(partial, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise TransientProviderError(f"copy of {shown} failed: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return copied, copy_digest

    def _path(self, locator: str) -> Path:
        path = (self.backup_root / locator).resolve()
        if self.backup_root.resolve() not in path.parents:
            raise ProviderError(f"{locator!r} is not a backup of this provider")
        return path

    def check_backup(self, project_id: str, locator: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self._path(locator)).st_mode)
        except FileNotFoundError:
            return False

    def delete_backup(self, project_id: str, locator: str) -> None:
        self._path(locator).unlink(missing_ok=True)

    def discard(self, project_id: str, backup_name: str) -> None:
        self._partial(project_id, backup_name).unlink(missing_ok=True)
        (self._backup_dir(project_id) / _safe(backup_name)).unlink(missing_ok=True)

    def restore_backup(self, project_id: str, locator: str, to: Path, *, sha256: str = "") -> int:
        """Write the backup out to ``to``: aside first, renamed into place only when its digest matches.

        ``to`` must not be a symbolic link (dangling or not) nor a file with other hard links; a
        damaged backup, a full disk or any other failure leaves ``to`` as it was. Return the
        number of bytes written.
        """
        to = Path(to)
        source_path = self._path(locator)
        _check_restore_target(to)
        try:
            source = os.open(source_path, _READ & ~os.O_NONBLOCK)
        except FileNotFoundError:
            raise ProviderError(f"backup {locator!r} is gone") from None
        except OSError as exc:
            raise ProviderError(f"cannot read backup {locator!r}: {exc.strerror}") from exc
        with _opened(source):
            if not stat.S_ISREG(os.fstat(source).st_mode):
                raise ProviderError(f"backup {locator!r} is not a regular file")
            return _write_aside(source, to, expected=sha256, what=f"backup {locator!r}")


def _check_restore_target(to: Path) -> None:
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


def _write_aside(source: int, to: Path, *, expected: str, what: str) -> int:
    """Copy ``source`` into a new file beside ``to``; rename it over ``to`` only if its SHA-256 is ``expected``."""
    try:
        folder = os.open(to.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ProviderError(f"cannot write into {to.parent}: {exc.strerror}") from exc
    with _opened(folder):
        aside = f".{to.name}.restore-{secrets.token_hex(4)}"
        digest = hashlib.sha256()
        written = 0
        try:
            fd = os.open(
                aside,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=folder,
            )
            with os.fdopen(fd, "wb") as writer:
                while chunk := os.read(source, _CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    written += len(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            if expected and digest.hexdigest() != expected:
                raise ProviderError(
                    f"{what} is damaged: its SHA-256 is {digest.hexdigest()[:12]}…, recorded "
                    f"{expected[:12]}… ({written} bytes read); {to} is left as it was"
                )
            # A symbolic link put at the target meanwhile is replaced, never followed.
            os.rename(aside, to.name, src_dir_fd=folder, dst_dir_fd=folder)
            os.fsync(folder)
        except OSError as exc:
            _unlink_quietly(aside, folder)
            raise ProviderError(
                f"restoring {what} to {to} failed: {exc.strerror or exc}; {to} is left as it was"
            ) from exc
        except BaseException:
            _unlink_quietly(aside, folder)
            raise
    return written


def _unlink_quietly(name: str, folder: int) -> None:
    with suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
