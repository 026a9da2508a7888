"""The error envelope: every error answer under /v2/ is ``{"error": {"code", "message"}}``.

One DRF exception handler turns every exception of an API view into the envelope; a middleware
does the same for what happens outside DRF (an unknown /v2/ route is caught by a catch-all view,
so Django's HTML 404 page never answers there, whatever DEBUG says).
"""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.utils.encoding import escape_uri_path
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.outage import RETRY_AFTER_SECONDS, is_outage
from policies.domain.contract import codes

from .. import backups, services, volumes, webhooks
from .parsers import BodyTooLarge

logger = logging.getLogger("policies.api")

API_PREFIX = "/v2/"
# Every prefix the API answers under: the envelope, HTTPS only.
API_PREFIXES = (API_PREFIX, "/volume/")

# Codes of our own for the protocol errors (the contract leaves them to us; docs/api.md,
# "Conventions" and "Statuses and codes", lists them).
NOT_FOUND = "AutoBackup.0004"
METHOD_NOT_ALLOWED = "AutoBackup.0005"
NOT_ACCEPTABLE = "AutoBackup.0015"
UNSUPPORTED_MEDIA_TYPE = "AutoBackup.0007"
BODY_TOO_LARGE = "AutoBackup.0011"
BAD_REQUEST = "AutoBackup.0012"  # refused by Django before the API saw it (e.g. a bad Host header)
HTTPS_REQUIRED = "AutoBackup.0014"  # plain HTTP where the deployment redirects to HTTPS
SERVICE_UNAVAILABLE = "AutoBackup.0010"  # the database cannot be reached or written: try again later

SERVER_ERROR_MESSAGE = "the server failed to process the request; try again later"
SERVICE_UNAVAILABLE_MESSAGE = (
    f"the service cannot store or read data at the moment; nothing was changed; try again in "
    f"{RETRY_AFTER_SECONDS} seconds"
)


class ContractError(exceptions.APIException):
    """A request refused for one or more contract problems (400 unless told otherwise)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, problems, status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        self.problems = codes.sort_problems(problems)
        self.status_code = status_code
        super().__init__(self.problems[0].message)


# The most problems one answer lists in ``details``; past it, a last entry says how many more
# there were. A body of 10 000 bad start times would otherwise answer 1.5 MB.
MAX_DETAILS = 20


def envelope(code: str, message: str, problems=()) -> dict:
    body = {"code": code, "message": message}
    if problems:
        problems = list(problems)
        details = [problem.as_dict() for problem in problems[:MAX_DETAILS]]
        left_out = problems[MAX_DETAILS:]
        if left_out:
            details.append(
                {
                    "field": left_out[0].field,
                    "code": left_out[0].code,
                    "message": f"and {len(left_out)} more problem{'s' if len(left_out) > 1 else ''} "
                    f"not listed (at most {MAX_DETAILS} are); fix these first",
                }
            )
        body["details"] = details
    return {"error": body}


_DRF_CODES = {
    exceptions.NotFound: NOT_FOUND,
    exceptions.MethodNotAllowed: METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: UNSUPPORTED_MEDIA_TYPE,
    BodyTooLarge: BODY_TOO_LARGE,
    exceptions.NotAuthenticated: codes.NO_TOKEN,
    exceptions.AuthenticationFailed: codes.BAD_TOKEN,
    exceptions.PermissionDenied: codes.FORBIDDEN_PROJECT,
    exceptions.ParseError: codes.BAD_JSON,
}

# The one place where a refusal of the services gets its HTTP status; any other is a 400
# (PolicyQuotaExceeded, TagLimitExceeded).
_SERVICE_STATUS = {
    services.PolicyNameTaken: HTTPStatus.CONFLICT,
    services.PolicyNotFound: HTTPStatus.NOT_FOUND,
    services.TagNotFound: HTTPStatus.NOT_FOUND,
    volumes.RunInProgress: HTTPStatus.CONFLICT,
    backups.BackupNotFound: HTTPStatus.NOT_FOUND,
    backups.VolumeNotFound: HTTPStatus.NOT_FOUND,
    backups.BackupBusy: HTTPStatus.CONFLICT,
    backups.VolumeBusy: HTTPStatus.CONFLICT,
    backups.BackupStorageFailed: HTTPStatus.SERVICE_UNAVAILABLE,
    webhooks.WebhookNotFound: HTTPStatus.NOT_FOUND,
    webhooks.RecipientTaken: HTTPStatus.CONFLICT,
}


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception of an API view becomes the envelope."""
    headers = {}
    if isinstance(exc, services.ServiceError):
        problems = getattr(exc, "problems", (exc.problem,))  # PolicyInvalid carries them all
        exc = ContractError(list(problems), _SERVICE_STATUS.get(type(exc), HTTPStatus.BAD_REQUEST))
    if isinstance(exc, ContractError):
        first = exc.problems[0]
        return Response(envelope(first.code, first.message, exc.problems), status=exc.status_code)
    problem = getattr(exc, "problem", None)  # a body the parser refused
    if problem is not None:
        return Response(envelope(problem.code, problem.message), status=exc.status_code)
    if isinstance(exc, exceptions.APIException):
        code = getattr(exc, "contract_code", None) or next(
            (code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)), BAD_REQUEST
        )
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        return Response(
            envelope(code, _message(exc, context.get("request"))), status=exc.status_code, headers=headers
        )
    request = context.get("request")
    if is_outage(exc):
        logger.error("database unavailable in %s", _logged_path(request), exc_info=exc)
        return outage_response()
    logger.exception("unhandled error in %s", _logged_path(request), exc_info=exc)
    return Response(envelope(codes.SERVER_ERROR, SERVER_ERROR_MESSAGE), status=500)


def outage_response() -> JsonResponse:
    """The API's answer when the database cannot be reached or written: 503, with Retry-After."""
    return JsonResponse(
        envelope(SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE),
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _logged_path(request) -> str:
    """The path as it may go into a log line: re-escaped, so that a decoded %0d%0a cannot forge one."""
    path = getattr(request, "path", None)
    return escape_uri_path(path) if path is not None else "an API view"


def _message(exc: exceptions.APIException, request=None) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        detail = "; ".join(str(item) for item in (detail.values() if isinstance(detail, dict) else detail))
    message = str(detail).strip()
    if isinstance(exc, exceptions.NotAcceptable):
        message = (
            "this API answers only application/json; send 'Accept: application/json' or leave Accept out"
        )
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        media_type = request.META.get("CONTENT_TYPE", "") if request is not None else ""
        sent = f" (the request said {media_type!r})" if media_type else " (the request named no Content-Type)"
        message = f"the body must be JSON{sent}; send it with 'Content-Type: application/json'"
    return message or HTTPStatus(exc.status_code).phrase


_STATUS_CODES = {
    HTTPStatus.NOT_FOUND: NOT_FOUND,
    HTTPStatus.METHOD_NOT_ALLOWED: METHOD_NOT_ALLOWED,
    HTTPStatus.NOT_ACCEPTABLE: NOT_ACCEPTABLE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: BODY_TOO_LARGE,
}


class ApiErrorMiddleware:
    """Under /v2/, turn any error answer that is not already the envelope into the envelope.

    The API views answer errors through :func:`exception_handler`; this catches the rest, which
    Django would answer with an HTML page: a bad Host header (400), a body over the size limit,
    an exception outside DRF (500), whether DEBUG is on or off.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIXES) and settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return self._https_required(request)
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIXES)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self._envelope_for(response.status_code)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIXES):
            return None
        if is_outage(exception):
            logger.error("database unavailable in %s", _logged_path(request), exc_info=exception)
            return outage_response()
        logger.exception("unhandled error in %s", _logged_path(request), exc_info=exception)
        return self._envelope_for(500)

    @staticmethod
    def _https_required(request) -> JsonResponse:
        try:
            where = f"https://{request.get_host()}{request.path}"
        except DisallowedHost:
            where = "the same path over https"
        message = (
            f"this API is served over HTTPS only; send the request to {where} "
            "(there is no redirect: a redirected request would lose its body)"
        )
        return JsonResponse(envelope(HTTPS_REQUIRED, message), status=HTTPStatus.FORBIDDEN)

    @staticmethod
    def _envelope_for(status_code: int) -> JsonResponse:
        if status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            return outage_response()
        if status_code >= 500:
            return JsonResponse(envelope(codes.SERVER_ERROR, SERVER_ERROR_MESSAGE), status=500)
        code = _STATUS_CODES.get(status_code, BAD_REQUEST)
        message = f"the request was refused: {HTTPStatus(status_code).phrase}"
        if status_code == HTTPStatus.BAD_REQUEST:
            message += " (for example a Host header this server does not serve, or a malformed request)"
        return JsonResponse(envelope(code, message), status=status_code)
