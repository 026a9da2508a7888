"""Views of the site itself, outside the product: the health check and the sign-in lockout page."""

import logging
import math
import sys
from http import HTTPStatus

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config.outage import RETRY_AFTER_SECONDS, is_outage
from policies.api.errors import API_PREFIXES, SERVER_ERROR_MESSAGE, envelope, outage_response
from policies.domain.contract.codes import SERVER_ERROR
from policies.models import HealthCheck
from policies.runs.heartbeat import scheduler_state

logger = logging.getLogger("policies.health")


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when this instance can serve, 503 when its database cannot be read or written.

    ``scheduler`` says whether a scheduler ticked lately (``ok``) or not (``stale``); a stale
    scheduler is no reason to take the web tier out of service, so it answers 200 either way.
    """
    answer = _health()
    if request.method == "HEAD":
        # A probe's HEAD gets the status alone: gunicorn would drop the body and log a warning.
        answer.content = b""
    return answer


def _health() -> JsonResponse:
    """Check that the database answers, then that it takes a write; name the first check that fails.

    The write rewrites the one row of ``HealthCheck``: a read-only file, a full disk or a
    read-only PostgreSQL fail it, and the database does not grow however often it is probed.
    """
    checks = {"database": "unavailable", "database_write": "not checked"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
        checks["database_write"] = "unavailable"
        with transaction.atomic():
            if not HealthCheck.objects.filter(pk=1).update(checked_at=timezone.now()):
                HealthCheck.objects.get_or_create(pk=1, defaults={"checked_at": timezone.now()})
        checks["database_write"] = "ok"
        checks["scheduler"] = scheduler_state().word
    except DatabaseError:
        # The cause goes to the log, not to an unauthenticated caller.
        failed = next(name for name, state in checks.items() if state == "unavailable")
        logger.exception("health check: %s failed", failed)
        return JsonResponse(
            {"status": "unavailable", "failed": failed, **checks},
            status=HTTPStatus.SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JsonResponse({"status": "ok", **checks})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage of the database is 503 with Retry-After, anything else 500.

    Django calls it inside the ``except`` of the failed request, so the exception is at hand. Under
    /v2/ the answer is the API's envelope; elsewhere an HTML page that needs no database.
    """
    exc = sys.exc_info()[1]
    outage = is_outage(exc)
    if request.path.startswith(API_PREFIXES):
        if outage:
            return outage_response()
        return JsonResponse(
            envelope(SERVER_ERROR, SERVER_ERROR_MESSAGE), status=HTTPStatus.INTERNAL_SERVER_ERROR
        )
    if outage:
        logger.error("database unavailable in %s", escape_uri_path(request.path), exc_info=exc)
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        return HttpResponse(
            page, status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    return defaults.server_error(request)


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials=None) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: say why sign-in is refused and when to try again."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    # Each refused attempt during a lockout restarts the wait (axes' default), so it ends one
    # cool-off after this one.
    retry_at = timezone.now() + cool_off if cool_off else None
    context = {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
        "retry_at": retry_at,
    }
    answer = render(request, "registration/locked_out.html", context, status=429)
    if cool_off:
        answer["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return answer
