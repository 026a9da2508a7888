"""The openstack provider: Cinder volume backups through openstacksdk.

Credentials come from ``clouds.yaml`` or the ``OS_*`` variables, as for the ``openstack``
command. ``OPENSTACK_CLOUDS`` maps a project to its ``clouds.yaml`` cloud
(``project_id=cloud,...``); a project not listed uses the default cloud (``OS_CLOUD`` or the
``OS_*`` variables). The credentials of a project's cloud must be scoped to that project: the
provider lists and backs up whatever the cloud's token can see.

Calls used (Block Storage API v3): list volumes (``GET /volumes/detail``), create a backup
(``POST /backups``, ``force`` so an in-use volume is backed up too), show one (``GET
/backups/{id}``) until it is ``available`` or ``error``, list backups by name, delete one
(``DELETE /backups/{id}``), restore one into a new volume (``POST /backups/{id}/restore`` with a
``name``), and show that volume (``GET /volumes/{id}``) until it is ``available`` or ``error``.
Cinder restores over an existing volume in place, so that is refused here: a failure would leave
the volume half-written. A verification asks Cinder for the backup (``GET /backups/{id}``): it
passes while Cinder has it ``available``; its bytes live in Cinder's store, out of this service's
reach.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from .base import (
    BackupResult,
    ProviderError,
    ProviderTimeout,
    TransientProviderError,
    VerifyOutcome,
    VolumeInfo,
)

_GIB = 1024**3
POLL_SECONDS = 5.0
RESTORE_SECONDS = 6 * 3600.0  # how long a Cinder restore may take before the restore is failed


def _fail(exc: Exception) -> ProviderError:
    from openstack import exceptions

    status = getattr(exc, "status_code", None)
    message = f"Cinder: {getattr(exc, 'details', None) or exc}"
    if (
        isinstance(exc, exceptions.HttpException)
        and status is not None
        and (status >= 500 or status in (409, 429))
    ):
        return TransientProviderError(message)
    if isinstance(exc, exceptions.HttpException) and status is not None:
        return ProviderError(message)
    # No answer at all (a refused or lost connection): worth another try.
    return TransientProviderError(message)


class OpenStackProvider:
    name = "openstack"

    def __init__(
        self,
        clouds: dict[str, str] | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        restore_seconds: float = RESTORE_SECONDS,
        **connect,
    ) -> None:
        self.clouds = clouds or {}
        self.poll_seconds = poll_seconds
        self.restore_seconds = restore_seconds
        self.connect_options = connect  # tests: auth_url, credentials... instead of clouds.yaml
        self._connections: dict[str, object] = {}

    def _connection(self, project_id: str):
        if project_id not in self._connections:
            import openstack

            cloud = self.clouds.get(project_id)
            self._connections[project_id] = openstack.connect(cloud=cloud, **self.connect_options)
        return self._connections[project_id]

    def _storage(self, project_id: str):
        return self._connection(project_id).block_storage

    def list_volumes(self, project_id: str) -> list[VolumeInfo]:
        try:
            found = list(self._storage(project_id).volumes(details=True))
        except Exception as exc:
            raise _fail(exc) from exc
        return [self._info(volume) for volume in found]

    @staticmethod
    def _info(volume) -> VolumeInfo:
        return VolumeInfo(
            resource_id=uuid.UUID(volume.id),
            name=volume.name or "",
            size_gib=float(volume.size or 0),
            status=volume.status or "",
            availability_zone=volume.availability_zone or "",
            host=volume.host or "",
            locator=volume.id,
        )

    def create_backup(self, project_id: str, volume, backup_name: str, *, deadline: float) -> BackupResult:
        volume_id = volume.locator if isinstance(volume, VolumeInfo) else volume
        storage = self._storage(project_id)
        try:
            backup = storage.create_backup(volume_id=volume_id, name=backup_name, force=True)
            while True:
                backup = storage.get_backup(backup.id)
                if backup.status == "available":
                    return BackupResult(
                        locator=backup.id,
                        size_bytes=int(backup.size or 0) * _GIB,
                        message=f"Cinder backup {backup.id} of volume {volume_id} is available",
                    )
                if backup.status == "error":
                    reason = backup.fail_reason or "no reason given"
                    storage.delete_backup(backup.id, ignore_missing=True)
                    raise ProviderError(f"Cinder backup failed: {reason}")
                if time.monotonic() > deadline:
                    raise ProviderTimeout(
                        f"Cinder backup {backup.id} was still {backup.status} at the deadline"
                    )
                time.sleep(self.poll_seconds)
        except ProviderError:
            raise
        except Exception as exc:
            raise _fail(exc) from exc

    def check_backup(self, project_id: str, locator: str) -> bool:
        try:
            return self._storage(project_id).get_backup(locator).status == "available"
        except Exception:
            return False

    # Cinder keeps a backup's bytes in its own object store, which this service cannot read: what
    # it can check is Cinder's word for the backup (it still exists, and is available rather than
    # error). A backup made through Cinder has no SHA-256 here, so none is compared.
    def verify_backup(self, project_id: str, locator: str, sha256: str) -> VerifyOutcome:
        from openstack.exceptions import NotFoundException

        try:
            backup = self._storage(project_id).get_backup(locator)
        except NotFoundException:
            backup = None
        except Exception as exc:
            raise TransientProviderError(f"Cinder could not be asked about backup {locator}: {exc}") from exc
        if backup is None:
            return VerifyOutcome(False, f"Cinder no longer has backup {locator}")
        if backup.status == "error":
            reason = backup.fail_reason or "no reason given"
            return VerifyOutcome(False, f"Cinder reports backup {locator} as error: {reason}")
        if backup.status != "available":
            raise TransientProviderError(
                f"Cinder backup {locator} is {backup.status}: verified once it settles"
            )
        return VerifyOutcome(
            True, f"Cinder reports backup {locator} available (its bytes are Cinder's to check)"
        )

    def delete_backup(self, project_id: str, locator: str) -> None:
        try:
            self._storage(project_id).delete_backup(locator, ignore_missing=True)
        except Exception as exc:
            raise _fail(exc) from exc

    def discard(self, project_id: str, backup_name: str) -> None:
        # The name is unique (autobk_ + 12 hex): any backup of that name is the dead attempt's.
        storage = self._storage(project_id)
        try:
            for backup in storage.backups(details=True, name=backup_name):
                storage.delete_backup(backup.id, ignore_missing=True)
        except Exception as exc:
            raise _fail(exc) from exc

    def collect_garbage(self, project_id: str, *, period: str = "") -> None:
        return None  # a deleted Cinder backup frees its own space

    def stored_bytes(self, project_id: str) -> None:
        return None  # Cinder does not say; the project's backup sizes are counted instead

    def restore_backup(
        self, project_id: str, locator: str, to: Path, *, sha256: str = "", progress=None
    ) -> int:
        raise ProviderError(
            f"Cinder backup {locator} is restored into a volume, not a file: "
            f"use `openstack volume backup restore {locator} <volume>`"
        )

    def restore_to_new_volume(
        self, project_id: str, locator: str, name: str, *, sha256: str, progress=None
    ) -> tuple[VolumeInfo, int]:
        """Have Cinder restore the backup into a new volume ``name``; wait until it is available.

        The bytes never pass through this service, so no SHA-256 is checked here: Cinder's backup
        driver checks its own objects. A failed restore leaves a volume in ``error``, never a
        changed existing one.
        """
        storage = self._storage(project_id)
        deadline = time.monotonic() + self.restore_seconds
        try:
            made = storage.restore_backup(locator, name=name)
            volume_id = made.volume_id
            while True:
                volume = storage.get_volume(volume_id)
                if volume.status == "available":
                    return self._info(volume), int(volume.size or 0) * _GIB
                if volume.status in ("error", "error_restoring"):
                    raise ProviderError(
                        f"Cinder could not restore backup {locator} into new volume {name} ({volume_id}): "
                        f"it is {volume.status}; delete that volume and try again"
                    )
                if time.monotonic() > deadline:
                    raise ProviderTimeout(
                        f"Cinder volume {volume_id} was still {volume.status} at the deadline"
                    )
                time.sleep(self.poll_seconds)
        except ProviderError:
            raise
        except Exception as exc:
            raise _fail(exc) from exc

    def restore_over_volume(
        self, project_id: str, locator: str, volume: str, *, sha256: str, progress=None
    ) -> int:
        # Cinder writes over the volume in place: a failure leaves it half-written, and its bytes
        # cannot be checked here. Refused, with the way that keeps the volume safe.
        raise ProviderError(
            f"Cinder backup {locator} is not restored over an existing volume here: a failed Cinder "
            "restore would leave it half-written; restore into a new volume instead"
        )

    def backup_matches(self, project_id: str, locator: str, sha256: str) -> bool:
        return True  # not known here: a refused restore says nothing of the backup

    def discard_restore(self, project_id: str, volume_name: str) -> None:
        return None
