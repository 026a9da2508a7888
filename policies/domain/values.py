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
