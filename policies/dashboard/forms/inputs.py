"""What a person types into a form's box, as the JSON value an API client would send."""

from __future__ import annotations

import re
from typing import Any

INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+|[+-]?[0-9]+\.[0-9]*")


def json_number(text: str) -> Any:
    """Turn a number box's text into the JSON value a client would send (None: left empty).

    Text that is no number is passed on as a string, so the core refuses it with the field's own
    code, exactly as it refuses ``"7"`` from an API client.
    """
    text = text.strip()
    if not text:
        return None
    if INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text
