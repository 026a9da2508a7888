"""Load benchmark of the production server (``make bench``): wrk against gunicorn, debug off.

For each database (SQLite always; PostgreSQL when BENCH_POSTGRES_URL or TEST_POSTGRES_URL names a
server) it makes a throw-away database, migrates it, collects the static files, seeds tenants and
tokens, starts gunicorn on a loopback port with config/gunicorn.conf.py and a generated secret
key, and runs wrk (tests/benchmarks/wrk.lua) for each request below, after a warm-up run. It
prints requests per second and the median and 99th-percentile latency of each, with their ratio
to GET /healthz, the floor: a request that does nothing but ask the database for ``SELECT 1``.
At the end, a summary: each request's throughput as a share of the floor's on each database,
beside the goal, and the size of the dashboard preview's answer per change of one field.

Settings (environment variables):

  BENCH_DURATION     seconds measured per request kind (default 5)
  BENCH_WARMUP       seconds of warm-up before each (default 1)
  BENCH_CONNECTIONS  open connections (default 8); BENCH_THREADS wrk threads (default 2)
  BENCH_WORKERS      gunicorn workers (default: config/gunicorn.conf.py's, 2 x CPUs + 1)
  BENCH_TENANTS      tenants the creates rotate over (default 3000: 30 000 creates before a quota)
  BENCH_DATABASES    "sqlite,postgresql" by default; PostgreSQL only with a server URL
  BENCH_SERVER       "serve" (default: what make serve starts, nginx in front of gunicorn) or
                     "gunicorn" (gunicorn alone, as make serve did before nginx)

Numbers, never assertions: compare runs on one machine (docs/performance.md).
"""

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).with_name("wrk.lua")
GUNICORN = Path(sys.executable).with_name("gunicorn")

DURATION = int(os.environ.get("BENCH_DURATION", "5"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TENANTS = int(os.environ.get("BENCH_TENANTS", "3000"))
SERVER = os.environ.get("BENCH_SERVER", "serve")
if SERVER not in {"serve", "gunicorn"}:
    sys.exit(f"bench: BENCH_SERVER={SERVER!r}: use serve or gunicorn")
LIST_TENANTS = 20
PREVIEW_PROJECT = "bench-preview"

# The body of each create (round, sequence number): the same as create_body in wrk.lua.
CREATE_BODY = (
    '{"backup_policy_name": "bench_%s_%d", "scheduled_policy": {"start_time": "22:00,00:00,02:00",'
    ' "week_frequency": ["MON", "THU"], "rentention_num": 7, "status": "ON"}, "time_zone": "UTC+02:00",'
    ' "tags": [{"key": "env", "value": "bench"}]}'
)

# label, wrk mode, data file (None: no data)
ROWS = [
    ("GET /healthz (floor)", "healthz", None),
    ("POST /v2/{project_id}/backuppolicy (create)", "create", "create.tsv"),
    ("GET /v2/{project_id}/backuppolicy (10 policies)", "list", "list.tsv"),
    ("POST /p/{project}/preview (name changed)", "preview", "preview-name.tsv"),
    ("POST /p/{project}/preview (retention changed)", "preview", "preview-retention.tsv"),
    ("POST /p/{project}/preview/calendar (then)", "preview", "preview-calendar.tsv"),
]

# The changes of one field of the founding example that the preview rows send, as htmx sends
# them: the whole form, with the key of the forecast the page shows (what the first answer
# gave). A new name leaves the forecast as it is; a new retention changes it.
PREVIEW_CHANGES = {
    "name changed": ("preview-name.tsv", {"name": "renamed_policy"}),
    "retention changed": ("preview-retention.tsv", {"retention_num": "3"}),
}
# What the summary compares with the floor (the goals): label prefix, short name, goal.
GOALS = [
    ("POST /v2/{project_id}/backuppolicy (create)", "create", 0.5),
    ("GET /v2/{project_id}/backuppolicy (10 policies)", "list of 10", 0.6),
    ("POST /p/{project}/preview (name changed)", "preview (name changed)", 0.5),
    ("POST /p/{project}/preview (retention changed)", "preview (retention changed)", 0.5),
    # Asked for by the page once the answer to a new retention is in: no goal of its own.
    ("POST /p/{project}/preview/calendar (then)", "its calendar, asked for then", None),
]
# The parts of a new forecast that the page asks for (policies/dashboard/preview.py), with the form
# after the retention change: the calendar at once, the day-by-day table when it is opened.
PREVIEW_PARTS = {
    "calendar asked for after it": ("calendar", "preview-calendar.tsv"),
    "days asked for when opened": ("days", None),
}


# --- seeding (runs inside Django, in a subprocess with the bench's environment) ---------------


def seed(folder: Path) -> dict:
    """Fill the database with what the rows need; write their wrk data files into ``folder``."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from policies import accounts, audit, services
    from policies.dashboard.forms.mapping import form_data_from_payload
    from policies.domain.contract import limits, parse
    from policies.models import ApiToken, Membership, Tenant, hash_token
    from tests.helpers.payloads import founding_payload, valid_payload

    user_model = get_user_model()
    now = timezone.now()

    def tenants_with_tokens(prefix: str, count: int) -> list[tuple[Tenant, str]]:
        tenants = Tenant.objects.bulk_create(
            Tenant(project_id=f"{prefix}-{index:05d}", name=f"Bench {index}") for index in range(count)
        )
        users = user_model.objects.bulk_create(
            user_model(username=f"{prefix}-user-{index:05d}", password="!") for index in range(count)
        )
        Membership.objects.bulk_create(
            Membership(user=u, tenant=t) for u, t in zip(users, tenants, strict=True)
        )
        raws = [accounts.TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            ApiToken(user=u, digest=hash_token(raw), prefix=raw[:10], created_at=now)
            for u, raw in zip(users, raws, strict=True)
        )
        return list(zip(tenants, raws, strict=True))

    def write(name: str, rows: list[list[str]]) -> None:
        (folder / name).write_text("".join("\t".join(row) + "\n" for row in rows))

    write("create.tsv", [[t.project_id, raw] for t, raw in tenants_with_tokens("bench-create", TENANTS)])

    listed = tenants_with_tokens("bench-list", LIST_TENANTS)
    for tenant, _ in listed:
        for index in range(limits.MAX_POLICIES_PER_TENANT):
            payload = valid_payload(
                backup_policy_name=f"listed_{index}",
                tags=[{"key": f"key{n}", "value": f"value{n}"} for n in range(index % 4)],
            )
            spec = parse.parse_policy(payload).spec
            services.policy_create(tenant=tenant, spec=spec, actor=audit.Actor.command())
    write("list.tsv", [[t.project_id, raw] for t, raw in listed])

    # The preview: a person signed in to the dashboard, with the session and CSRF cookies a
    # browser would hold, sending the form as htmx does on each change.
    tenant, _ = accounts.tenant_get_or_create(project_id=PREVIEW_PROJECT, name="Bench preview")
    person = user_model.objects.create_user(username="bench-person", password=secrets.token_urlsafe(16))
    accounts.membership_add(user=person, tenant=tenant)
    browser = Client()
    browser.force_login(person)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    form = form_data_from_payload(founding_payload())
    path = reverse("policies:policy_preview", args=[PREVIEW_PROJECT])
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
    # The preview rows' data files are written once the server runs (prepare_previews): their
    # bodies carry the key of the forecast the server's first answer gave.
    (folder / "preview.json").write_text(
        json.dumps({"path": path, "cookie": cookie, "csrf": csrf, "form": form})
    )
    return {"preview_path": path, "cookie": cookie, "csrf": csrf, "form": form}


def _seed_main(folder: str) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    seed(Path(folder))


# --- running -----------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    status_errors: int
    socket_errors: int


def serve_command(port: int) -> list[str]:
    """``make serve`` on loopback ``port``, in the venv running this code (honcho, nginx, gunicorn)."""
    return [
        "make",
        "--no-print-directory",
        "serve",
        f"VENV={sys.prefix}",
        f"--old-file={sys.prefix}/.installed",  # installed already: serve as it is
        "HOST=127.0.0.1",
        f"PORT={port}",
        f"GUNICORN_PORT={free_port()}",
    ]


def stop(server: subprocess.Popen) -> None:
    """Stop a server started in a session of its own, with every process it started."""
    with contextlib.suppress(ProcessLookupError):  # all of them may have stopped already
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict, *, what: str) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"bench: {what} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class ThrowawayPostgres:
    """A database created on the server for one run, dropped afterwards."""

    def __init__(self, url: str) -> None:
        self.admin_url = url
        self.name = f"bpc_bench_{os.getpid()}_{secrets.token_hex(3)}"
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def __enter__(self) -> str:
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def production_env(folder: Path, database_url: str, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback, as behind a TLS proxy
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(folder / "static"),
        BIND=f"127.0.0.1:{port}",
        PYTHONPATH=str(ROOT),
    )
    if os.environ.get("BENCH_WORKERS"):
        env["WORKERS"] = os.environ["BENCH_WORKERS"]
    return env


def wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"bench: gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"bench: gunicorn did not answer /healthz:\n{log.read_text()}")


def list_route_exists(url: str, data: Path) -> bool:
    project_id, token = data.read_text().splitlines()[0].split("\t")
    request = urllib.request.Request(f"{url}/v2/{project_id}/backuppolicy", headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status == 200
    except urllib.error.HTTPError:
        return False


FORECAST_KEY = re.compile(r'name="forecast_shown" value="([0-9a-f]+)"')


def preview_answer(url: str, seeded: dict, form: dict, *, gzip_ok: bool, part: str = "") -> bytes:
    """POST the form to the live preview (or a part of it) as htmx does; return the answer's body."""
    headers = {
        "Cookie": seeded["cookie"],
        "X-CSRFToken": seeded["csrf"],
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    body = urlencode(form, doseq=True).encode()
    path = seeded["path"] + (f"/{part}" if part else "")
    request = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def prepare_previews(url: str, folder: Path) -> dict[str, tuple[int, int]]:
    """Write the preview rows' data files; return each change's answer size, plain and gzipped.

    The first answer (the form as filled in) gives the key of the forecast now on the page; each
    change sends it back, as the browser does. A server without keys gets none and answers all.
    """
    seeded = json.loads((folder / "preview.json").read_text())
    first = preview_answer(url, seeded, seeded["form"], gzip_ok=False).decode()
    found = FORECAST_KEY.search(first)
    shown = {"forecast_shown": found[1]} if found else {}
    packed = preview_answer(url, seeded, seeded["form"], gzip_ok=True)
    sizes = {"first answer (the form as filled in)": (len(first.encode()), len(packed))}
    for change, (data_name, fields) in PREVIEW_CHANGES.items():
        form = {**seeded["form"], **fields, **shown}
        plain = preview_answer(url, seeded, form, gzip_ok=False)
        packed = preview_answer(url, seeded, form, gzip_ok=True)
        sizes[change] = (len(plain), len(packed))
        row = [seeded["path"], seeded["cookie"], seeded["csrf"], urlencode(form, doseq=True)]
        (folder / data_name).write_text("\t".join(row) + "\n")
    form = {**seeded["form"], **PREVIEW_CHANGES["retention changed"][1], **shown}
    for label, (part, data_name) in PREVIEW_PARTS.items():
        plain = preview_answer(url, seeded, form, gzip_ok=False, part=part)
        packed = preview_answer(url, seeded, form, gzip_ok=True, part=part)
        sizes[label] = (len(plain), len(packed))
        if data_name:
            row = [f"{seeded['path']}/{part}", seeded["cookie"], seeded["csrf"], urlencode(form, doseq=True)]
            (folder / data_name).write_text("\t".join(row) + "\n")
    return sizes


def wrk(url: str, mode: str, data: Path | None, *, seconds: int, round_name: str) -> dict:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        url,
        "--",
        mode,
        str(data) if data else "-",
        round_name,
        str(THREADS),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    sys.exit(f"bench: wrk gave no result for {mode}:\n{done.stdout}\n{done.stderr}")


def bench_database(vendor: str, database_url: str, folder: Path) -> tuple[list[Result], dict]:
    port = free_port()
    env = production_env(folder, database_url, port)
    python = sys.executable
    run([python, "manage.py", "migrate", "--noinput"], env, what="migrate")
    run([python, "manage.py", "collectstatic", "--noinput"], env, what="collectstatic")
    run([python, "-m", "tests.benchmarks.load", "--seed", str(folder)], env, what="seeding")
    log = folder / "gunicorn.log"
    url = f"http://127.0.0.1:{port}"
    if SERVER == "serve":
        command = serve_command(port)
        env.pop("BIND")
    else:
        command = [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"]
    with log.open("w") as sink:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    results = []
    try:
        wait_for_health(url, server, log)
        sizes = prepare_previews(url, folder)
        for label, mode, data_name in ROWS:
            data = folder / data_name if data_name else None
            if mode == "list" and not list_route_exists(url, data):
                print(f"  {vendor}: {label}: not run, the server has no list route (405)", file=sys.stderr)
                continue
            if WARMUP:
                wrk(url, mode, data, seconds=WARMUP, round_name="warm")
            raw = wrk(url, mode, data, seconds=DURATION, round_name="run")
            results.append(
                Result(
                    label=label,
                    rps=raw["requests"] / (raw["duration_us"] / 1e6),
                    p50_ms=raw["p50_us"] / 1e3,
                    p99_ms=raw["p99_us"] / 1e3,
                    requests=raw["requests"],
                    status_errors=raw["status_errors"],
                    socket_errors=raw["socket_errors"],
                )
            )
            print(f"  {vendor}: {label}: {results[-1].rps:.0f} req/s", file=sys.stderr)
    finally:
        stop(server)
    return results, sizes


def print_table(vendor: str, results: list[Result]) -> None:
    floor = results[0]
    print()
    front = "nginx + gunicorn" if SERVER == "serve" else "gunicorn alone"
    print(f"{vendor}: {front}, {workers_in_use()} workers; wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s")
    header = f"{'request':<50} {'req/s':>8} {'x floor':>8} {'p50 ms':>8} {'x floor':>8} {'p99 ms':>8} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.label:<50} {result.rps:8.0f} {result.rps / floor.rps:8.2f} "
            f"{result.p50_ms:8.2f} {result.p50_ms / floor.p50_ms:8.2f} "
            f"{result.p99_ms:8.2f} {result.p99_ms / floor.p99_ms:8.2f}"
        )
    for result in results:
        if not result.requests:
            print(f"  ! {result.label}: no answer within the run: its figures are not valid")
        elif result.status_errors or result.socket_errors:
            print(
                f"  ! {result.label}: {result.status_errors} answers not 2xx/3xx, "
                f"{result.socket_errors} socket errors of {result.requests}: its figures are not valid"
            )


def print_summary(tables: list[tuple[str, list[Result], dict]]) -> None:
    """The issue's figures in one place: each request's throughput as a share of the floor's."""
    vendors = [vendor for vendor, _, _ in tables]
    print()
    print("requests per second as a share of GET /healthz on the same server (higher is better)")
    header = f"{'request':<32}" + "".join(f"{vendor:>12}" for vendor in vendors) + f"{'goal':>8}"
    print(header)
    print("-" * len(header))
    for label, short, goal in GOALS:
        cells = []
        for _, results, _ in tables:
            by_label = {result.label: result for result in results}
            row = by_label.get(label)
            valid = row is not None and row.requests and not (row.status_errors or row.socket_errors)
            cells.append(f"{row.rps / results[0].rps:12.2f}" if valid else f"{'-':>12}")
        print(f"{short:<32}" + "".join(cells) + (f"{goal:8.2f}" if goal is not None else f"{'-':>8}"))
    print()
    print("preview answer per change of the founding example, bytes (plain / gzip)")
    header = f"{'change':<40}" + "".join(f"{vendor:>20}" for vendor in vendors)
    print(header)
    print("-" * len(header))
    for change in tables[0][2]:
        cells = "".join(f"{f'{sizes[change][0]} / {sizes[change][1]}':>20}" for _, _, sizes in tables)
        print(f"{change:<40}{cells}")


def workers_in_use() -> int:
    if os.environ.get("BENCH_WORKERS"):
        return int(os.environ["BENCH_WORKERS"])
    return (os.cpu_count() or 1) * 2 + 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit(
            "bench: wrk is not installed, so the load benchmark cannot run.\n"
            "  Debian/Ubuntu: sudo apt-get install wrk    macOS: brew install wrk\n"
            "  (the in-process micro benchmarks need no wrk: python -m tests.benchmarks.run)"
        )
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    wanted = [name.strip() for name in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")]
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}")
    tables = []
    for vendor in wanted:
        folder = Path(tempfile.mkdtemp(prefix=f"bpc-load-{vendor}-"))
        try:
            if vendor == "sqlite":
                tables.append(
                    (vendor, *bench_database(vendor, f"sqlite:///{folder / 'bench.sqlite3'}", folder))
                )
            elif vendor == "postgresql":
                if not postgres_url:
                    print("postgresql: not run (set BENCH_POSTGRES_URL or TEST_POSTGRES_URL to a server)")
                    continue
                with ThrowawayPostgres(postgres_url) as url:
                    tables.append((vendor, *bench_database(vendor, url, folder)))
            else:
                sys.exit(f"bench: unknown database {vendor!r} in BENCH_DATABASES")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    for vendor, results, _ in tables:
        print_table(vendor, results)
    if tables:
        print_summary(tables)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        _seed_main(sys.argv[2])
    else:
        main()
