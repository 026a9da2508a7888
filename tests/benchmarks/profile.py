"""Profile one kind of benched request under the production code path (pyinstrument).

    python -m tests.benchmarks.profile [create|list|preview|healthz] [--requests N] [--postgres]
                                       [--change "name changed"|"retention changed"]
                                       [--part calendar|days]

Production settings (debug off, collected static files, the same middleware), a throw-away
database (SQLite; with --postgres one made on BENCH_POSTGRES_URL or TEST_POSTGRES_URL's server),
the data of the load benchmark, and each request handed to config.wsgi.application as gunicorn
hands it: an environ dict and start_response. No network. Prints the time per request without
the profiler, a table of where it goes, and pyinstrument's call tree.
"""

import argparse
import atexit
import io
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]


def _environ(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


# Where the time goes, inclusive of what each calls (so the rows overlap): (label, file, function).
BUCKETS = [
    (
        "the view (the dashboard's, or DRF's dispatch)",
        "policies/dashboard/views/policies.py",
        "policy_preview",
    ),
    (
        "the view (the dashboard's, or DRF's dispatch)",
        "policies/dashboard/views/policies.py",
        "policy_preview_part",
    ),
    ("the view (the dashboard's, or DRF's dispatch)", "rest_framework/views.py", "dispatch"),
    ("the view (the dashboard's, or DRF's dispatch)", "config/views.py", "healthz"),
    ("database connection opened (each request with SQLite)", "django/db/backends/base/base.py", "connect"),
    ("database connection closed (each request with SQLite)", "django/db/backends/base/base.py", "_close"),
    ("session: read from the database", "contrib/sessions/backends/db.py", "load"),
    ("the signed-in user: read (with the session)", "contrib/auth/__init__.py", "get_user"),
    ("X-Auth-Token: looked up, its use recorded", "policies/api/auth.py", "authenticate"),
    ("SQL: run by the database driver", "django/db/backends/utils.py", "_execute"),
    ("SQL: compiled by the ORM", "django/db/models/sql/compiler.py", "as_sql"),
    ("ORM: rows turned into model objects", "django/db/models/query.py", "__iter__"),
    (
        "the contract core: parsing (policies/domain/contract/parse.py)",
        "policies/domain/contract/parse.py",
        None,
    ),
    ("the forecast (policies/domain/forecast.py)", "policies/domain/forecast.py", None),
    ("dashboard form: built", "policies/dashboard/forms/policy.py", "__init__"),
    ("dashboard form: checked", "policies/dashboard/forms/policy.py", "is_valid"),
    ("dashboard form: preview computed", "policies/dashboard/preview.py", "preview_of"),
    ("templates rendered", "django/template/base.py", "render"),
    ("services.policy_create (transaction)", "policies/services.py", "policy_create"),
    ("JSON answer rendered", "rest_framework/response.py", "rendered_content"),
    ("log lines written (the request line and others)", "logging/__init__.py", "_log"),
]


def _matches(frame, file_part: str, function: str | None) -> bool:
    return file_part in (frame.file_path or "") and (function is None or frame.function == function)


def _bucket_time(frame, file_part: str, function: str | None) -> float:
    """Return the time of the outermost frames that match (a match inside a match counts once)."""
    if _matches(frame, file_part, function):
        return frame.time
    return sum(_bucket_time(child, file_part, function) for child in frame.children)


def print_buckets(session, requests: int) -> None:
    root = session.root_frame()
    total = root.time if root else 0.0
    print(f"{'where the time goes (inclusive; rows overlap)':<64} {'ms/request':>10} {'share':>6}")
    print(
        f"{'the whole request (WSGI application call and close)':<64} {total / requests * 1e3:10.2f} {1:6.0%}"
    )
    for label, file_part, function in BUCKETS:
        spent = _bucket_time(root, file_part, function) if root else 0.0
        if spent:
            print(f"{label:<64} {spent / requests * 1e3:10.2f} {spent / total:6.0%}")


def _skip_include(part: str) -> None:
    from django.template import loader_tags

    render = loader_tags.IncludeNode.render

    def render_unless_named(node, context):
        name = node.template.resolve(context) if hasattr(node.template, "resolve") else node.template
        return "" if part in str(name) else render(node, context)

    loader_tags.IncludeNode.render = render_unless_named


def _quiet_logs() -> None:
    """Keep writing every log line, as in production, but not onto this report."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - kept for the life of the process
    for name in ("policies", "bpc.requests", "django"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "kind", nargs="?", default="preview", choices=["create", "list", "preview", "healthz"]
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--change",
        default="name changed",
        choices=["name changed", "retention changed"],
        help="the preview's change of one field (default: the name, which leaves the forecast)",
    )
    parser.add_argument(
        "--part",
        choices=["calendar", "days"],
        help="the preview: profile the part of the changed forecast the page asks for instead",
    )
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--flat", action="store_true", help="list functions by their own time instead")
    parser.add_argument(
        "--skip-include",
        metavar="TEMPLATE",
        help="render {%% include %%} of templates whose name contains this as nothing: what it costs",
    )
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bpc-profile-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.setdefault("BENCH_TENANTS", str(max(options.requests // 5 + 10, 50)))
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks import load

    if options.postgres:
        server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
        if not server:
            sys.exit("profile: --postgres needs BENCH_POSTGRES_URL or TEST_POSTGRES_URL")
        database = load.ThrowawayPostgres(server)
        os.environ["DATABASE_URL"] = database.__enter__()
        atexit.register(database.__exit__)
    else:
        # Never DATABASE_URL: the seeding would fill a real database with bench tenants.
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'profile.sqlite3'}"

    import django

    django.setup()
    from django.core.management import call_command
    from pyinstrument import Profiler

    _quiet_logs()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seeded = load.seed(folder)

    from config.wsgi import application  # after collectstatic: WhiteNoise reads STATIC_ROOT once

    _quiet_logs()  # get_wsgi_application() configured logging again
    if options.skip_include:
        _skip_include(options.skip_include)

    creates = [line.split("\t") for line in (folder / "create.tsv").read_text().splitlines()]
    lists = [line.split("\t") for line in (folder / "list.tsv").read_text().splitlines()]
    preview_form = seeded["form"]
    preview_target = [seeded["preview_path"]]

    def environ_for(index: int) -> dict:
        if options.kind == "healthz":
            return _environ("GET", "/healthz", {})
        if options.kind == "list":
            project_id, token = lists[index % len(lists)]
            return _environ("GET", f"/v2/{project_id}/backuppolicy", {"X-Auth-Token": token})
        if options.kind == "create":
            project_id, token = creates[index % len(creates)]
            body = load.CREATE_BODY % ("profile", index)
            return _environ(
                "POST",
                f"/v2/{project_id}/backuppolicy",
                {"X-Auth-Token": token, "Content-Type": "application/json"},
                body.encode(),
            )
        return _environ(
            "POST",
            preview_target[0],
            {
                "Cookie": seeded["cookie"],
                "X-CSRFToken": seeded["csrf"],
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            urlencode(preview_form, doseq=True).encode(),
        )

    statuses: list[str] = []
    sizes: list[int] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def send(index: int) -> None:
        chunks = application(environ_for(index), start_response)
        sizes.append(len(b"".join(chunks)))
        if hasattr(chunks, "close"):
            chunks.close()

    if options.kind == "preview":
        # As the browser does after the first answer: one field changed, the shown forecast's key.
        chunks = application(environ_for(0), start_response)
        found = load.FORECAST_KEY.search(b"".join(chunks).decode())
        chunks.close()
        preview_form = {
            **preview_form,
            **load.PREVIEW_CHANGES[options.change][1],
            **({"forecast_shown": found[1]} if found else {}),
        }
        if options.part:
            preview_target[0] += f"/{options.part}"
    for index in range(10):  # warm up: imports, templates, the first connection
        send(options.requests + index)
    # First without the profiler, which slows deep call stacks (templates) more than flat ones.
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(options.requests):
        send(options.requests + 10 + index)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    statuses.clear()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for index in range(options.requests):
        send(index)
    session = profiler.stop()
    bad = [status for status in statuses if not status.startswith("200")]
    if bad:
        sys.exit(f"profile: {len(bad)} of {len(statuses)} answers were not 200, e.g. {bad[0]}")
    print(
        f"{options.kind}: {options.requests} requests, without the profiler {wall / options.requests * 1e3:.2f} ms "
        f"each ({cpu / options.requests * 1e3:.2f} ms CPU); under it {session.duration / options.requests * 1e3:.2f} "
        f"ms ({session.cpu_time / options.requests * 1e3:.2f} ms CPU)"
    )
    print(f"answer body: {sum(sizes[-options.requests :]) // options.requests} bytes on average")
    print()
    print_buckets(session, options.requests)
    print(profiler.output_text(unicode=True, color=False, show_all=options.all, flat=options.flat))
    if options.html:
        Path(options.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
