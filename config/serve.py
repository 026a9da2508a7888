"""The proxy of ``make serve`` (``Procfile.serve``): nginx in front of gunicorn.

``python -m config.serve`` fills ``config/nginx.conf.template`` into a run folder, waits until
gunicorn answers at ``BIND`` (a loopback address), then becomes nginx on ``HOST:PORT``. honcho
starts it beside gunicorn and stops both when either stops. nginx reads every request whole
before gunicorn sees it, so slow clients cannot hold gunicorn's workers (docs/operations.md).

Read from environment variables (besides gunicorn's, see ``config/gunicorn.conf.py``):

- ``HOST``, ``PORT``: where nginx listens; ``BIND``: gunicorn's ``127.0.0.1:PORT``;
- ``SERVE_RUN_DIR``: the run folder (default ``var/serve``);
- ``NGINX``: the nginx program (default ``nginx`` on the ``PATH``, then ``/usr/sbin/nginx``);
  ``NGINX_WORKERS``: its processes (default ``auto``, one per CPU);
- ``FORWARDED_PROTO``: what nginx tells Django the scheme was (default ``$scheme``; set
  ``https`` when a TLS terminator in front of nginx forwards plain HTTP to it).
"""

import os
import shutil
import socket
import string
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


def _answers(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    """Fill the nginx configuration, wait for gunicorn at BIND, then become nginx."""
    if shutil.which(nginx_program()) is None:
        raise SystemExit(
            "serve: nginx is not installed (Debian: apt-get install nginx-light or nginx); "
            "or run gunicorn alone behind your own proxy with SERVE_PROXY=none (docs/operations.md)"
        )
    upstream = os.environ.get("BIND", "")
    if not upstream.startswith("127.0.0.1:"):
        raise SystemExit(f"serve: BIND={upstream!r}: gunicorn behind nginx listens on 127.0.0.1:PORT")
    run_dir = Path(os.environ.get("SERVE_RUN_DIR") or ROOT / "var" / "serve")
    run_dir.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx's workers switch to an unprivileged user, which must reach its folders.
    run_dir.chmod(0o755)
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx_conf(run_dir=run_dir, listen=_listen_address(), upstream=upstream))
    # gunicorn loads the app in its master first: the door opens once it answers, so the first
    # visitors get the app rather than nginx's 503.
    while not _answers(upstream):
        time.sleep(0.1)
    program = nginx_program()
    os.execvp(program, [program, "-e", "stderr", "-p", str(run_dir), "-c", str(conf)])


if __name__ == "__main__":
    main()
