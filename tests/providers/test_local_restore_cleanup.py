"""A restore that fails says why it failed, even when the file it wrote aside cannot be removed."""

import errno
import logging
import os

import pytest

from policies.runs.providers import localfiles
from policies.runs.providers.base import ProviderError


@pytest.fixture
def unlink_refused(monkeypatch):
    """Removing the file a restore wrote aside fails (a read-only remount, say); other files are removed."""
    real_unlink = os.unlink

    def unlink(name, *args, **kwargs):
        if localfiles.aside_prefix("restored.img") in os.fsdecode(name):
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_unlink(name, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)


def damaged(writer):
    writer.write(b"half a backup")
    raise ProviderError("backup b1 is damaged: chunk 3 does not match its digest")


def disk_full(writer):
    writer.write(b"half a backup")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_damaged_backup_is_the_reason_given_when_the_cleanup_fails_too(tmp_path, unlink_refused, caplog):
    target = tmp_path / "restored.img"
    target.write_bytes(b"what the target held")

    with caplog.at_level(logging.WARNING), pytest.raises(ProviderError, match="chunk 3 does not match"):
        localfiles.write_aside(damaged, target, expected="", what="backup b1")

    assert target.read_bytes() == b"what the target held"
    [left] = [path for path in tmp_path.iterdir() if path != target]
    assert any(
        str(left.name) in record.getMessage() and "Permission denied" in record.getMessage()
        for record in caplog.records
    )


def test_a_full_disk_is_the_reason_given_when_the_cleanup_fails_too(tmp_path, unlink_refused, caplog):
    target = tmp_path / "restored.img"

    with caplog.at_level(logging.WARNING), pytest.raises(ProviderError, match="No space left on device"):
        localfiles.write_aside(disk_full, target, expected="", what="backup b1")

    assert not target.exists()
    assert "could not be removed" in caplog.text


def test_without_a_cleanup_failure_the_file_written_aside_is_removed_and_nothing_logged(tmp_path, caplog):
    target = tmp_path / "restored.img"

    with caplog.at_level(logging.WARNING), pytest.raises(ProviderError, match="No space left on device"):
        localfiles.write_aside(disk_full, target, expected="", what="backup b1")

    assert list(tmp_path.iterdir()) == []
    assert caplog.records == []
