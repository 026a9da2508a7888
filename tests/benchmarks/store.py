"""The chunk store's benchmark (prints numbers, asserts nothing): ``make bench`` or

    .venv/bin/python -m tests.benchmarks.store
    BENCH_RESTIC=1 .venv/bin/python -m tests.benchmarks.store   # restic beside it (apt-get install restic)

In a throw-away folder (BENCH_FOLDER, or a temporary one on the same disk as /tmp), a volume of
BENCH_STORE_GIB (1) GiB of random bytes, each measure BENCH_REPEAT (3) times, medians printed
beside the floors measured in the same round: ``cp`` of the volume plus fsync of the copy, and
one SHA-256 pass over the volume. Every round: a first backup, a second of the unchanged volume,
a third after 1 % of its 4 MiB blocks changed, a restore (fsynced), a verification of each chunk
(and one with the whole digest too). The
second backup is taken twice: read in full, and with the first given as its parent, which
leaves an unchanged file unread (restic's rows measure restic, which does the same; the local
provider's rows take the same steps through ``LocalProvider``, which gives the parent itself and
restores aside with the digest checked, and has no verification of its own yet). Once: 14
daily backups into a fresh store with 1 % of the blocks changing each day, and what they occupy.
A ratio is taken within each round, then its median printed, so a busy machine moves both sides.

On a virtual machine that hands free memory back to its host (virtio-balloon free page
reporting, as on the machine these figures come from), writing into memory freed a few seconds
ago costs several times less than writing into memory the host took back. So every timed step
that writes the volume's size (cp's copy, a first backup, a restore) starts right after a scratch
file of that size was written and deleted, and each starts alike.
"""

import atexit
import hashlib
import math
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from policies.runs.providers import chunkstore
from policies.runs.providers.local import LocalProvider

GIB = 1024**3
BLOCK = chunkstore.CHUNK_SIZE
SIZE = int(float(os.environ.get("BENCH_STORE_GIB", "1")) * GIB) // BLOCK * BLOCK
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
RESTIC = os.environ.get("BENCH_RESTIC") == "1"
CHANGED = math.ceil(SIZE // BLOCK / 100)  # 1 % of the blocks, at least one


def make_volume(path: Path) -> None:
    with open(path, "wb") as volume:
        for _ in range(SIZE // BLOCK):
            volume.write(os.urandom(BLOCK))
        os.fsync(volume.fileno())


def change_blocks(path: Path, rng: random.Random) -> None:
    with open(path, "r+b") as volume:
        for block in rng.sample(range(SIZE // BLOCK), CHANGED):
            volume.seek(block * BLOCK + rng.randrange(BLOCK - 16))
            volume.write(os.urandom(16))
        os.fsync(volume.fileno())


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def warm(folder: Path) -> None:
    """Write and delete a scratch file of the volume's size: the next write finds memory just freed."""
    block = bytes(BLOCK)
    with open(folder / "scratch", "wb") as scratch:
        for _ in range(SIZE // BLOCK):
            scratch.write(block)
    (folder / "scratch").unlink()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def cp_fsync(source: Path, target: Path) -> float:
    def copy() -> None:
        subprocess.run(["cp", "--reflink=never", str(source), str(target)], check=True)
        fsync_path(target)

    warm(target.parent)
    seconds = timed(copy)
    target.unlink()
    return seconds


def sha256_pass(path: Path) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as volume:
        while block := volume.read(BLOCK):
            digest.update(block)


def restore(store: Path, name: str, target: Path) -> None:
    with open(target, "wb") as out:
        chunkstore.read_backup(store / name, out, store_root=store)
        out.flush()
        os.fsync(out.fileno())


def on_disk(folder: Path) -> int:
    return sum(path.lstat().st_blocks * 512 for path in folder.rglob("*") if path.is_file())


def store_round(folder: Path, volume: Path, rng: random.Random) -> dict[str, float]:
    store = folder / "store"
    shutil.rmtree(store, ignore_errors=True)
    row = {"cp": cp_fsync(volume, folder / "copy.img"), "sha": timed(lambda: sha256_pass(volume))}
    stats = {}

    def run(name: str, parent: str | None = None) -> None:
        stats[name] = chunkstore.write_backup(
            volume, store / f"{name}.index", store_root=store, parent=parent and store / f"{parent}.index"
        )

    # The volume was just written: let its times settle, so the first backup records them.
    time.sleep(max(0.0, volume.stat().st_ctime + chunkstore.SETTLED_SECONDS + 0.1 - time.time()))
    warm(folder)
    row["first"] = timed(lambda: run("first"))
    row["second"] = timed(lambda: run("second"))
    row["second_parent"] = timed(lambda: run("second_parent", parent="first"))
    assert stats["second_parent"].from_parent
    change_blocks(volume, rng)
    row["third"] = timed(lambda: run("third"))
    row["second_written"] = stats["second"].bytes_written / SIZE
    row["third_written"] = stats["third"].bytes_written / SIZE
    warm(folder)
    row["restore"] = timed(lambda: restore(store, "third.index", folder / "restored.img"))
    (folder / "restored.img").unlink()
    row["verify"] = timed(lambda: chunkstore.verify_backup(store / "third.index", store_root=store))
    row["verify_whole"] = timed(
        lambda: chunkstore.verify_backup(store / "third.index", store_root=store, whole=True)
    )
    shutil.rmtree(store)
    return row


def restic_round(folder: Path, volume: Path, rng: random.Random) -> dict[str, float]:
    repo, target = folder / "restic", folder / "restic-restore"
    shutil.rmtree(repo, ignore_errors=True)
    (folder / "password").write_text("benchmark\n")
    env = dict(
        os.environ, RESTIC_PASSWORD_FILE=str(folder / "password"), RESTIC_CACHE_DIR=str(folder / "cache")
    )

    def restic(*args: str) -> None:
        subprocess.run(
            ["restic", "-r", str(repo), "-q", *args], check=True, env=env, stdout=subprocess.DEVNULL
        )

    restic("init")
    row = {"cp": cp_fsync(volume, folder / "copy.img"), "sha": timed(lambda: sha256_pass(volume))}
    warm(folder)
    row["first"] = timed(lambda: restic("backup", str(volume)))
    before = on_disk(repo)
    row["second"] = timed(lambda: restic("backup", str(volume)))
    row["second_written"] = (on_disk(repo) - before) / SIZE
    change_blocks(volume, rng)
    before = on_disk(repo)
    row["third"] = timed(lambda: restic("backup", str(volume)))
    row["third_written"] = (on_disk(repo) - before) / SIZE
    warm(folder)
    row["restore"] = timed(lambda: restic("restore", "latest", "--target", str(target)))
    row["verify"] = timed(lambda: restic("check", "--read-data"))
    shutil.rmtree(target)
    shutil.rmtree(repo)
    return row


def provider_round(folder: Path, volume: Path, rng: random.Random) -> dict[str, float]:
    """The same steps through the local provider: it finds the parent itself, and restores aside, checked."""
    volumes, backups = folder / "volumes", folder / "backups"
    shutil.rmtree(backups, ignore_errors=True)
    (volumes / "bench").mkdir(parents=True, exist_ok=True)
    listed = volumes / "bench" / "disk.img"
    volume.rename(listed)
    try:
        provider = LocalProvider(volumes, backups)
        store = backups / "bench" / ".store"
        row = {"cp": cp_fsync(listed, folder / "copy.img"), "sha": timed(lambda: sha256_pass(listed))}
        made = {}

        def run(name: str) -> None:
            [disk] = provider.list_volumes("bench")
            made[name] = provider.create_backup("bench", disk, name, deadline=math.inf)

        def written(name: str) -> float:
            before = chunkstore.store_bytes(store)
            row[name] = timed(lambda: run(name))
            return (chunkstore.store_bytes(store) - before) / SIZE

        time.sleep(max(0.0, listed.stat().st_ctime + chunkstore.SETTLED_SECONDS + 0.1 - time.time()))
        warm(folder)
        row["first"] = timed(lambda: run("first"))
        row["second_written"] = written("second")
        change_blocks(listed, rng)
        row["third_written"] = written("third")
        warm(folder)
        third = made["third"]
        restored = folder / "restored.img"
        row["restore"] = timed(
            lambda: provider.restore_backup("bench", third.locator, restored, sha256=third.sha256)
        )
        restored.unlink()
        row["verify"] = timed(lambda: provider.verify_backup("bench", third.locator, third.sha256))
    finally:
        listed.rename(volume)
        shutil.rmtree(backups, ignore_errors=True)
    return row


def dailies(folder: Path, volume: Path, rng: random.Random) -> int:
    store = folder / "dailies"
    for day in range(14):
        if day:
            change_blocks(volume, rng)
        chunkstore.write_backup(volume, store / f"day{day:02}.index", store_root=store)
    occupied = on_disk(store)
    shutil.rmtree(store)
    return occupied


def summary(rows: list[dict[str, float]]) -> dict[str, float]:
    def median(key) -> float:
        return statistics.median(key(row) for row in rows)

    return {
        "cp": median(lambda r: r["cp"]),
        "sha": median(lambda r: r["sha"]),
        "first": median(lambda r: r["first"]),
        "first_x_cp": median(lambda r: r["cp"] / r["first"]),
        "second": median(lambda r: r["second"]),
        "second_ratio": median(lambda r: r["second"] / r["first"]),
        "second_written": median(lambda r: r["second_written"]),
        "second_parent_ratio": median(lambda r: r.get("second_parent", math.nan) / r["first"]),
        "third_written": median(lambda r: r["third_written"]),
        "restore": median(lambda r: r["restore"]),
        "restore_x_cp": median(lambda r: r["cp"] / r["restore"]),
        "verify": median(lambda r: r["verify"]),
        "verify_x_sha": median(lambda r: r["sha"] / r["verify"]),
        "verify_whole_x_sha": median(lambda r: r["sha"] / r.get("verify_whole", math.nan)),
    }


def main() -> None:
    folder = Path(os.environ.get("BENCH_FOLDER") or tempfile.mkdtemp(prefix="bpc-store-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    volume = folder / "volume.img"
    rng = random.Random(26)
    engines = {"chunk store": store_round, "local provider": provider_round}
    if RESTIC:
        engines["restic"] = restic_round
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
    print(
        f"{SIZE / GIB:g} GiB of random bytes, {REPEAT} rounds, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    for round_ in range(REPEAT):
        for name, measure in engines.items():
            make_volume(volume)
            rows[name].append(measure(folder, volume, rng))
            print(
                f"  round {round_ + 1} {name}: "
                + ", ".join(f"{k} {v:.3f}" for k, v in rows[name][-1].items())
            )
    make_volume(volume)
    occupied = dailies(folder, volume, rng)
    results = {name: summary(engine_rows) for name, engine_rows in rows.items()}
    width = 26
    print(f"\n{'medians':<{width}}" + "".join(f"{name:>24}" for name in results) + "   goal")
    lines = [
        ("cp + fsync (floor)", lambda s: f"{s['cp']:.2f} s", ""),
        ("one SHA-256 pass", lambda s: f"{s['sha']:.2f} s", ""),
        ("first backup", lambda s: f"{s['first']:.2f} s, {s['first_x_cp']:.2f} x cp", ">= 0.6 x cp"),
        ("second, unchanged", lambda s: f"{s['second_ratio']:.2f} x first", "<= 0.5 x first"),
        ("  written", lambda s: f"{s['second_written']:.2%}", "<= 1 %"),
        ("  unread, parent given", lambda s: f"{s['second_parent_ratio']:.3f} x first", "<= 0.5 x first"),
        (f"after {CHANGED} blocks changed", lambda s: f"{s['third_written']:.2%} written", "<= 2 %"),
        ("restore", lambda s: f"{s['restore']:.2f} s, {s['restore_x_cp']:.2f} x cp", ">= 0.6 x cp"),
        (
            "verification",
            lambda s: f"{s['verify']:.2f} s, {s['verify_x_sha']:.2f} x SHA",
            ">= 0.8 x SHA pass",
        ),
        ("  whole digest too", lambda s: f"{s['verify_whole_x_sha']:.2f} x SHA", ""),
    ]
    for label, show, goal in lines:
        print(f"{label:<{width}}" + "".join(f"{show(s):>24}" for s in results.values()) + f"   {goal}")
    print(f"{'14 dailies, 1 % a day':<{width}}{occupied / GIB:>23.2f}G   <= 1.2 GiB (chunk store)")


if __name__ == "__main__":
    main()
