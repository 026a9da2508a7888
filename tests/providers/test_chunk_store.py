"""The content-addressed chunk store: round trips, deduplication, corruption found, garbage collection, kills."""

import fcntl
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import blake3
import pytest

from policies.runs.providers import chunkstore

CHUNK = 64 * 1024
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def make_volume(path: Path, n_chunks: int, *, extra: int = 0, seed: int = 1) -> Path:
    rng = hashlib.sha256(str(seed).encode()).digest()
    data = bytearray()
    while len(data) < n_chunks * CHUNK + extra:
        rng = hashlib.sha256(rng).digest()
        data += rng * 64
    path.write_bytes(bytes(data[: n_chunks * CHUNK + extra]))
    return path


def change_chunks(path: Path, positions: list[int]) -> None:
    with open(path, "r+b") as volume:
        for position in positions:
            volume.seek(position * CHUNK + 100)
            old = volume.read(1)
            volume.seek(position * CHUNK + 100)
            volume.write(bytes([old[0] ^ 0xFF]))


def backup(volume: Path, store: Path, name: str, **kwargs) -> chunkstore.BackupStats:
    return chunkstore.write_backup(
        volume, store / f"{name}.index", store_root=store, chunk_size=CHUNK, **kwargs
    )


def restored(store: Path, name: str) -> bytes:
    out = io.BytesIO()
    chunkstore.read_backup(store / f"{name}.index", out, store_root=store)
    return out.getvalue()


def chunk_path(store: Path, digest: str) -> Path:
    return store / "chunks" / digest[:2] / digest


def index_of(store: Path, name: str) -> chunkstore.Index:
    return chunkstore.read_index(store / f"{name}.index", store_root=store)


def every_index_is_whole(store: Path) -> list[str]:
    """Verify every index under the store; return their names (failing on any bad one)."""
    names = []
    for path in sorted(store.glob("*.index")):
        result = chunkstore.verify_backup(path, store_root=store)
        assert result.ok, (path, result)
        names.append(path.name)
    return names


def age(paths, seconds: float) -> None:
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


def all_chunks(store: Path) -> list[Path]:
    return [path for path in (store / "chunks").glob("*/*") if not path.name.startswith(".")]


# -- round trips


@pytest.mark.parametrize(("n_chunks", "extra"), [(10, 0), (10, 1234), (0, 5), (0, 0)])
def test_a_backup_reads_back_byte_for_byte_with_the_volumes_sha256(tmp_path, store, n_chunks, extra):
    volume = make_volume(tmp_path / "disk.img", n_chunks, extra=extra)
    stats = backup(volume, store, "a")
    data = volume.read_bytes()
    assert stats.size == len(data)
    assert stats.sha256 == hashlib.sha256(data).hexdigest()
    assert restored(store, "a") == data
    with chunkstore.open_backup(store / "a.index", store_root=store) as stream:
        assert stream.read() == data
    result = chunkstore.verify_backup(store / "a.index", store_root=store)
    assert result.ok
    assert (result.sha256, result.chunks_sha256) == (stats.sha256, stats.chunks_sha256)
    assert chunkstore.verify_backup(store / "a.index", store_root=store, whole=True).ok


def test_a_backup_reads_from_an_open_descriptor_without_moving_it(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3)
    fd = os.open(volume, os.O_RDONLY)
    try:
        os.lseek(fd, 7, os.SEEK_SET)
        backup(fd, store, "a")
        assert os.lseek(fd, 0, os.SEEK_CUR) == 7
    finally:
        os.close(fd)
    assert restored(store, "a") == volume.read_bytes()


def test_read_backup_writes_to_a_descriptor(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3, extra=10)
    backup(volume, store, "a")
    target = tmp_path / "out.img"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    try:
        chunkstore.read_backup(store / "a.index", fd, store_root=store)
    finally:
        os.close(fd)
    assert target.read_bytes() == volume.read_bytes()


# -- deduplication


def test_a_second_backup_of_an_unchanged_volume_writes_nothing(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 100)
    first = backup(volume, store, "a")
    second = backup(volume, store, "b")
    assert first.bytes_written == first.size
    assert second.bytes_written <= second.size // 100
    assert second.chunks_written == 0
    assert restored(store, "b") == volume.read_bytes()


def test_a_volume_with_one_percent_of_its_blocks_changed_writes_at_most_two_percent(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 100)
    backup(volume, store, "a")
    change_chunks(volume, [42])
    after = backup(volume, store, "b")
    assert after.chunks_written == 1
    assert after.bytes_written <= after.size * 2 // 100
    assert restored(store, "b") == volume.read_bytes()


def test_identical_blocks_in_one_volume_are_stored_once(tmp_path, store):
    volume = tmp_path / "zeros.img"
    volume.write_bytes(bytes(CHUNK * 8))
    stats = backup(volume, store, "a")
    assert (stats.chunks, stats.chunks_written, stats.bytes_written) == (8, 1, CHUNK)
    assert chunkstore.store_bytes(store) == CHUNK


def test_a_backup_does_not_replace_an_existing_index(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 2)
    other = make_volume(tmp_path / "other.img", 2, seed=2)
    backup(volume, store, "a")
    with pytest.raises(chunkstore.ChunkStoreError, match="already exists"):
        backup(other, store, "a")
    assert restored(store, "a") == volume.read_bytes()


# -- an unchanged volume file need not be read (a parent backup given)


@pytest.fixture
def settled_at_once(monkeypatch):
    """Trust a file's times at once: the tests' volumes are written a moment before their backup."""
    monkeypatch.setattr(chunkstore.write, "SETTLED_SECONDS", -60.0)


def test_an_unchanged_volume_with_its_parent_given_is_not_read(tmp_path, store, settled_at_once):
    volume = make_volume(tmp_path / "disk.img", 10)
    first = backup(volume, store, "a")
    reads = []
    again = backup(volume, store, "b", parent=store / "a.index", progress=reads.append)
    assert (again.from_parent, again.bytes_written, reads) == (True, 0, [])
    assert (again.sha256, again.chunks_sha256) == (first.sha256, first.chunks_sha256)
    assert restored(store, "b") == volume.read_bytes()


@pytest.mark.parametrize("change", ["content, mtime put back", "replaced by another file", "grown"])
def test_a_changed_volume_is_read_in_full_even_with_its_parent_given(
    tmp_path, store, settled_at_once, change
):
    volume = make_volume(tmp_path / "disk.img", 10)
    backup(volume, store, "a")
    before = volume.stat()
    time.sleep(0.05)  # lets the file clock tick, so the change's ctime differs from the first look's
    if change == "content, mtime put back":
        change_chunks(volume, [4])
        os.utime(volume, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif change == "replaced by another file":
        data = bytearray(volume.read_bytes())
        data[5] ^= 1
        (tmp_path / "new.img").write_bytes(bytes(data))
        (tmp_path / "new.img").replace(volume)
    else:
        with open(volume, "ab") as grown:
            grown.write(b"more")
    again = backup(volume, store, "b", parent=store / "a.index")
    assert not again.from_parent
    assert again.chunks_written == 1
    assert restored(store, "b") == volume.read_bytes()


def test_a_volume_changed_just_before_its_backup_is_read_in_full_next_time(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 4)
    backup(volume, store, "a")
    assert index_of(store, "a").source is None
    assert not backup(volume, store, "b", parent=store / "a.index").from_parent


def test_a_parent_missing_a_chunk_is_not_trusted(tmp_path, store, settled_at_once):
    volume = make_volume(tmp_path / "disk.img", 4)
    backup(volume, store, "a")
    chunk_path(store, index_of(store, "a").chunks[2][0]).unlink()
    again = backup(volume, store, "b", parent=store / "a.index")
    assert (again.from_parent, again.chunks_written) == (False, 1)
    assert every_index_is_whole(store) == ["a.index", "b.index"]


def test_deleting_an_index_leaves_its_chunks_to_the_collector_and_a_missing_one_is_no_error(tmp_path, store):
    backup(make_volume(tmp_path / "disk.img", 2), store, "a")
    chunkstore.delete_index(store / "a.index", store_root=store)
    chunkstore.delete_index(store / "a.index", store_root=store)
    assert not (store / "a.index").exists()
    assert len(all_chunks(store)) == 2
    with pytest.raises(chunkstore.ChunkStoreError, match="not inside the chunk store"):
        chunkstore.delete_index(tmp_path / "a.index", store_root=store)


# -- corruption is found and named


def damage(path: Path, how: str) -> None:
    if how == "flipped byte":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif how == "truncated":
        with open(path, "r+b") as chunk:
            chunk.truncate(100)
    elif how == "missing":
        path.unlink()
    elif how == "made a link":
        target = path.with_name(".elsewhere")
        path.rename(target)
        path.symlink_to(target.name)


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("flipped byte", "does not match its digest"),
        ("truncated", f"100 bytes instead of {CHUNK}"),
        ("missing", "missing"),
        ("made a link", "unreadable"),
    ],
)
def test_a_damaged_chunk_is_named_by_read_and_verify(tmp_path, store, how, reason):
    volume = make_volume(tmp_path / "disk.img", 6)
    backup(volume, store, "a")
    digest = index_of(store, "a").chunks[3][0]
    damage(chunk_path(store, digest), how)

    with pytest.raises(chunkstore.CorruptBackup, match=f"chunk 3 \\({digest}\\).*{reason}") as caught:
        restored(store, "a")
    assert (caught.value.position, caught.value.digest) == (3, digest)
    with (
        pytest.raises(chunkstore.CorruptBackup, match=f"chunk 3 \\({digest}\\)"),
        chunkstore.open_backup(store / "a.index", store_root=store) as stream,
    ):
        stream.read()
    result = chunkstore.verify_backup(store / "a.index", store_root=store)
    assert not result.ok
    assert [(bad.position, bad.digest) for bad in result.bad_chunks] == [(3, digest)]
    assert reason in result.bad_chunks[0].reason


def test_a_truncated_chunk_is_written_again_by_the_next_backup_of_the_same_data(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 6)
    backup(volume, store, "a")
    digest = index_of(store, "a").chunks[3][0]
    damage(chunk_path(store, digest), "truncated")
    again = backup(volume, store, "b")
    assert again.chunks_written == 1
    assert every_index_is_whole(store) == ["a.index", "b.index"]


def reorder_chunks(store: Path, name: str, *, recompute: bool) -> None:
    body = json.loads((store / name).read_bytes())
    body["chunks"][0], body["chunks"][1] = body["chunks"][1], body["chunks"][0]
    if recompute:
        index = chunkstore.Index(
            body["chunk_size"], body["size"], body["sha256"], [tuple(c) for c in body["chunks"]]
        )
        body["chunks_sha256"] = index.chunks_sha256
    (store / name).write_text(json.dumps(body))


def test_an_index_whose_chunk_list_was_changed_is_refused(tmp_path, store):
    backup(make_volume(tmp_path / "disk.img", 4), store, "a")
    reorder_chunks(store, "a.index", recompute=False)
    with pytest.raises(chunkstore.BadIndex, match="does not match its chunks_sha256"):
        chunkstore.verify_backup(store / "a.index", store_root=store)
    with pytest.raises(chunkstore.BadIndex, match="does not match its chunks_sha256"):
        restored(store, "a")


def test_a_chunk_list_rewritten_with_its_checksum_differs_from_the_recorded_one_and_fails_the_whole_digest(
    tmp_path, store
):
    stats = backup(make_volume(tmp_path / "disk.img", 4), store, "a")
    reorder_chunks(store, "a.index", recompute=True)
    assert chunkstore.verify_backup(store / "a.index", store_root=store).chunks_sha256 != stats.chunks_sha256
    whole = chunkstore.verify_backup(store / "a.index", store_root=store, whole=True)
    assert (whole.whole_checked, whole.whole_matches, whole.ok) == (True, False, False)
    with pytest.raises(chunkstore.CorruptBackup, match="SHA-256 does not match"):
        restored(store, "a")


# -- formats: chunks named by BLAKE3, and backups of the first format (named by SHA-256) still read


def test_a_new_backup_names_each_chunk_by_its_blake3_and_records_the_volumes_sha256(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3, extra=7)
    data = volume.read_bytes()
    stats = backup(volume, store, "a")
    index = index_of(store, "a")
    pieces = [data[start : start + CHUNK] for start in range(0, len(data), CHUNK)]
    assert index.format == "bpc-chunks/2"
    assert index.chunks == [(blake3.blake3(piece).hexdigest(), len(piece)) for piece in pieces]
    assert stats.sha256 == index.sha256 == hashlib.sha256(data).hexdigest()


def write_first_format_backup(volume: Path, store: Path, name: str) -> None:
    """Store ``volume`` as the first format did: each chunk named by its SHA-256."""
    data = volume.read_bytes()
    chunks = []
    for start in range(0, len(data), CHUNK):
        piece = data[start : start + CHUNK]
        digest = hashlib.sha256(piece).hexdigest()
        chunk_path(store, digest).parent.mkdir(parents=True, exist_ok=True)
        chunk_path(store, digest).write_bytes(piece)
        chunks.append((digest, len(piece)))
    whole = hashlib.sha256(data).hexdigest()
    index = chunkstore.Index(CHUNK, len(data), whole, chunks, format="bpc-chunks/1")
    (store / f"{name}.index").write_bytes(chunkstore.index_body(index))


def test_a_first_format_backup_reads_back_verifies_and_is_checked_chunk_by_chunk(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 4, extra=9)
    backup(make_volume(tmp_path / "other.img", 1, seed=2), store, "new")  # today's format beside it
    write_first_format_backup(volume, store, "old")

    assert restored(store, "old") == volume.read_bytes()
    assert every_index_is_whole(store) == ["new.index", "old.index"]
    digest = index_of(store, "old").chunks[2][0]
    damage(chunk_path(store, digest), "flipped byte")
    with pytest.raises(chunkstore.CorruptBackup, match=f"chunk 2 \\({digest}\\).*does not match its digest"):
        restored(store, "old")
    result = chunkstore.verify_backup(store / "old.index", store_root=store)
    assert [bad.position for bad in result.bad_chunks] == [2]


def test_the_collector_keeps_the_chunks_of_a_first_format_backup(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3)
    backup(make_volume(tmp_path / "gone.img", 1, seed=2), store, "gone")
    chunkstore.delete_index(store / "gone.index", store_root=store)
    write_first_format_backup(volume, store, "old")
    age(all_chunks(store), 10 * chunkstore.GC_MARGIN_SECONDS)
    chunkstore.collect_garbage(store)
    assert len(all_chunks(store)) == 3  # the deleted backup's chunk went, the old backup's stayed
    assert restored(store, "old") == volume.read_bytes()


# -- indexes are checked before any path is built from them


def good_index_body() -> dict:
    listed = [("b" * 64, 4), ("c" * 64, 2)]
    return {
        "format": chunkstore.FORMAT,
        "chunk_size": 4,
        "size": 6,
        "sha256": "a" * 64,
        "chunks": [list(entry) for entry in listed],
        "chunks_sha256": chunkstore.Index(4, 6, "a" * 64, listed).chunks_sha256,
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"chunks": [["../../../etc/passwd", 4], ["c" * 64, 2]]}, "not named by 64 hex digits"),
        ({"chunks": [["B" * 64, 4], ["c" * 64, 2]]}, "not named by 64 hex digits"),
        ({"chunks": [["b" * 63, 4], ["c" * 64, 2]]}, "not named by 64 hex digits"),
        ({"chunks": [["b" * 64 + "\n", 4], ["c" * 64, 2]]}, "not named by 64 hex digits"),
        ({"chunks": [[7, 4], ["c" * 64, 2]]}, "not named by 64 hex digits"),
        ({"chunks": [["b" * 64, 2], ["c" * 64, 4]]}, "bad size"),
        ({"chunks": [["b" * 64, 4], ["c" * 64, 3]]}, "do not add up"),
        ({"chunks": [["b" * 64]]}, "pair"),
        ({"sha256": "not a digest"}, "whole-volume digest"),
        ({"size": -1}, "positive integers"),
        ({"chunk_size": True}, "positive integers"),
        ({"format": "other/1"}, "format"),
        ({"format": ["bpc-chunks/2"]}, "format"),
        ({"format": "bpc-chunks/1"}, "does not match its chunks_sha256"),  # the format is in the digest
        ({"chunks_sha256": "d" * 64}, "does not match its chunks_sha256"),
        ({"sha256": "e" * 64}, "does not match its chunks_sha256"),
    ],
)
def test_an_index_is_refused_unless_every_name_and_size_is_well_formed(change, problem):
    with pytest.raises(chunkstore.BadIndex, match=problem):
        chunkstore.parse_index(json.dumps(good_index_body() | change).encode())


def test_a_well_formed_index_is_accepted():
    index = chunkstore.parse_index(json.dumps(good_index_body()).encode())
    assert index.chunks == [("b" * 64, 4), ("c" * 64, 2)]


def test_reading_an_index_with_a_path_for_a_name_refuses_before_opening_anything(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 1)
    backup(volume, store, "a")
    body = json.loads((store / "a.index").read_bytes())
    body["chunks"][0][0] = "../../../../etc/passwd"
    (store / "b.index").write_text(json.dumps(body))
    with pytest.raises(chunkstore.BadIndex, match="b.index: chunk 0"):
        restored(store, "b")


# -- links and paths


def test_a_source_that_is_a_link_is_refused(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 1)
    (tmp_path / "link.img").symlink_to(volume)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        backup(tmp_path / "link.img", store, "a")
    assert not (store / "a.index").exists()


def test_an_index_that_is_a_link_is_refused(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 1)
    backup(volume, store, "a")
    (store / "b.index").symlink_to(store / "a.index")
    with pytest.raises(chunkstore.ChunkStoreError, match="is a link"):
        restored(store, "b")


@pytest.mark.parametrize("where", ["outside", "chunks", "hidden"])
def test_an_index_outside_the_store_or_misnamed_is_refused(tmp_path, store, where):
    volume = make_volume(tmp_path / "disk.img", 1)
    target = {
        "outside": tmp_path / "a.index",
        "chunks": store / "chunks" / "a.index",
        "hidden": store / ".a.index",
    }[where]
    (store / "chunks").mkdir(parents=True)
    with pytest.raises(chunkstore.ChunkStoreError):
        chunkstore.write_backup(volume, target, store_root=store, chunk_size=CHUNK)
    assert not target.exists()


def test_a_chunk_folder_that_is_a_link_is_not_followed(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 1)
    stats = backup(volume, store, "a")
    digest = index_of(store, "a").chunks[0][0]
    folder = store / "chunks" / digest[:2]
    folder.rename(tmp_path / "moved")
    folder.symlink_to(tmp_path / "moved")
    result = chunkstore.verify_backup(store / "a.index", store_root=store)
    assert not result.ok
    assert stats.chunks == 1


# -- garbage collection


def test_gc_removes_orphans_and_keeps_every_chunk_an_index_names(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 10)
    backup(volume, store, "a")
    change_chunks(volume, [1, 2])
    backup(volume, store, "b")
    old_digests = {index_of(store, "a").chunks[p][0] for p in (1, 2)}
    chunkstore.delete_index(store / "a.index", store_root=store)
    age(all_chunks(store), 86400)

    stats = chunkstore.collect_garbage(store)

    assert (stats.indexes, stats.chunks_removed, stats.bytes_removed, stats.chunks_kept) == (
        1,
        2,
        2 * CHUNK,
        10,
    )
    assert not any(chunk_path(store, digest).exists() for digest in old_digests)
    assert every_index_is_whole(store) == ["b.index"]


def test_gc_keeps_unreferenced_chunks_younger_than_its_margin(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 4)
    backup(volume, store, "a")
    chunkstore.delete_index(store / "a.index", store_root=store)
    stats = chunkstore.collect_garbage(store)
    assert (stats.chunks_removed, stats.young_unreferenced) == (0, 4)


def test_gc_keeps_chunks_named_by_a_protected_index_kept_elsewhere(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3)
    backup(volume, store, "a")
    (store / "a.index").rename(tmp_path / "kept.index")
    age(all_chunks(store), 86400)
    stats = chunkstore.collect_garbage(store, protect=[tmp_path / "kept.index"])
    assert (stats.chunks_removed, stats.chunks_kept) == (0, 3)


def test_gc_finds_indexes_in_sub_folders(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3)
    (store / "project" / "disk").mkdir(parents=True)
    chunkstore.write_backup(
        volume, store / "project" / "disk" / "a.index", store_root=store, chunk_size=CHUNK
    )
    age(all_chunks(store), 86400)
    stats = chunkstore.collect_garbage(store)
    assert (stats.indexes, stats.chunks_removed, stats.chunks_kept) == (1, 0, 3)


def test_gc_removes_nothing_when_an_index_is_unreadable(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 3)
    backup(volume, store, "a")
    backup(make_volume(tmp_path / "other.img", 3, seed=2), store, "b")
    (store / "b.index").write_text("{not json")
    age(all_chunks(store), 86400)
    with pytest.raises(chunkstore.BadIndex, match="nothing removed"):
        chunkstore.collect_garbage(store)
    assert len(all_chunks(store)) == 6


def hold_lease(store: Path, start: float):
    """Play a running writer: a lease file with its start time, locked as a live writer keeps it."""
    path = store / "writers" / "test.lease"
    path.write_text(json.dumps({"start": start}))
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_gc_keeps_orphans_younger_than_the_oldest_running_writer_and_drops_a_dead_writers_lease(
    tmp_path, store
):
    volume = make_volume(tmp_path / "disk.img", 4)
    backup(volume, store, "a")
    chunkstore.delete_index(store / "a.index", store_root=store)
    age(all_chunks(store), 1000)
    lease = hold_lease(store, time.time() - 2000)
    try:
        running = chunkstore.collect_garbage(store, margin=0)
    finally:
        os.close(lease)  # the writer dies; its lock goes with it
    assert (running.chunks_removed, running.young_unreferenced, running.stale_leases) == (0, 4, 0)

    dead = chunkstore.collect_garbage(store, margin=0)
    assert (dead.chunks_removed, dead.stale_leases) == (4, 1)
    assert not list((store / "writers").iterdir())


def test_gc_removes_old_temporary_files_and_keeps_young_ones(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 1)
    backup(volume, store, "a")
    folder = chunk_path(store, index_of(store, "a").chunks[0][0]).parent
    (folder / ".tmp-old").write_bytes(b"x")
    (folder / ".tmp-young").write_bytes(b"x")
    (folder / "not-the-stores").write_bytes(b"x")
    age([folder / ".tmp-old", folder / "not-the-stores"], 86400)
    stats = chunkstore.collect_garbage(store)
    assert stats.temps_removed == 1
    assert sorted(
        path.name for path in folder.iterdir() if not chunkstore.index._HEX64.fullmatch(path.name)
    ) == [
        ".tmp-young",
        "not-the-stores",
    ]


def test_gc_during_a_backup_never_removes_a_chunk_that_backup_reuses(tmp_path, store):
    volume = make_volume(tmp_path / "disk.img", 40)
    backup(volume, store, "a")
    chunkstore.delete_index(store / "a.index", store_root=store)
    age(all_chunks(store), 86400)
    collections = []

    def collect_midway(done: int) -> None:
        if done in (CHUNK, 20 * CHUNK):
            collections.append(chunkstore.collect_garbage(store, margin=60))

    backup(volume, store, "b", progress=collect_midway)

    assert len(collections) == 2
    assert every_index_is_whole(store) == ["b.index"]


def lock_is_free(store: Path, kind: int) -> bool:
    fd = os.open(store / "lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_the_collector_removes_chunks_only_under_the_stores_lock_taken_exclusively(
    tmp_path, store, monkeypatch
):
    backup(make_volume(tmp_path / "disk.img", 3), store, "a")
    chunkstore.delete_index(store / "a.index", store_root=store)
    age(all_chunks(store), 86400)
    seen = []
    real_unlink = os.unlink

    def unlink(name, *, dir_fd=None):
        seen.append(lock_is_free(store, fcntl.LOCK_SH))
        real_unlink(name, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", unlink)
    assert chunkstore.collect_garbage(store).chunks_removed == 3
    assert seen == [False, False, False]


def test_a_writer_refreshes_a_chunk_it_reuses_under_the_stores_lock_taken_shared(
    tmp_path, store, monkeypatch
):
    volume = make_volume(tmp_path / "disk.img", 3)
    backup(volume, store, "a")
    seen = []
    real_utime = os.utime

    def utime(fd, *args, **kwargs):
        seen.append((lock_is_free(store, fcntl.LOCK_SH), lock_is_free(store, fcntl.LOCK_EX)))
        real_utime(fd, *args, **kwargs)

    monkeypatch.setattr(os, "utime", utime)
    backup(volume, store, "b")
    assert seen == [(True, False)] * 3


# -- a writer killed at any point leaves no index naming a missing chunk


@pytest.mark.parametrize("after", [0, 1, 5, 9])
def test_a_backup_stopped_after_some_chunks_leaves_no_index(tmp_path, store, after):
    volume = make_volume(tmp_path / "disk.img", 10)
    backup(make_volume(tmp_path / "old.img", 10, seed=3), store, "old")

    def stop(done: int) -> None:
        if done >= after * CHUNK:
            raise TimeoutError("deadline")

    with pytest.raises(TimeoutError):
        backup(volume, store, "new", progress=stop)
    assert every_index_is_whole(store) == ["old.index"]
    assert not list((store / "writers").iterdir())
    assert not list(store.glob("chunks/*/.tmp-*"))
    assert backup(volume, store, "new").size == 10 * CHUNK


def test_a_failing_disk_at_any_fsync_leaves_no_index_naming_a_missing_chunk(tmp_path, monkeypatch):
    volume = make_volume(tmp_path / "disk.img", 4, extra=10)
    real_fsync = os.fsync
    fail_at = 0
    while True:
        store = tmp_path / f"store{fail_at}"
        backup(make_volume(tmp_path / "old.img", 2, seed=3), store, "old")
        calls = []

        def fsync(fd: int, calls: list = calls, fail_at: int = fail_at) -> None:
            calls.append(fd)
            if len(calls) == fail_at + 1:
                raise OSError(5, "Input/output error")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        try:
            backup(volume, store, "new")
        except OSError:
            monkeypatch.setattr(os, "fsync", real_fsync)
            assert every_index_is_whole(store) == ["old.index"]
            fail_at += 1
            continue
        monkeypatch.setattr(os, "fsync", real_fsync)
        break
    # Every fsync failed once, in turn: each chunk's, the chunk folders', the index's and its folder's.
    assert fail_at == len(calls) >= 8
    assert every_index_is_whole(store) == ["new.index", "old.index"]


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from policies.runs.providers import chunkstore
    volume, store, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_fsync, calls = os.fsync, [0]
    def fsync(fd):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real_fsync(fd)
    os.fsync = fsync
    chunkstore.write_backup(volume, os.path.join(store, "new.index"), store_root=store, chunk_size=65536)
    """
)


@pytest.mark.parametrize("kill_at", range(1, 13))
def test_a_worker_killed_at_any_step_leaves_no_index_naming_a_missing_chunk(tmp_path, store, kill_at):
    volume = make_volume(tmp_path / "disk.img", 4, extra=10)
    backup(make_volume(tmp_path / "old.img", 2, seed=3), store, "old")
    child = subprocess.run(
        [sys.executable, "-c", KILLER, str(volume), str(store), str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert child.returncode in (0, -signal.SIGKILL), child.stderr.decode()
    names = every_index_is_whole(store)
    assert names in (["new.index", "old.index"], ["old.index"])
    stats = chunkstore.collect_garbage(store)
    assert stats.stale_leases == (1 if child.returncode else 0)
    if "new.index" not in names:
        assert backup(volume, store, "new").size == volume.stat().st_size
    assert every_index_is_whole(store) == ["new.index", "old.index"]
