"""Slow clients against the production server: does ``/healthz`` still answer while they wait?

Opens N (default 50) connections to a loopback server that never finish their request: half send
headers without the blank line that ends them, half send an API ``POST`` that declares
``Content-Length: 100`` and sends ``{``. While they hang on, it asks ``GET /healthz`` a bounded
number of times, one after the other, and prints the latency of each answer (or the failure).
Then it closes everything. Numbers, never assertions (docs/operations.md, "Slow clients").

  python -m tests.benchmarks.slow_clients                       # make serve's stack (nginx + gunicorn)
  python -m tests.benchmarks.slow_clients --server gunicorn     # gunicorn alone (sync workers)
  python -m tests.benchmarks.slow_clients --server gthread      # gunicorn alone, THREADS=4
  python -m tests.benchmarks.slow_clients --url http://127.0.0.1:8000   # a server already running

Options: ``--slow N`` connections (default 50), ``--probes N`` health checks (default 20),
``--timeout S`` per probe (default 10 s). A server it starts has a throw-away SQLite database and
``WORKERS`` processes (default 5, the production default on 2 CPUs).
"""

import argparse
import ipaddress
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.benchmarks.load import ROOT, free_port, production_env, run, serve_command, stop, wait_for_health

GUNICORN = Path(sys.executable).with_name("gunicorn")

SERVERS = {
    "serve": (
        "make serve: nginx in front of gunicorn (sync workers)",
        None,  # serve_command(port), once the port is chosen
        {},
    ),
    "gunicorn": (
        "gunicorn alone, sync workers",
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        {},
    ),
    "gthread": (
        "gunicorn alone, gthread workers (THREADS=4)",
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        {"THREADS": "4"},
    ),
}


def slow_request(host: str, kind: int) -> bytes:
    if kind % 2 == 0:  # headers that never end
        return f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-A: 1\r\n".encode()
    return (  # a body that never comes
        f"POST /v2/p/backuppolicy HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    ).encode()


def probe(host: str, port: int, timeout: float) -> tuple[float | None, str]:
    """Return the seconds one GET /healthz took and its status line (None and the error on failure)."""
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while b"\r\n" not in answer:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                answer += chunk
                if time.perf_counter() - started > timeout:
                    raise TimeoutError
    except (OSError, TimeoutError) as exc:
        return None, type(exc).__name__
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return time.perf_counter() - started, status


def attack(host: str, port: int, *, slow: int, probes: int, timeout: float) -> None:
    held = []
    refused = 0
    for kind in range(slow):
        try:
            connection = socket.create_connection((host, port), timeout=5)
            connection.sendall(slow_request(host, kind))
            held.append(connection)
        except OSError:
            refused += 1
    time.sleep(1)  # let the server's workers pick them up
    print(
        f"{len(held)} slow connections open ({refused} refused); {probes} health checks, one after the other"
    )
    times, failures, statuses = [], 0, {}
    deadline = time.monotonic() + probes * timeout + 5  # bounded however the server behaves
    try:
        for _ in range(probes):
            if time.monotonic() > deadline:
                break
            seconds, status = probe(host, port, timeout)
            statuses[status] = statuses.get(status, 0) + 1
            if seconds is None:
                failures += 1
            else:
                times.append(seconds)
        still_open = 0
        for connection in held:
            connection.setblocking(False)
            try:
                connection.recv(1)  # an answer (408) or b"" (closed): the server let it go
            except BlockingIOError:
                still_open += 1  # nothing sent back yet: still held by the server
            except OSError:
                pass
    finally:
        for connection in held:
            connection.close()
    print("answers: " + ", ".join(f"{status!r} x{count}" for status, count in sorted(statuses.items())))
    if times:
        ordered = sorted(times)
        print(
            f"healthz latency (s): median {statistics.median(ordered):.3f}, "
            f"max {ordered[-1]:.3f}, min {ordered[0]:.3f}; failed or timed out ({timeout:.0f} s): {failures}"
        )
    else:
        print(f"healthz latency: no answer at all; failed or timed out ({timeout:.0f} s): {failures}")
    print(f"slow connections still waiting on the server at the end: {still_open} of {len(held)}")


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=sorted(SERVERS), default="serve")
    parser.add_argument("--url", help="a server already running on loopback (no server is started)")
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if not (0 < args.slow <= 1000 and 0 < args.probes <= 200 and 0 < args.timeout <= 60):
        sys.exit("slow_clients: --slow 1-1000, --probes 1-200, --timeout up to 60 s")
    if args.url:
        parts = urlsplit(args.url)
        if not loopback(parts.hostname or ""):
            sys.exit("slow_clients: loopback servers only (127.0.0.1, ::1, localhost)")
        attack(parts.hostname, parts.port or 80, slow=args.slow, probes=args.probes, timeout=args.timeout)
        return
    label, command, extra = SERVERS[args.server]
    folder = Path(tempfile.mkdtemp(prefix="bpc-slow-"))
    port = free_port()
    env = production_env(folder, f"sqlite:///{folder / 'slow.sqlite3'}", port)
    env.update(HOST="127.0.0.1", PORT=str(port), WORKERS=os.environ.get("WORKERS", "5"), **extra)
    if args.server != "serve":
        env["BIND"] = f"127.0.0.1:{port}"
    else:
        env.pop("BIND")
    print(f"server: {label}, {env['WORKERS']} workers; {os.cpu_count()} CPUs")
    run([sys.executable, "manage.py", "migrate", "--noinput"], env, what="migrate")
    log = folder / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            command or serve_command(port),
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server, log)
        attack("127.0.0.1", port, slow=args.slow, probes=args.probes, timeout=args.timeout)
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
