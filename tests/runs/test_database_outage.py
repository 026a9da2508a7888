"""PostgreSQL stopped under running workers: they live through it, and the copy made meanwhile is recorded."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import private_postgres
from tests.helpers.real_parts import require
from tests.helpers.runs import backup_content, backup_midway, write_volume
from tests.helpers.worker_process import ROOT, start_worker, stop, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # the PostgreSQL pass only (tests/conftest.py)

CONTENT = bytes(range(256)) * 480  # 120 KiB: ~7 s at 16 KiB/s
OUTAGE_SECONDS = 10

SEED = """
from policies.models import Tenant
from policies.runs import inventory
from tests.helpers.runs import associate, daily_policy
tenant = Tenant.objects.create(project_id="tenant-a", name="A")
inventory.volumes_sync(tenant=tenant)
associate(daily_policy(tenant, status="OFF"), list(tenant.volumes.all()))
"""

RUN_NOW = """
from policies import services, volumes
from policies import audit
from policies.models import BackupPolicy
volumes.policy_execute(policy=BackupPolicy.objects.get(), actor=audit.Actor.command())
"""


@pytest.fixture
def server():
    require(private_postgres.available(), f"PostgreSQL's server binaries are not in {private_postgres.BIN}")
    pg = private_postgres.PrivatePostgres()
    try:
        pg.initialise()
        pg.start()
        pg.create_database()
        yield pg
    finally:
        pg.remove()


def manage(pg, *args: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": pg.url(),
        "LOCAL_VOLUME_ROOT": str(settings.LOCAL_VOLUME_ROOT),
        "LOCAL_BACKUP_ROOT": str(settings.LOCAL_BACKUP_ROOT),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, capture_output=True
    )


def succeeded(pg) -> int:
    return pg.query("SELECT count(*) FROM policies_backuptask WHERE status = 'EXECUTE_SUCCESS'")[0][0]


def test_workers_survive_a_database_outage_and_record_the_copy_made_during_it(server):
    write_volume("tenant-a", "disk.img", CONTENT)
    manage(server, "migrate", "--no-input")
    manage(server, "shell", "-c", SEED)
    env = {"DATABASE_URL": server.url(), "LOCAL_COPY_BYTES_PER_SECOND": "16384"}
    workers = [start_worker("--tick-seconds", "0.5", **env) for _ in range(2)]
    try:
        manage(server, "shell", "-c", RUN_NOW)
        store = Path(settings.LOCAL_BACKUP_ROOT) / "tenant-a" / ".store"
        wait_until(lambda: backup_midway("tenant-a"), what="the copy to start")

        server.stop()
        stopped = time.monotonic()
        # The copy ends while the database is down: nothing can record it yet.
        wait_until(lambda: any(store.glob("autobk_*.index")), what="the copy to end during the outage")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        assert [worker.poll() for worker in workers] == [None, None]
        server.start()

        wait_until(lambda: succeeded(server) == 1, timeout=180, what="the copy to be recorded")
        # The schedulers tick again: a policy made due now is moved on to its next run.
        server.query(
            "UPDATE policies_backuppolicy SET status = 'ON', next_run_at = now() - interval '1 second' RETURNING 1"
        )
        wait_until(
            lambda: server.query("SELECT next_run_at > now() FROM policies_backuppolicy") == [(True,)],
            timeout=180,
            what="a scheduler tick after the outage",
        )
        [(locator, sha256)] = server.query("SELECT locator, sha256 FROM policies_backup")
        assert backup_content(locator) == CONTENT
        assert sha256

        # Both workers go on working: the next run is made and recorded too.
        manage(server, "shell", "-c", RUN_NOW)
        wait_until(lambda: succeeded(server) == 2, timeout=180, what="a run after the outage")
        assert [worker.poll() for worker in workers] == [None, None]
        assert server.query("SELECT count(*) FROM policies_backuptask WHERE status <> 'EXECUTE_SUCCESS'") == [
            (0,)
        ]
    finally:
        for worker in workers:
            stop(worker)
