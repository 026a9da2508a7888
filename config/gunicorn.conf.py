"""gunicorn settings for ``make serve``: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Read from environment variables:

- ``BIND`` (e.g. ``0.0.0.0:8000`` or ``unix:/run/bpc.sock``), else ``HOST`` and ``PORT``
  (default ``127.0.0.1:8000``);
- ``WORKERS``: processes (default 2 x CPUs + 1); ``THREADS``: threads per process (default 1;
  more than 1 uses gunicorn's threaded worker);
- ``TIMEOUT``: seconds a worker may be silent before it is restarted (default 30);
- ``FORWARDED_ALLOW_IPS``: read by gunicorn itself: the proxies trusted to say the request came
  over HTTPS (default 127.0.0.1,::1).

Any other gunicorn option can be given in ``GUNICORN_CMD_ARGS``.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None


bind = [os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
workers = _int("WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("THREADS", 1)
timeout = _int("TIMEOUT", 30)
graceful_timeout = 30

# Import the project once in the master: a refused setting (a missing or weak secret key) stops
# the start with one clear message instead of every worker failing to boot in turn.
preload_app = True

# The application writes one line per request with its request id (config/middleware.py);
# gunicorn's own access log would repeat each of them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Above the limits of the nginx front (config/nginx.conf.template: 4 KiB per line or header, 16
# KiB in all): what nginx lets through, gunicorn accepts, so a refusal of an over-long request is
# always nginx's, in the API's JSON under /v2/, never gunicorn's own HTML page.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768

# Several instances may run on one machine: gunicorn's control socket has one fixed default
# path per user, which a second instance would take over.
control_socket_disable = True
