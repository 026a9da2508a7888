"""A content-addressed chunk store: unchanged data is stored once, and every byte is checked.

A volume is cut into fixed-size chunks (4 MiB by default), as Proxmox Backup Server does for disk
images. Each chunk is a file named by its BLAKE3 digest, ``chunks/ab/abcdef…``, written once and shared
by every backup that holds the same bytes. A backup is one index file: the chunk list with each
chunk's size, the size of the volume and the SHA-256 of the whole volume.

Layout of a store root (the caller chooses the root and where under it the indexes live)::

    chunks/00 … chunks/ff/   the chunks, by the first two hex digits of their digest
    writers/*.lease          one per backup being written: its start time, locked while it runs
    lock                     taken shared to reuse a chunk, exclusively by the garbage collector
    **/*.index               the backups (anywhere under the root but in chunks/ and writers/)

What holds, whatever fails when:

- An index is linked into place (never over another) only after every chunk it names is
  durable (each chunk file and each chunk folder fsynced), itself fsynced first: a writer killed
  at any point leaves no index naming a missing chunk, only unreferenced chunks and ``.tmp-``
  files the garbage collector removes.
- The volume is read once. A reader thread fills buffers, the calling thread hashes the whole
  volume and a pool hashes and writes each chunk, on the same buffers (hashlib releases the GIL
  on large buffers). A chunk already in the store is not written again; a chunk written is
  checked once, by hashing the very buffer that is written, never read back. Given the
  previous backup of the same file, an unchanged file is not read at all (``write_backup``).
- Every path inside the store is opened relative to a folder opened with ``O_NOFOLLOW``, and
  every file with ``O_NOFOLLOW``; a chunk's path comes only from a digest this module computed or
  from an index whose every name was checked to be 64 hexadecimal digits.
- Reading a backup back checks each chunk's digest and the whole volume's, and names the bad
  chunk. An index carries ``chunks_sha256``, a digest of its chunk list, sizes and whole digest,
  checked whenever it is read: a verification checks every chunk against its name (one BLAKE3
  pass, spread over the pool's threads) and the caller compares that digest with the one it
  recorded, which proves the same bytes as hashing the whole volume again on one core.

This module knows nothing of Django, projects or settings: the caller passes paths and sizes.
"""

from .gc import GC_MARGIN_SECONDS, GcStats, collect_garbage, delete_index, store_bytes
from .index import (
    CHUNK_SIZE,
    FORMAT,
    INDEX_SUFFIX,
    BadIndex,
    ChunkStoreError,
    CorruptBackup,
    Index,
    chunk_name,
    index_body,
    parse_index,
)
from .read import (
    BackupReader,
    BadChunk,
    VerifyResult,
    missing_chunks,
    open_backup,
    read_backup,
    read_index,
    verify_backup,
)
from .write import SETTLED_SECONDS, BackupStats, write_backup

__all__ = [
    "CHUNK_SIZE",
    "FORMAT",
    "GC_MARGIN_SECONDS",
    "INDEX_SUFFIX",
    "SETTLED_SECONDS",
    "BackupReader",
    "BackupStats",
    "BadChunk",
    "BadIndex",
    "ChunkStoreError",
    "CorruptBackup",
    "GcStats",
    "Index",
    "chunk_name",
    "VerifyResult",
    "collect_garbage",
    "delete_index",
    "index_body",
    "missing_chunks",
    "open_backup",
    "parse_index",
    "read_backup",
    "read_index",
    "store_bytes",
    "verify_backup",
    "write_backup",
]
