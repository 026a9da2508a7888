"""The production server as ``make serve`` runs it: nginx in front of gunicorn, debug off, WhiteNoise.

The server is started once for the module by ``make serve`` itself (honcho running
``Procfile.serve``) on a loopback port, with a throw-away SQLite database and static folder, the
project's nginx and gunicorn configurations and a freshly generated secret key.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings import BASE_DIR
from tests.helpers.real_parts import require

ROOT = BASE_DIR
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
        # Plain HTTP on loopback; behind a TLS proxy this stays on (docs/operations.md, "Settings").
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
    require(shutil.which("nginx") is not None, "nginx is not installed (apt-get install nginx-light)")
    port = free_port()
    log = folder / "serve.log"
    make = [
        "make",
        "--no-print-directory",
        "serve",
        f"VENV={sys.prefix}",  # the interpreter running the suite, whichever venv it is
        f"--old-file={sys.prefix}/.installed",  # installed already: no pip beside the test
        "HOST=127.0.0.1",
        f"PORT={port}",
        f"GUNICORN_PORT={free_port()}",
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(
            make,
            cwd=ROOT,
            env=production_env(folder, SERVE_RUN_DIR=str(folder / "run"), NGINX_WORKERS="1"),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, honcho, nginx and gunicorn
        )
    served = Server(port, log)
    try:
        # Up to two minutes to migrate, collect and boot on a loaded machine; not a timing assertion.
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(f"make serve exited with {process.returncode}:\n{served.log_text()}")
            try:
                if served.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"make serve did not answer /healthz:\n{served.log_text()}")
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):  # all of them may have stopped already
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_health_check_answers_through_nginx_and_gunicorn(server):
    status, headers, body = server.get("/healthz")
    assert status == 200
    # No worker runs beside this server: its scheduler is stale, which is no reason for a 503.
    assert body == b'{"status": "ok", "database": "ok", "database_write": "ok", "scheduler": "stale"}'
    assert headers["server"] == "nginx"  # without its version


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


# --- What the front proxy answers itself: the API's envelope under /v2/, a page elsewhere -------


def raw_exchange(server, request: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are and read the whole answer (the server closes after an error)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def assert_api_envelope(headers: dict, body: bytes, code: str) -> None:
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"]


def test_an_over_long_api_url_is_414_in_the_envelope(server):
    status, headers, body = server.get("/v2/" + "a" * 6000 + "/backuppolicy")
    assert status == 414
    assert_api_envelope(headers, body, "AutoBackup.0012")


def test_an_over_large_api_header_is_431_in_the_envelope(server):
    status, headers, body = server.get("/v2/p/backuppolicy", **{"X-Auth-Token": "t" * 6000})
    assert status == 431
    assert_api_envelope(headers, body, "AutoBackup.0012")


def test_an_over_large_header_of_a_page_is_an_html_page(server):
    status, headers, body = server.get("/accounts/login/", Cookie="c=" + "x" * 6000)
    assert status == 431
    assert headers["content-type"] == "text/html"
    assert b"<h1>" in body


def test_a_malformed_request_line_is_400_in_the_envelope(server):
    status, headers, body = raw_exchange(server, b"NOT A REQUEST\r\n\r\n")
    assert status == 400
    assert_api_envelope(headers, body, "AutoBackup.0012")


def test_a_request_with_more_headers_than_gunicorn_takes_alone_reaches_the_api(server):
    # gunicorn alone refuses more than 100 header fields with its own HTML 400 page.
    many = "".join(f"X-H{n}: 1\r\n" for n in range(150))
    request = f"GET /v2/p/backuppolicy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{many}\r\n"
    status, headers, body = raw_exchange(server, request.encode())
    assert status == 401
    assert_api_envelope(headers, body, "AutoBackup.0002")


def test_an_api_body_over_the_proxy_limit_is_413_in_the_envelope(server):
    body = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    request = (
        b"POST /v2/p/backuppolicy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    status, headers, answer = raw_exchange(server, request)
    assert status == 413
    assert_api_envelope(headers, answer, "AutoBackup.0011")


def test_slow_clients_holding_more_connections_than_workers_do_not_stop_the_health_check(server):
    # Two workers; ten clients that never finish their headers or their body. Without a buffering
    # front every worker waits on one of them and the health check is never answered.
    held = []
    try:
        for n in range(10):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            if n % 2:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\n")
            else:
                connection.sendall(
                    b"POST /v2/p/backuppolicy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"
                )
            held.append(connection)
        status, _, body = server.get("/healthz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    finally:
        for connection in held:
            connection.close()


def test_with_gunicorn_down_nginx_answers_503_with_retry_after(tmp_path):
    require(shutil.which("nginx") is not None, "nginx is not installed (apt-get install nginx-light)")
    from config.serve import render_nginx_conf

    tmp_path.chmod(0o755)  # nginx's workers may run as another user
    port, dead = free_port(), free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render_nginx_conf(run_dir=tmp_path, listen=f"127.0.0.1:{port}", upstream=f"127.0.0.1:{dead}")
    )
    nginx = subprocess.Popen(["nginx", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)])
    try:
        front = Server(port, tmp_path / "none.log")
        for _ in range(100):
            try:
                status, headers, body = front.get("/v2/p/backuppolicy")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("nginx did not start")
        assert status == 503
        assert headers["retry-after"] == "10"
        assert_api_envelope(headers, body, "AutoBackup.0010")
        status, headers, body = front.get("/p/demo/")
        assert status == 503
        assert headers["content-type"] == "text/html"
        assert b"Temporarily unavailable" in body
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)


def test_trace_on_the_api_is_405_with_allow_in_the_envelope(server):
    status, headers, body = raw_exchange(
        server, b"TRACE /v2/tenant-a/backuppolicy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 405
    assert headers["allow"] == "GET, HEAD, POST, PUT, DELETE"
    assert_api_envelope(headers, body, "AutoBackup.0005")


def test_trace_on_a_page_is_405_with_allow(server):
    status, headers, body = raw_exchange(
        server, b"TRACE /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 405
    assert headers["allow"] == "GET, HEAD, POST"
    assert headers["content-type"].startswith("text/html")


def test_another_unknown_method_reaches_django_whose_405_names_the_routes_methods(server):
    status, headers, body = raw_exchange(
        server, b"PROPFIND /v2/tenant-a/backuppolicy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 405, body[:200]
    assert "GET" in headers["allow"]
