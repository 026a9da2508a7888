"""Request bodies: strict JSON decoding with the contract's codes."""

from __future__ import annotations

import json
from typing import Any

from policies.domain.contract.codes import BAD_JSON, BODY_EMPTY, REQUEST, Problem
from policies.domain.contract.values import show


class BodyError(ValueError):
    """The raw request body is not a JSON document the contract can read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode_body(raw: bytes | str) -> Any:
    """Decode a request body as strict JSON; raise :class:`BodyError` with the contract's code.

    ``NaN`` and ``Infinity``, which Python's json module accepts by default, are refused: they are
    not JSON and no other client could read them back.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError(
                Problem("body", BAD_JSON, "the body is not valid UTF-8; send JSON encoded as UTF-8", REQUEST)
            ) from None
    if not raw.strip():
        raise BodyError(Problem("body", BODY_EMPTY, "the body is empty; send a JSON object", REQUEST))
    try:
        return json.loads(
            raw, parse_constant=_refuse_constant, parse_int=_parse_int, object_pairs_hook=_unique_keys
        )
    except DuplicateKey as exc:
        raise BodyError(
            Problem(
                "body",
                BAD_JSON,
                f"the body gives the key {show(exc.key)} twice in one object; send each field once",
                REQUEST,
            )
        ) from None
    except (ValueError, RecursionError) as exc:
        raise BodyError(
            Problem("body", BAD_JSON, f"the body is not valid JSON ({_json_reason(exc)})", REQUEST)
        ) from None


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers disagree on which of two equal keys wins; a client that sends both has a bug
    # we would otherwise hide by silently dropping one of its values.
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise DuplicateKey(key)
        body[key] = value
    return body


# CPython refuses to turn more than 4300 digits into an int (a denial-of-service guard). No field
# takes such a number, so it becomes a float (infinite beyond 1e308): refused as out of range.
_MAX_INT_DIGITS = 4000


def _parse_int(text: str) -> int | float:
    return int(text) if len(text) <= _MAX_INT_DIGITS else float(text)


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


# --- Time zones and hours ------------------------------------------------------------------
