"""What the product asks of a block-storage provider, and nothing more.

A provider lists a project's volumes and creates, checks, deletes and restores one backup. It
knows nothing of policies, schedules or HTTP: the runs (``policies.runs``) decide what to back
up and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ProviderError(Exception):
    """A backup the provider refused or failed; the message is the provider's, for the task."""

    transient = False


class TransientProviderError(ProviderError):
    """A failure worth another try (a busy service, a lost connection)."""

    transient = True


class ProviderTimeout(ProviderError):
    """The backup did not finish before its deadline."""


@dataclass(frozen=True)
class VolumeInfo:
    resource_id: uuid.UUID
    name: str
    size_gib: float
    status: str
    availability_zone: str
    host: str
    locator: str


@dataclass(frozen=True)
class BackupResult:
    locator: str
    size_bytes: int
    sha256: str = ""
    message: str = ""


@dataclass(frozen=True)
class VerifyOutcome:
    """A backup read back: whether its bytes still have their recorded digest, and in words what
    was checked or what is wrong (a person reads it as the backup's ``fail_reason``)."""

    ok: bool
    detail: str


class Provider(Protocol):
    name: str

    def list_volumes(self, project_id: str) -> list[VolumeInfo]:
        """Return every volume of the project as the provider sees it now."""

    def create_backup(
        self, project_id: str, volume: VolumeInfo | str, backup_name: str, *, deadline: float
    ) -> BackupResult:
        """Back up one volume (its locator); give up with ProviderTimeout at ``deadline`` (monotonic)."""

    def check_backup(self, project_id: str, locator: str) -> bool:
        """Return True while the backup exists and is usable."""

    def verify_backup(self, project_id: str, locator: str, sha256: str) -> VerifyOutcome:
        """Read the backup back in one pass and compare its digest with ``sha256``; delete nothing.

        Raise TransientProviderError when it cannot be read now (verify again later).
        """

    def delete_backup(self, project_id: str, locator: str) -> None:
        """Delete one backup; deleting one already gone is not an error."""

    def discard(self, project_id: str, backup_name: str) -> None:
        """Remove whatever an interrupted attempt of ``backup_name`` may have left."""

    def restore_backup(
        self,
        project_id: str,
        locator: str,
        to: Path,
        *,
        sha256: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write the backup's content out to ``to`` if its digest is ``sha256``; return its size.

        Written aside and renamed into place: any failure leaves ``to`` as it was. ``progress`` is
        told the bytes written so far, now and then, for a person watching a long restore.
        """

    def collect_garbage(self, project_id: str, *, period: str = "") -> object:
        """Free what no backup of the project needs any more; with ``period``, at most once in it.

        Return None when nothing ran (nothing to collect, or already done in ``period``).
        """

    def stored_bytes(self, project_id: str) -> int | None:
        """Return the bytes the project's backups occupy at the provider; None when it cannot tell."""
