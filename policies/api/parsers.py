"""The one JSON parser of the API: strict JSON, with the contract's codes for bad bodies."""

from rest_framework import exceptions, parsers

from .. import schedule


class ContractBodyError(exceptions.ParseError):
    def __init__(self, problem: schedule.Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class ContractJSONParser(parsers.BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return schedule.decode_body(stream.read())
        except schedule.BodyError as exc:
            raise ContractBodyError(exc.problem) from None
