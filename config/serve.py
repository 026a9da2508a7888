"""``make serve``: nginx in front of gunicorn, started and stopped together.

``python -m config.serve`` fills ``config/nginx.conf.template`` into a run folder, starts gunicorn
(``config/gunicorn.conf.py``) on a loopback port (``GUNICORN_PORT``, default a free one), then nginx on ``HOST:PORT``, and
stops both when either stops or when it is told to (SIGTERM, SIGINT). nginx reads every request
whole before gunicorn sees it, so slow clients cannot hold gunicorn's workers
(docs/operations.md, "Slow clients").

Read from environment variables (besides gunicorn's, see ``config/gunicorn.conf.py``):

- ``HOST``, ``PORT``: where nginx listens (default ``127.0.0.1:8000``);
- ``SERVE_PROXY``: ``nginx`` (default) or ``none``, gunicorn alone on ``HOST:PORT``, for a
  deployment whose own proxy does what ``config/nginx.conf.template`` does;
- ``SERVE_RUN_DIR``: the run folder (default: a new temporary folder, removed at the end);
- ``NGINX``: the nginx program (default ``nginx`` on the ``PATH``, then ``/usr/sbin/nginx``);
  ``NGINX_WORKERS``: its processes (default ``auto``, one per CPU);
- ``FORWARDED_PROTO``: what nginx tells Django the scheme was (default ``$scheme``; set
  ``https`` when a TLS terminator in front of nginx forwards plain HTTP to it).
"""

import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx_program() -> str:
    named = os.environ.get("NGINX")
    if named:
        return named
    return shutil.which("nginx") or "/usr/sbin/nginx"


def render_nginx_conf(*, run_dir: Path, listen: str, upstream: str) -> str:
    """Return the nginx configuration for this run; the template's nginx variables stay as they are."""
    fields = {
        "RUN_DIR": str(run_dir),
        "LISTEN": listen,
        "UPSTREAM": upstream,
        "NGINX_WORKERS": os.environ.get("NGINX_WORKERS", "auto"),
        "FORWARDED_PROTO": os.environ.get("FORWARDED_PROTO", "$scheme"),
    }
    # safe_substitute: nginx's own $variables are not ours to fill.
    text = string.Template(TEMPLATE.read_text()).safe_substitute(fields)
    for name in fields:
        if "${" + name + "}" in text:  # pragma: no cover - a typo in the template
            raise SystemExit(f"serve: {name} left unfilled in {TEMPLATE}")
    return text


def _listen_address() -> str:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    return f"[{host.strip('[]')}]:{port}" if ":" in host.strip("[]") else f"{host}:{port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    gunicorn = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c",
        "config/gunicorn.conf.py",
        "config.wsgi",
    ]
    proxy = os.environ.get("SERVE_PROXY", "nginx").strip().lower()
    if proxy == "none":
        os.chdir(ROOT)
        os.execv(gunicorn[0], gunicorn)
    if proxy != "nginx":
        raise SystemExit(f"SERVE_PROXY={proxy!r}: use nginx or none")
    if shutil.which(nginx_program()) is None:
        raise SystemExit(
            "serve: nginx is not installed (Debian: apt-get install nginx-light or nginx); "
            "or run gunicorn alone behind your own proxy with SERVE_PROXY=none (docs/operations.md)"
        )

    own_dir = not os.environ.get("SERVE_RUN_DIR")
    run_dir = Path(os.environ.get("SERVE_RUN_DIR") or tempfile.mkdtemp(prefix="bpc-serve-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx's workers switch to an unprivileged user, which must reach its folders.
    run_dir.chmod(0o755)
    upstream = f"127.0.0.1:{os.environ.get('GUNICORN_PORT') or _free_port()}"
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx_conf(run_dir=run_dir, listen=_listen_address(), upstream=upstream))

    env = {**os.environ, "BIND": upstream}
    # Every request now comes from nginx: the sign-in lockout must read the client's address from
    # the X-Forwarded-For that nginx overwrites (never appends to), not from the socket.
    env.setdefault("AXES_IPWARE_META_PRECEDENCE_ORDER", "HTTP_X_FORWARDED_FOR,REMOTE_ADDR")
    app = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    front = None
    stopping = False

    def on_signal(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # gunicorn loads the app in its master first: wait for its port before opening the door.
        while not _answers(upstream):
            if app.poll() is not None:
                return app.returncode or 1
            if stopping:
                return 0
            time.sleep(0.1)
        front = subprocess.Popen([nginx_program(), "-e", "stderr", "-p", str(run_dir), "-c", str(conf)])
        while not stopping and app.poll() is None and front.poll() is None:
            time.sleep(0.2)
        if stopping:
            return 0
        return 1  # one of them stopped on its own: stop the other, and say so
    finally:
        if front is not None:
            _stop(front, signal.SIGQUIT)  # nginx's graceful stop: answers in flight are finished
        _stop(app)
        if own_dir:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
