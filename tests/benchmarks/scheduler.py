"""The scheduler benchmark (prints numbers, asserts nothing): ``make bench`` or

    .venv/bin/python -m tests.benchmarks.scheduler
    DATABASE_URL=postgresql://bpc:bpc@127.0.0.1:5432/bpc_bench .venv/bin/python -m tests.benchmarks.scheduler

A throw-away database (a temporary SQLite file unless DATABASE_URL names another; that database
is emptied first, so never point it at real data) holds BENCH_POLICIES policies (100,000) over
BENCH_TENANTS tenants (10,000), their next runs spread over a week; BENCH_DUE of them (1,000),
each with one small volume, are due in the same minute. It prints:

- the cost of a tick with nothing due (what every tick costs, thanks to the next_run_at index);
- the cost of the tick that turns the BENCH_DUE runs into tasks (and queue entries);
- the lateness from that tick to each task's start with two worker processes
  (``manage.py worker --no-scheduler``): p50, p99 and the last. A run waits up to one tick period
  (SCHEDULER_TICK_SECONDS, 15 s by default) more before a tick sees it; that is not included.
"""

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policies.runs import inventory, scheduler

ROOT = Path(__file__).resolve().parents[2]
POLICIES = int(os.environ.get("BENCH_POLICIES", "100000"))
TENANTS = int(os.environ.get("BENCH_TENANTS", "10000"))
DUE = int(os.environ.get("BENCH_DUE", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def main() -> None:
    folder = Path(os.environ.get("BENCH_FOLDER") or tempfile.mkdtemp(prefix="bpc-sched-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    os.environ["LOCAL_VOLUME_ROOT"] = str(folder / "volumes")
    os.environ["LOCAL_BACKUP_ROOT"] = str(folder / "backups")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    from policies.domain.contract import parse
    from policies.models import BackupPolicy, BackupTask, Tenant, Volume

    call_command("flush" if connection.vendor != "sqlite" else "migrate", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; {POLICIES} policies over {TENANTS} tenants, {DUE} due at once")

    started = time.perf_counter()
    tenants = Tenant.objects.bulk_create(Tenant(project_id=f"bench-{i:05d}") for i in range(TENANTS))
    spec = parse.parse_policy(
        {
            "backup_policy_name": "x",
            "scheduled_policy": {"start_time": "00:00", "frequency": 1, "rentention_num": 3, "status": "ON"},
        }
    ).spec
    fields = BackupPolicy.fields_from_spec(spec)
    due_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    rows = []
    for index in range(POLICIES):
        due = index < DUE
        policy = BackupPolicy(
            tenant=tenants[index % TENANTS],
            **{**fields, "name": f"p{index:06d}", "start_time": "12:00" if due else "00:00"},
        )
        # The others are due later in the week, a minute apart: none of them at the tick.
        policy.next_run_at = due_at if due else due_at + timedelta(hours=12, minutes=index % (7 * 24 * 60))
        rows.append(policy)
    BackupPolicy.objects.bulk_create(rows, batch_size=2000)
    due_policies = rows[:DUE]
    for policy in due_policies:
        folder_of = folder / "volumes" / policy.tenant.project_id
        folder_of.mkdir(parents=True, exist_ok=True)
        (folder_of / f"{policy.name}.img").write_bytes(b"v" * 4096)
    for tenant in {policy.tenant for policy in due_policies}:
        inventory.volumes_sync(tenant=tenant)
    by_name = {volume.name: volume for volume in Volume.objects.all()}
    for policy in due_policies:
        Volume.objects.filter(pk=by_name[f"{policy.name}.img"].pk).update(policy=policy)
    print(f"set up in {time.perf_counter() - started:.1f} s")

    idle = []
    for _ in range(20):
        start = time.perf_counter()
        scheduler.scheduler_tick(now=due_at - timedelta(seconds=30))
        idle.append(time.perf_counter() - start)
    print(f"tick with nothing due:               median {statistics.median(idle) * 1e3:8.1f} ms  (n=20)")

    tick_wall = datetime.now(UTC)
    start = time.perf_counter()
    result = scheduler.scheduler_tick(now=due_at)
    tick = time.perf_counter() - start
    print(f"tick with {DUE} runs due in one minute: {tick * 1e3:8.1f} ms  ({result.queued} tasks queued)")
    connection.close()

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "worker",
                "--no-scheduler",
                "--batch",
                "--interval",
                "0.1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.wait()
    lateness = sorted(
        (task.started_at - tick_wall).total_seconds()
        for task in BackupTask.objects.filter(scheduled_at=due_at).exclude(started_at=None)
    )
    done = BackupTask.objects.filter(scheduled_at=due_at, status=BackupTask.Status.EXECUTE_SUCCESS).count()
    p50 = lateness[len(lateness) // 2]
    p99 = lateness[max(0, int(len(lateness) * 0.99) - 1)]
    print(
        f"lateness, tick to task start, {WORKERS} workers: p50 {p50:6.1f} s   p99 {p99:6.1f} s   "
        f"last {lateness[-1]:6.1f} s   ({done}/{len(lateness)} EXECUTE_SUCCESS)"
    )


if __name__ == "__main__":
    main()
