"""The production server as ``make serve`` runs it: gunicorn, debug off, WhiteNoise, one log line.

The server is started once for the module on a loopback port, with a throw-away SQLite database
and static folder, the project's gunicorn configuration and a freshly generated secret key.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on loopback; behind a TLS proxy this stays on (README, "Configuration").
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"sqlite:///{folder / 'serve.sqlite3'}",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        WORKERS="2",
    )
    env.update(extra)
    return env


class Server:
    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log

    def get(self, path: str, **headers: str) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    env = production_env(folder)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    port = free_port()
    log = folder / "gunicorn.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env={**env, "BIND": f"127.0.0.1:{port}"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Server(port, log)
    try:
        for _ in range(300):  # up to a minute to boot on a loaded machine; not a timing assertion
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{served.log_text()}")
            try:
                if served.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not answer /healthz:\n{served.log_text()}")
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_health_check_answers_through_gunicorn(server):
    status, headers, body = server.get("/healthz")
    assert status == 200
    assert body == b'{"status": "ok", "database": "ok", "database_write": "ok"}'
    assert headers["server"].startswith("gunicorn")


def test_each_request_is_logged_once_by_the_app_and_not_again_by_gunicorn(server):
    request_id = "serve-test-" + secrets.token_hex(8)
    status, headers, _ = server.get("/accounts/login/", **{"X-Request-ID": request_id})
    assert status == 200
    assert headers["x-request-id"] == request_id
    for _ in range(50):  # the worker writes the line just after answering
        if request_id in server.log_text():
            break
        time.sleep(0.1)
    lines = [line for line in server.log_text().splitlines() if "/accounts/login/" in line]
    assert len(lines) == 1, lines
    assert re.search(rf"\[{request_id}\] bpc\.requests: GET /accounts/login/ 200 \d+\.\dms$", lines[0])


def test_static_files_have_hashed_names_long_caching_and_compression(server):
    _, _, page = server.get("/accounts/login/")
    stylesheet = re.search(rb'href="(/static/css/console\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page[:500]
    status, headers, body = server.get(stylesheet.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]
    assert "max-age=315360000" in headers["cache-control"]
    assert body[:2] == b"\x1f\x8b"


def test_debug_is_off(server):
    status, _, body = server.get("/no-such-page/")
    assert status == 404
    assert b"URLconf" not in body  # Django's debug 404 page lists the URL patterns


def test_gunicorn_refuses_to_start_with_a_weak_secret_key(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY="changeme", BIND=f"127.0.0.1:{free_port()}")
    done = subprocess.run(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak" in done.stderr
    assert "secrets.token_urlsafe(50)" in done.stderr
