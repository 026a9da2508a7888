"""The one JSON parser of the API: strict JSON, with the contract's codes for bad bodies."""

from django.conf import settings
from rest_framework import exceptions, parsers, status

from policies.domain.contract import codes, decode


class ContractBodyError(exceptions.ParseError):
    def __init__(self, problem: codes.Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class ContractJSONParser(parsers.BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        # DRF reads the stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies here.
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes; a backup policy is far smaller")
        try:
            return decode.decode_body(raw)
        except decode.BodyError as exc:
            raise ContractBodyError(exc.problem) from None
