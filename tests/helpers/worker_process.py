"""Start ``manage.py worker`` as a real process on the test database (killed worker, browser tests)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database the tests use now (the test database, not the configured one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*args: str, **env: str) -> subprocess.Popen:
    """Start a worker process (its output in a log file beside the test database)."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOCAL_VOLUME_ROOT": str(settings.LOCAL_VOLUME_ROOT),
        "LOCAL_BACKUP_ROOT": str(settings.LOCAL_BACKUP_ROOT),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    log = open(ROOT / "test-artifacts" / f"worker-{os.getpid()}.log", "ab")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "worker", "--interval", "0.2", *args],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def wait_until(condition, *, timeout: float = 90, what: str = "the condition") -> None:
    """Poll ``condition`` until it holds; fail (not skip) when it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
