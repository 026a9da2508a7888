"""The embedded provider: a project's volumes are files, its backups live in a chunk store.

Volumes are the regular files in ``LOCAL_VOLUME_ROOT/<project_id>/`` (sub-folders and other
kinds of file are ignored). Each project has its own content-addressed chunk store,
``LOCAL_BACKUP_ROOT/<project_id>/.store/`` (``chunkstore``): a volume is cut into chunks named by
their BLAKE3 digest, each stored once, and a backup named ``autobk_1a2b3c4d-1`` is the index
``.store/autobk_1a2b3c4d-1.index``, linked into place only once every chunk it names is durable.
Unchanged data is stored once per project, never across projects: a chunk shared between
tenants would let one tell whether another holds given bytes. A worker killed mid-backup leaves
no index, only chunks no index names and a stale writer's lease, which the garbage collection
removes (when an attempt is discarded, after retention, and once an hour);
:meth:`LocalProvider.discard` also removes an index an attempt wrote but never recorded. The
store keeps, per volume file, the name of its latest index: given as the parent of the next
backup, it lets a file whose device, inode, size and times are unchanged go unread.

Backups made before the store are full copies, ``LOCAL_BACKUP_ROOT/<project_id>/<name>``; their
locators have no ``.index`` suffix and they are still checked, restored and deleted as before.

A tenant controls the files of its folder, so the provider reads exactly the file it listed and
nothing a tenant can point it to: every open is relative to the folder opened before it and
refuses a symbolic link (``O_NOFOLLOW``), the project folder included; the file read must be the
one listed (its device and inode are part of the locator); a file with other hard links is
refused (it may be another project's file, or one outside the volumes).
"""

from __future__ import annotations

import errno
import logging
import math
import os
import shutil
import socket
import stat
import time
from pathlib import Path, PurePosixPath

from policies.domain.words import bytes_words

from . import chunkstore
from .base import (
    BackupResult,
    ProviderError,
    ProviderTimeout,
    TransientProviderError,
    VolumeInfo,
)
from .localfiles import (
    Progress,
    check_restore_target,
    display_name,
    opened,
    parent_backup,
    parse_locator,
    remember_parent,
    restore_copy,
    safe,
    volume_id,
    volume_locator,
    words,
    write_aside,
)
from .localrestores import VolumeRestores
from .localstore import STORE, StoreUpkeep

logger = logging.getLogger(__name__)

_GIB = 1024**3
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# A throttled backup sleeps at most this long between checks of its deadline.
_THROTTLE_STEP = 0.2


class LocalProvider(VolumeRestores, StoreUpkeep):
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
        # An optional read rate limit, to spare a shared disk (and to let tests stop a backup midway).
        self.bytes_per_second = bytes_per_second
        # A backup that would leave less free space than this on the backup disk is refused before
        # it starts: one project's large copy must not fill the disk that every project writes to.
        self.min_free_bytes = min_free_bytes

    # -- volumes

    def _open_project_folder(self, project_id: str) -> int:
        """Open the project's volume folder; refuse one that is a symbolic link. FileNotFoundError: none."""
        root = os.open(self.volume_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        with opened(root):
            try:
                return os.open(os.fsencode(safe(project_id)), _DIRECTORY, dir_fd=root)
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
        with opened(folder), os.scandir(folder) as entries:
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
                            words(name),
                        )
                    continue
                if info.st_nlink > 1:
                    logger.warning(
                        "project %s: %s skipped: it has %d hard links (it may be another project's file)",
                        project_id,
                        words(name),
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
        listed = parse_locator(locator)
        shown = words(listed.name)
        try:
            folder = self._open_project_folder(project_id)
        except FileNotFoundError:
            raise ProviderError(f"volume file {shown} no longer exists") from None
        except OSError as exc:
            raise TransientProviderError(f"cannot read volume file {shown}: {exc.strerror}") from exc
        with opened(folder):
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
        return self.backup_root / safe(project_id)

    def _store_root(self, project_id: str) -> Path:
        return self._backup_dir(project_id) / STORE

    def _index(self, project_id: str, locator: str) -> Path | None:
        """The index a locator names in the project's own store; None for a full copy's locator."""
        if not locator.endswith(chunkstore.INDEX_SUFFIX):
            return None
        parts = PurePosixPath(locator).parts
        if len(parts) != 3 or parts[0] != project_id or parts[1] != STORE:
            raise ProviderError(f"{locator!r} is not a backup of project {project_id!r}")
        return self._store_root(project_id) / safe(parts[2])

    def create_backup(
        self, project_id: str, volume: VolumeInfo | str, backup_name: str, *, deadline: float
    ) -> BackupResult:
        locator = volume.locator if isinstance(volume, VolumeInfo) else volume
        root = self._store_root(project_id)
        index = root / f"{safe(backup_name)}{chunkstore.INDEX_SUFFIX}"
        source, info, shown = self._open_volume(project_id, locator)
        with opened(source):
            root.mkdir(parents=True, exist_ok=True)
            self._check_free_space(root, info.st_size, shown)
            try:
                stats = chunkstore.write_backup(
                    source,
                    index,
                    store_root=root,
                    progress=self._paced(deadline=deadline, what=f"the backup of {shown}"),
                    parent=parent_backup(root, locator),
                )
            except chunkstore.ChunkStoreError as exc:
                raise TransientProviderError(f"the backup of {shown} failed: {exc}") from exc
            except OSError as exc:
                raise TransientProviderError(f"the backup of {shown} failed: {exc.strerror or exc}") from exc
        try:
            remember_parent(root, locator, index.name)
        except OSError as exc:  # the next backup of the file reads it in full: no harm but time
            logger.warning("cannot record %s as the latest backup of %s: %s", index.name, shown, exc)
        how = (
            "unchanged since its previous backup, not read again"
            if stats.from_parent
            else f"{bytes_words(stats.bytes_written)} new in {stats.chunks_written} of {stats.chunks} chunks"
        )
        return BackupResult(
            locator=f"{project_id}/{STORE}/{index.name}",
            size_bytes=stats.size,
            sha256=stats.sha256,
            message=f"stored {bytes_words(stats.size)} of {shown} ({how}), SHA-256 {stats.sha256[:12]}… verified",
        )

    def _paced(
        self, progress: Progress | None = None, *, deadline: float = math.inf, what: str = ""
    ) -> Progress:
        """A copy's progress hook: it tells ``progress``, keeps the read rate and, past ``deadline``
        (monotonic), stops the copy of ``what``."""
        started = time.monotonic()

        def step(done: int) -> None:
            if progress is not None:
                progress(done)
            while True:
                now = time.monotonic()
                if now > deadline:
                    raise ProviderTimeout(f"{what} did not finish in time ({done} bytes read)")
                wait = started + done / self.bytes_per_second - now if self.bytes_per_second else 0.0
                if wait <= 0:
                    return
                time.sleep(min(wait, _THROTTLE_STEP))

        return step

    def _check_free_space(self, target_dir: Path, size: int, shown: str) -> None:
        reserve = self.min_free_bytes
        free = shutil.disk_usage(target_dir).free
        if free - size < reserve:
            raise ProviderError(
                f"not enough free space for the backup of {shown}: it needs {size} bytes, the backup "
                f"disk has {free} free and keeps {reserve} in reserve"
            )

    def _path(self, locator: str) -> Path:
        path = (self.backup_root / locator).resolve()
        if self.backup_root.resolve() not in path.parents:
            raise ProviderError(f"{locator!r} is not a backup of this provider")
        return path

    def delete_backup(self, project_id: str, locator: str) -> None:
        index = self._index(project_id, locator)
        if index is None:
            self._path(locator).unlink(missing_ok=True)
            return
        # The chunks only this backup named go at the next garbage collection.
        self._delete_index(project_id, index)

    def _delete_index(self, project_id: str, index: Path) -> None:
        if not os.path.lexists(index):
            return  # never written, or deleted already (a store may not even exist yet)
        chunkstore.delete_index(index, store_root=self._store_root(project_id))

    def discard(self, project_id: str, backup_name: str) -> None:
        """Remove the attempt's index (or full copy), then what a killed writer left in the store.

        A killed writer leaves no index, only its lease and chunks no index names: the collection
        removes the lease now and those chunks once they are old enough.
        """
        folder = self._backup_dir(project_id)
        (folder / f".{safe(backup_name)}.partial").unlink(missing_ok=True)
        (folder / safe(backup_name)).unlink(missing_ok=True)
        self._delete_index(
            project_id, self._store_root(project_id) / f"{safe(backup_name)}{chunkstore.INDEX_SUFFIX}"
        )
        try:
            self.collect_garbage(project_id)
        except Exception:  # the attempt's own leftovers are gone; the hourly collection tries again
            logger.exception("collecting the store of project %s failed", project_id)

    def restore_backup(
        self, project_id: str, locator: str, to: Path, *, sha256: str = "", progress: Progress | None = None
    ) -> int:
        """Write the backup out to ``to``: aside first, renamed into place only when its digest matches.

        ``to`` must not be a symbolic link (dangling or not) nor a file with other hard links; a
        damaged backup, a full disk or any other failure leaves ``to`` as it was. Return the
        number of bytes written; ``progress`` is told the bytes written so far on the way.
        """
        to = Path(to)
        index = self._index(project_id, locator)
        check_restore_target(to)
        what = f"backup {locator!r}"
        progress = self._paced(progress)
        if index is None:
            return restore_copy(self._path(locator), to, expected=sha256, what=what, progress=progress)
        root = self._store_root(project_id)

        def copy(out) -> str:
            # The store checks each chunk and the whole volume's digest as it reads: that digest,
            # of exactly the bytes written, is the one compared, so nothing is hashed twice.
            try:
                return chunkstore.read_backup(index, out, store_root=root).sha256
            except chunkstore.CorruptBackup as exc:
                raise ProviderError(f"{what} is damaged: {exc}; {to} is left as it was") from None
            except chunkstore.ChunkStoreError as exc:
                raise ProviderError(f"cannot read {what}: {exc}; {to} is left as it was") from None

        return write_aside(copy, to, expected=sha256, what=what, progress=progress, digested=True)

    # -- the store
