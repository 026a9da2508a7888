"""The embedded provider: a project's volumes are files, a backup is a verified copy.

Volumes are the regular files in ``LOCAL_VOLUME_ROOT/<project_id>/`` (sub-folders and other
kinds of file are ignored). A backup of ``disk1.img`` named ``autobk_1a2b3c4d`` is the file
``LOCAL_BACKUP_ROOT/<project_id>/autobk_1a2b3c4d``. It is written under a temporary name
(``.autobk_1a2b3c4d.partial``), its SHA-256 is checked against the digest of the source as it
was read during the copy, and only then renamed into place, atomically: a worker killed
mid-copy leaves a ``.partial`` file, which :meth:`LocalProvider.discard` removes when the task
is taken back, never a backup that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import time
import uuid
from pathlib import Path

from .base import BackupResult, ProviderError, ProviderTimeout, TransientProviderError, VolumeInfo

# The resource_id of a file is derived from its project and name, so it is stable across syncs.
_VOLUME_NAMESPACE = uuid.UUID("6f4c1f4e-2d0a-4a54-9c6e-3b3f6c9c7a11")
_CHUNK = 1024 * 1024
_GIB = 1024**3


def _safe(part: str) -> str:
    if not part or part in {".", ".."} or "/" in part or "\\" in part or "\0" in part:
        raise ProviderError(f"{part!r} is not a plain file name")
    return part


class LocalProvider:
    name = "local"

    def __init__(self, volume_root: Path, backup_root: Path, *, bytes_per_second: int | None = None) -> None:
        self.volume_root = Path(volume_root)
        self.backup_root = Path(backup_root)
        # An optional copy rate limit, to spare a shared disk (and to let tests stop a copy midway).
        self.bytes_per_second = bytes_per_second

    # -- volumes

    def _volume_dir(self, project_id: str) -> Path:
        return self.volume_root / _safe(project_id)

    def list_volumes(self, project_id: str) -> list[VolumeInfo]:
        folder = self._volume_dir(project_id)
        if not folder.is_dir():
            return []
        volumes = []
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            size = entry.stat(follow_symlinks=False).st_size
            volumes.append(
                VolumeInfo(
                    resource_id=uuid.uuid5(_VOLUME_NAMESPACE, f"{project_id}/{entry.name}"),
                    name=entry.name,
                    size_gib=round(size / _GIB, 6),
                    status="available",
                    availability_zone="local",
                    host=socket.gethostname(),
                    locator=entry.name,
                )
            )
        return volumes

    # -- backups

    def _backup_dir(self, project_id: str) -> Path:
        return self.backup_root / _safe(project_id)

    def _partial(self, project_id: str, backup_name: str) -> Path:
        return self._backup_dir(project_id) / f".{_safe(backup_name)}.partial"

    def create_backup(
        self, project_id: str, volume: VolumeInfo | str, backup_name: str, *, deadline: float
    ) -> BackupResult:
        locator = volume.locator if isinstance(volume, VolumeInfo) else volume
        source = self._volume_dir(project_id) / _safe(locator)
        target_dir = self._backup_dir(project_id)
        target_dir.mkdir(parents=True, exist_ok=True)
        partial = self._partial(project_id, backup_name)
        final = target_dir / _safe(backup_name)
        try:
            info = source.stat()
        except FileNotFoundError:
            raise ProviderError(f"volume file {locator!r} no longer exists") from None
        except OSError as exc:
            raise TransientProviderError(f"cannot read volume file {locator!r}: {exc.strerror}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise ProviderError(f"volume {locator!r} is not a regular file")
        source_digest = hashlib.sha256()
        copied = 0
        started = time.monotonic()
        try:
            with open(source, "rb") as reader, open(partial, "wb") as writer:
                while chunk := reader.read(
                    _CHUNK if self.bytes_per_second is None else min(_CHUNK, self.bytes_per_second)
                ):
                    if time.monotonic() > deadline:
                        raise ProviderTimeout(
                            f"the copy of {locator!r} did not finish in time ({copied} bytes copied)"
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
                    f"the copy of {locator!r} does not match its source (SHA-256); retrying"
                )
            os.replace(partial, final)
            _fsync_dir(target_dir)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise TransientProviderError(f"copy of {locator!r} failed: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return BackupResult(
            locator=str(final.relative_to(self.backup_root)),
            size_bytes=copied,
            sha256=copy_digest,
            message=f"copied {copied} bytes of {locator}, SHA-256 {copy_digest[:12]}… verified",
        )

    def _path(self, locator: str) -> Path:
        path = (self.backup_root / locator).resolve()
        if self.backup_root.resolve() not in path.parents:
            raise ProviderError(f"{locator!r} is not a backup of this provider")
        return path

    def check_backup(self, project_id: str, locator: str) -> bool:
        return self._path(locator).is_file()

    def delete_backup(self, project_id: str, locator: str) -> None:
        self._path(locator).unlink(missing_ok=True)

    def discard(self, project_id: str, backup_name: str) -> None:
        self._partial(project_id, backup_name).unlink(missing_ok=True)
        (self._backup_dir(project_id) / _safe(backup_name)).unlink(missing_ok=True)

    def restore_backup(self, project_id: str, locator: str, to: Path) -> None:
        source = self._path(locator)
        if not source.is_file():
            raise ProviderError(f"backup {locator!r} is gone")
        shutil.copyfile(source, to)


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
