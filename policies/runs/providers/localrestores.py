"""The local provider's restores into the project's volumes: thin wrappers over its ``restore_backup``.

Each writes aside and renames into place only when the digest matches (``restore_backup``); a
restore into a new volume never replaces a file, one over a volume replaces the file it listed.
"""

from __future__ import annotations

import os
import uuid
from glob import escape as glob_escape
from pathlib import Path

from .base import ProviderError, VolumeInfo
from .localfiles import Progress, aside_prefix, parse_locator, safe, volume_id


class VolumeRestores:
    """What ``LocalProvider`` adds for restores into volumes (it supplies the folders and reads)."""

    def _volume_path(self, project_id: str, name: bytes) -> Path:
        os.close(self._open_project_folder(project_id))  # refuses a project folder that is a link
        return self.volume_root / safe(project_id) / os.fsdecode(safe(os.fsdecode(name)))

    def new_volume_id(self, project_id: str, name: str) -> uuid.UUID:
        """The ID the volume file ``name`` will have once restored (a file's ID is its name's)."""
        return volume_id(project_id, os.fsencode(name))

    def restore_to_new_volume(
        self, project_id: str, locator: str, name: str, *, sha256: str, progress: Progress | None = None
    ) -> tuple[VolumeInfo | None, int]:
        """Restore into a new volume file ``name`` of the project; return its listing and its size."""
        (self.volume_root / safe(project_id)).mkdir(parents=True, exist_ok=True)
        path = self._volume_path(project_id, os.fsencode(name))
        if os.path.lexists(path):
            raise ProviderError(
                f"volume file {name!r} already exists: a restore into a new volume never replaces one"
            )
        written = self.restore_backup(project_id, locator, path, sha256=sha256, progress=progress)
        made = self.new_volume_id(project_id, name)
        return next(
            (info for info in self.list_volumes(project_id) if info.resource_id == made), None
        ), written

    def restore_over_volume(
        self, project_id: str, locator: str, volume: str, *, sha256: str, progress: Progress | None = None
    ) -> int:
        """Restore over the listed volume file ``volume`` (its locator); return the size written."""
        target = self._volume_path(project_id, parse_locator(volume).name)
        return self.restore_backup(project_id, locator, target, sha256=sha256, progress=progress)

    def backup_matches(self, project_id: str, locator: str, sha256: str) -> bool:
        """Whether the backup's bytes still have the digest recorded when it was made."""
        try:
            return self.verify_backup(project_id, locator, sha256).ok
        except ProviderError:
            return False

    def discard_restore(self, project_id: str, volume_name: str) -> None:
        """Remove what an interrupted restore into ``volume_name`` left beside it (never the volume)."""
        folder = self.volume_root / safe(project_id)
        for leftover in folder.glob(f"{glob_escape(aside_prefix(safe(volume_name)))}*"):
            leftover.unlink(missing_ok=True)
