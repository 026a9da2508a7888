"""One log line per request, tied to a request id that the client and the logs share."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.utils.encoding import escape_uri_path

logger = logging.getLogger("bpc.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from a proxy or a client is kept only when it is short and plain: it is written into log
# lines and echoed in a header, so no spaces, quotes or line breaks may come through.
_SANE_REQUEST_ID = re.compile(r"\A[A-Za-z0-9._:+=@/-]{1,128}\Z")

_current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_from(header: str | None) -> str:
    """Return the client's id when it is sane, else a new one."""
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Give every log record the id of the request being served ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id.get()
        return True


class RequestLogMiddleware:
    """Log method, path, status, duration and request id of every request; echo the id.

    It is the outermost middleware, so the status logged is the one sent: after the API's error
    envelope, a redirect to HTTPS, a lockout page or Django's 500 page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                # Re-escaped: a decoded path could hold a line break and forge a log line.
                escape_uri_path(request.path),
                response.status_code,
                (time.perf_counter() - started) * 1000,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "status_code": response.status_code,
                },
            )
            return response
        finally:
            _current_request_id.reset(token)
