"""The scheduler benchmark (prints numbers, asserts nothing): ``make bench`` or

    .venv/bin/python -m tests.benchmarks.scheduler
    BENCH_POSTGRES_URL=postgresql://bpc:bpc@127.0.0.1:5432/bpc .venv/bin/python -m tests.benchmarks.scheduler

It runs on SQLite (a temporary file), then on PostgreSQL when BENCH_POSTGRES_URL (or
TEST_POSTGRES_URL) names a server and a role that may create databases: a database
``bpc_bench_<random>`` is made there for the run and dropped at its end. Each database is filled
in a process of its own with BENCH_POLICIES policies (100,000) over BENCH_TENANTS tenants
(10,000), their next runs spread over a week; BENCH_DUE of them (1,000), each with one 4 KiB
volume of the local provider, are due in the same minute. Then, BENCH_ROUNDS times (3):

- the tick that turns the due runs into tasks and queue entries, once before each drain;
- backups per second with 1, then 2 worker processes (``manage.py worker --batch
  --no-scheduler``): the tasks done over the span from the first start to the last finish the
  queue recorded, so the workers' start-up is not counted. The volumes are tiny, so this measures
  the queue and the bookkeeping (claim, settle, the backup row, retention), not the copy;
- the floor, in the same round: ``SELECT 1`` round trips per second, and an empty task
  (``noop_task.noop``) drained by 1 and by 2 workers the same way.

Between drains every task, backup and queue entry is deleted and the due policies are due again
(on PostgreSQL the tables are then vacuumed and analysed, as autovacuum would). It prints the
median of each figure, the ratio of 2 workers to 1, and the load average before and after.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = int(os.environ.get("BENCH_POLICIES", "100000"))
TENANTS = int(os.environ.get("BENCH_TENANTS", "10000"))
DUE = int(os.environ.get("BENCH_DUE", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DUE_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- One database, in a process of its own (Django is set up once per process) ---------------


def fill(folder: Path) -> list:
    """Make the tenants, policies and due volumes; return the due policies' keys."""
    from policies.domain.contract import parse
    from policies.models import BackupPolicy, Tenant, Volume
    from policies.runs import inventory

    tenants = Tenant.objects.bulk_create(Tenant(project_id=f"bench-{i:05d}") for i in range(TENANTS))
    spec = parse.parse_policy(
        {
            "backup_policy_name": "x",
            "scheduled_policy": {"start_time": "00:00", "frequency": 1, "rentention_num": 3, "status": "ON"},
        }
    ).spec
    fields = BackupPolicy.fields_from_spec(spec)
    rows = []
    for index in range(POLICIES):
        due = index < DUE
        policy = BackupPolicy(
            tenant=tenants[index % TENANTS],
            **{**fields, "name": f"p{index:06d}", "start_time": "12:00" if due else "00:00"},
        )
        # The others are due later in the week, a minute apart: none of them at the tick.
        policy.next_run_at = DUE_AT if due else DUE_AT + timedelta(hours=12, minutes=index % (7 * 24 * 60))
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
    return [policy.pk for policy in due_policies]


def reset(folder: Path, due: list) -> None:
    """Forget every task, backup and queue entry; make the due policies due again."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from policies.models import Backup, BackupPolicy, BackupTask

    Backup.objects.all().delete()
    BackupTask.objects.all().delete()
    DBTaskResult.objects.all().delete()
    BackupPolicy.objects.filter(pk__in=due).update(next_run_at=DUE_AT)
    shutil.rmtree(folder / "backups", ignore_errors=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def drain(workers: int) -> dict:
    """Run the queue empty with real worker processes; return tasks per second and their count."""
    from django.db import connection
    from django.db.models import Max, Min
    from django_tasks_db.models import DBTaskResult

    connection.close()
    processes = [
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
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    done = DBTaskResult.objects.exclude(finished_at=None)
    span = done.aggregate(first=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return {
        "per_second": done.count() / seconds,
        "done": done.count(),
        "queued": DBTaskResult.objects.count(),
    }


def round_trips_per_second(seconds: float = 1.0) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        count, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            count += 1
    return count / seconds


def one_database(folder: Path) -> dict:
    os.environ["LOCAL_VOLUME_ROOT"] = str(folder / "volumes")
    os.environ["LOCAL_BACKUP_ROOT"] = str(folder / "backups")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection, transaction

    from policies.models import BackupTask
    from policies.runs import scheduler
    from tests.benchmarks.noop_task import noop

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    due = fill(folder)
    reset(folder, due)
    out: dict = {"vendor": connection.vendor, "setup": time.perf_counter() - started}
    log(f"{connection.vendor}: set up in {out['setup']:.1f} s")
    idle = []
    for _ in range(20):
        start = time.perf_counter()
        scheduler.scheduler_tick(now=DUE_AT - timedelta(seconds=30))
        idle.append(time.perf_counter() - start)
    out["idle_tick"] = statistics.median(idle)
    for name in ("tick", "backups_1", "backups_2", "noop_1", "noop_2", "select_1"):
        out[name] = []
    for round_ in range(ROUNDS):
        for workers in (1, 2):
            start = time.perf_counter()
            result = scheduler.scheduler_tick(now=DUE_AT)
            out["tick"].append(time.perf_counter() - start)
            drained = drain(workers)
            success = BackupTask.objects.filter(status=BackupTask.Status.EXECUTE_SUCCESS).count()
            if result.queued != DUE or success != DUE or drained["done"] != DUE:
                sys.exit(f"bench: {result.queued} queued, {success} EXECUTE_SUCCESS, {drained} (want {DUE})")
            out[f"backups_{workers}"].append(drained["per_second"])
            reset(folder, due)
            log(
                f"{connection.vendor} round {round_ + 1}: tick {out['tick'][-1] * 1e3:.0f} ms, "
                f"{workers} worker(s) {drained['per_second']:.1f} backups/s"
            )
        for workers in (1, 2):
            with transaction.atomic():
                for _ in range(DUE):
                    noop.enqueue()
            out[f"noop_{workers}"].append(drain(workers)["per_second"])
            reset(folder, due)
        out["select_1"].append(round_trips_per_second())
        log(
            f"{connection.vendor} round {round_ + 1}: empty task {out['noop_1'][-1]:.0f}/s with 1 worker, "
            f"{out['noop_2'][-1]:.0f}/s with 2; SELECT 1 {out['select_1'][-1]:.0f}/s"
        )
    return out


def _replay_under_explain(queries: list[dict]) -> None:
    """Run the tick's statements again, in order, each under EXPLAIN ANALYZE; roll all back."""
    from django.db import connection, transaction

    timed = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            for query in queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
                total = float(plan[-1].split(":")[1].split()[0])
                timed.append((total, sql, plan))
        transaction.set_rollback(True)
    print(
        f"\nEXPLAIN ANALYZE of the tick's {len(timed)} statements, "
        f"{sum(t for t, _, _ in timed):.1f} ms in the server; the slowest 5:"
    )
    for total, sql, plan in sorted(timed, key=lambda item: -item[0])[:5]:
        print(f"\n{total:8.2f} ms  {sql[:160]}{'...' if len(sql) > 160 else ''}")
        for line in plan[:14]:
            print("    " + (line if len(line) <= 160 else line[:157] + "..."))


def profile(folder: Path) -> None:
    """Where the time goes: the tick and one worker in this process, under pyinstrument."""
    import django

    os.environ["LOCAL_VOLUME_ROOT"] = str(folder / "volumes")
    os.environ["LOCAL_BACKUP_ROOT"] = str(folder / "backups")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.management.commands.db_worker import Worker
    from pyinstrument import Profiler

    from policies.runs import scheduler

    call_command("migrate", verbosity=0)
    due = fill(folder)
    reset(folder, due)
    with CaptureQueriesContext(connection) as tick_queries:
        scheduler.scheduler_tick(now=DUE_AT)
    reset(folder, due)
    profiler = Profiler(interval=0.0005)
    with profiler:
        started = time.perf_counter()
        scheduler.scheduler_tick(now=DUE_AT)
        tick = time.perf_counter() - started
    print(
        f"{connection.vendor}: the tick with {DUE} due took {tick * 1e3:.0f} ms under the profiler, "
        f"{len(tick_queries)} statements ({sum(float(q['time']) for q in tick_queries) * 1e3:.0f} ms "
        "waiting on the database when not profiled)"
    )
    print(profiler.output_text(color=False, unicode=False))
    reset(folder, due)
    if connection.vendor == "postgresql":
        _replay_under_explain(tick_queries.captured_queries)
    scheduler.scheduler_tick(now=DUE_AT)
    tasks = min(DUE, 300)
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=tasks,
        worker_id="profile",
        excluded_queue_names=[],
    )
    connection.queries_log.clear()  # the capture counts from the log, which keeps 9,000 at most
    profiler = Profiler(interval=0.0005)
    with CaptureQueriesContext(connection) as worker_queries, profiler:
        started = time.perf_counter()
        worker.run()
        spent = time.perf_counter() - started
    waited = sum(float(q["time"]) for q in worker_queries)
    print(
        f"\n{connection.vendor}: one worker in this process, {tasks} backups in {spent:.2f} s under the "
        f"profiler; {len(worker_queries) / tasks:.1f} statements per backup, "
        f"{waited / spent:.0%} of the time waiting on the database"
    )
    print(profiler.output_text(color=False, unicode=False))


# --- The run: each database in a child process, then the table ------------------------------


def measure(database_url: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bpc-sched-bench-") as folder:
        env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{folder}/bench.sqlite3"}
        done = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.scheduler", "--one", folder],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"bench: the scheduler benchmark failed on {database_url or 'SQLite'}")
        return json.loads(done.stdout)


def table(results: list[dict]) -> None:
    def median(result: dict, name: str) -> float:
        return statistics.median(result[name])

    rows = [
        ("set-up (s)", lambda r: f"{r['setup']:.1f}"),
        ("tick, nothing due (ms)", lambda r: f"{r['idle_tick'] * 1e3:.1f}"),
        (f"tick, {DUE} due (s)", lambda r: f"{median(r, 'tick'):.3f}"),
        ("backups/s, 1 worker", lambda r: f"{median(r, 'backups_1'):.1f}"),
        ("backups/s, 2 workers", lambda r: f"{median(r, 'backups_2'):.1f}"),
        ("ratio 2 workers / 1", lambda r: f"{median(r, 'backups_2') / median(r, 'backups_1'):.2f}"),
        ("floor: empty tasks/s, 1 worker", lambda r: f"{median(r, 'noop_1'):.1f}"),
        ("floor: empty tasks/s, 2 workers", lambda r: f"{median(r, 'noop_2'):.1f}"),
        ("floor: ratio 2 workers / 1", lambda r: f"{median(r, 'noop_2') / median(r, 'noop_1'):.2f}"),
        ("floor: SELECT 1 round trips/s", lambda r: f"{median(r, 'select_1'):.0f}"),
        (
            "backups/s, 1 worker / empty tasks/s",
            lambda r: f"{median(r, 'backups_1') / median(r, 'noop_1'):.2f}",
        ),
    ]
    names = [result["vendor"] for result in results]
    print(f"\n{'':38}" + "".join(f"{name:>12}" for name in names))
    for label, cell in rows:
        print(f"{label:38}" + "".join(f"{cell(result):>12}" for result in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="where the time goes, on PostgreSQL when a server is named: the tick and one worker under "
        "pyinstrument, and the tick's statements under EXPLAIN ANALYZE",
    )
    options = parser.parse_args()
    if options.one:
        if options.profile:
            profile(Path(options.one))
        else:
            print(json.dumps(one_database(Path(options.one))))
        return
    server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    if options.profile:
        from tests.benchmarks.load import ThrowawayPostgres

        with tempfile.TemporaryDirectory(prefix="bpc-sched-profile-") as folder:
            command = [sys.executable, "-m", "tests.benchmarks.scheduler", "--one", folder, "--profile"]
            if not server:
                env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3"}
                sys.exit(subprocess.run(command, cwd=ROOT, env=env).returncode)
            with ThrowawayPostgres(server) as url:
                code = subprocess.run(command, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}).returncode
            sys.exit(code)
    print(
        f"{POLICIES} policies over {TENANTS} tenants, {DUE} due at once; medians of {ROUNDS} rounds; "
        f"4 KiB volumes of the local provider (the queue and the bookkeeping, not the copy)"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ({os.cpu_count()} CPUs)")
    results = [measure("")]
    if server:
        from tests.benchmarks.load import ThrowawayPostgres

        with ThrowawayPostgres(server) as url:
            results.append(measure(url))
    else:
        print("postgresql: not run (set BENCH_POSTGRES_URL to a server whose role may create databases)")
    table(results)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
