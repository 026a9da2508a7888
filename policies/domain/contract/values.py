"""How a JSON value is named in a message: its kind, a short quote, an unusual character."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def is_int(value: Any) -> bool:
    # bool is an int in Python, never in the contract.
    return isinstance(value, int) and not isinstance(value, bool)


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_int(value):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def show(value: Any, limit: int = 40) -> str:
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    except ValueError:  # an int too long for CPython to print
        return "a very long number"
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CHAR_WORDS = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


def char_name(ch: str) -> str:
    """Name one character so a person can find it: look-alikes and invisible ones by code point."""
    if ch in _CHAR_WORDS:
        return _CHAR_WORDS[ch]
    if ch.isascii() and ch.isprintable():
        return repr(ch)
    shown = f"{ch!r} " if ch.isprintable() else ""
    return f"{shown}(U+{ord(ch):04X})"


FIELD_NAME_SHOWN_MAX = 64


def field_name_shown(name: Any) -> str:
    """Return a client's field name as it may be echoed: invisible characters escaped, long ones cut.

    A lone surrogate (``"\\ud800"`` in JSON) is valid JSON text but cannot be encoded in UTF-8,
    so echoing it raw breaks the answer; a control character could forge a line where the
    message is logged; a 60 KB name would make the answer as large.
    """
    text = str(name)
    if len(text) > FIELD_NAME_SHOWN_MAX:
        text = text[: FIELD_NAME_SHOWN_MAX - 1] + "…"
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
