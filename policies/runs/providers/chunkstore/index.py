"""The index of one backup: its format, parsing and checking, and the store's errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import blake3

CHUNK_SIZE = 4 * 1024 * 1024
INDEX_SUFFIX = ".index"

# What each format names a chunk by. BLAKE3 runs at several times SHA-256's speed here (5.6
# against 1.6 GiB/s on one core), and a backup pays both: the chunks' names and the whole
# volume's SHA-256 that the API records. Chunks of either format share one folder: names of the
# two hashes cannot meet but by a collision of 256-bit digests.
_CHUNK_HASHES: dict[str, Callable[[memoryview], str]] = {
    "bpc-chunks/1": lambda data: hashlib.sha256(data).hexdigest(),
    "bpc-chunks/2": lambda data: blake3.blake3(data).hexdigest(),
}
FORMAT = "bpc-chunks/2"  # what new backups are written in; older indexes are read as they are


def chunk_name(data: memoryview, format: str = FORMAT) -> str:
    """Return the name a chunk holding ``data`` has in an index of ``format``."""
    return _CHUNK_HASHES[format](data)


_HEX64 = re.compile(r"[0-9a-f]{64}")


class ChunkStoreError(Exception):
    """The store refused or could not do what was asked; the message says what and where."""


class BadIndex(ChunkStoreError):
    """An index that is not one this module wrote (a bad name, a size that does not add up)."""


class CorruptBackup(ChunkStoreError):
    """A chunk, or the whole volume, does not match its recorded digest."""

    def __init__(self, message: str, *, position: int | None = None, digest: str | None = None) -> None:
        super().__init__(message)
        self.position = position
        self.digest = digest


@dataclass(frozen=True)
class Index:
    chunk_size: int
    size: int
    sha256: str
    chunks: list[tuple[str, int]]
    # The source's (device, inode, size, mtime_ns, ctime_ns) when it was read, if they had settled.
    source: tuple[int, int, int, int, int] | None = None
    format: str = FORMAT

    @property
    def chunks_sha256(self) -> str:
        """Return the digest binding the chunk list to the sizes and the whole digest.

        Once every chunk matches its name, this digest determines the volume's bytes as surely
        as the whole SHA-256 does, for a fraction of the hashing: the caller records it beside
        the whole digest, and a verification that checks the chunks need not hash the volume again.
        """
        digest = hashlib.sha256(f"{self.format}:{self.chunk_size}:{self.size}:{self.sha256}:".encode())
        for name, _ in self.chunks:
            digest.update(bytes.fromhex(name))
        return digest.hexdigest()


def parse_index(body: bytes) -> Index:
    """Return the index in ``body``, refusing any name that is not 64 hex digits or sizes that do not add up."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadIndex(f"the index is not JSON: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("format"), str)
        or data["format"] not in _CHUNK_HASHES
    ):
        raise BadIndex(f"the index is not in a format of this store ({', '.join(_CHUNK_HASHES)})")
    chunk_size, size, whole, chunks = (data.get(key) for key in ("chunk_size", "size", "sha256", "chunks"))
    if not _is_int(chunk_size) or chunk_size <= 0 or not _is_int(size) or size < 0:
        raise BadIndex("the index's sizes are not positive integers")
    if not isinstance(whole, str) or not _HEX64.fullmatch(whole):
        raise BadIndex("the index's whole-volume digest is not 64 hex digits")
    parsed = _parse_chunks(chunks, chunk_size)
    if sum(length for _, length in parsed) != size:
        raise BadIndex("the index's chunk sizes do not add up to its size")
    index = Index(
        chunk_size=chunk_size,
        size=size,
        sha256=whole,
        chunks=parsed,
        source=_parse_source(data.get("source")),
        format=data["format"],
    )
    if data.get("chunks_sha256") != index.chunks_sha256:
        raise BadIndex("the index's chunk list does not match its chunks_sha256")
    return index


def _parse_chunks(chunks: object, chunk_size: int) -> list[tuple[str, int]]:
    if not isinstance(chunks, list):
        raise BadIndex("the index has no chunk list")
    parsed: list[tuple[str, int]] = []
    for position, entry in enumerate(chunks):
        if not (isinstance(entry, list) and len(entry) == 2):
            raise BadIndex(f"chunk {position} of the index is not a [digest, size] pair")
        digest, length = entry
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise BadIndex(f"chunk {position} of the index is not named by 64 hex digits: {digest!r:.80}")
        last = position == len(chunks) - 1
        if not _is_int(length) or not (0 < length <= chunk_size) or (not last and length != chunk_size):
            raise BadIndex(f"chunk {position} of the index has a bad size: {length!r:.20}")
        parsed.append((digest, length))
    return parsed


def _parse_source(source: object) -> tuple[int, int, int, int, int] | None:
    if source is None:
        return None
    if not (isinstance(source, list) and len(source) == 5 and all(map(_is_int, source))):
        raise BadIndex("the index's source is not five integers")
    return (source[0], source[1], source[2], source[3], source[4])


def index_body(index: Index) -> bytes:
    """Return the bytes of ``index`` as an index file holds them."""
    return json.dumps(
        {
            "format": index.format,
            "chunk_size": index.chunk_size,
            "size": index.size,
            "sha256": index.sha256,
            "chunks": [[digest, length] for digest, length in index.chunks],
            "chunks_sha256": index.chunks_sha256,
            "source": None if index.source is None else list(index.source),
        },
        separators=(",", ":"),
    ).encode()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
