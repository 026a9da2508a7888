"""Views of the site itself, outside the product: the health check and the sign-in lockout page."""

import logging
import math

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

logger = logging.getLogger("policies.health")


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when this instance can serve, 503 when its database cannot be reached."""
    answer = _health()
    if request.method == "HEAD":
        # A probe's HEAD gets the status alone: gunicorn would drop the body and log a warning.
        answer.content = b""
    return answer


def _health() -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # The cause goes to the log, not to an unauthenticated caller.
        logger.exception("health check: the database did not answer")
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


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
