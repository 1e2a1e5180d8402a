"""Which strings may be stored: one pure check shared by every door (frames, API, forms).

Text that comes in must be Unicode scalar text that every store and every encoder accepts.
Python strings can hold lone UTF-16 surrogates (JSON "\\ud800" decodes to one), which no
UTF-8 encoder accepts, and NUL, which PostgreSQL text and jsonb refuse. The rule is XML 1.0's
`Char` production (tab, line feed, carriage return, and everything from U+0020 up except
surrogates and U+FFFE/U+FFFF): what is stored may end up in a court package (ECF XML), a PDF
or a transcript, and this is the set all of them carry.

It lives in `realtime`, the package every other one may import (see docs/architecture.md),
so that the room's frames, the partner API and the forms share one definition.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Everything outside XML 1.0's Char production.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
# Longer integers than any id, amount or count in a request; Python refuses 4,300 digits
# anyway, and reading a long one is quadratic.
MAX_INT_DIGITS = 40


class JsonRefused(ValueError):
    """Input that is not acceptable JSON; `code` is stable (translated by the shell)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonRefused("number_too_large")
    return int(digits)


def _constant(name: str) -> Any:
    raise JsonRefused("invalid_json")  # NaN and Infinity are not JSON


def read_json(raw: str | bytes, max_depth: int) -> Any:
    """The one JSON reader for input (room frames, the partner API).

    Every failure is a JsonRefused: "invalid_json" (not JSON, not UTF-8, NaN),
    "number_too_large", "json_too_deep" (more than `max_depth` levels), "bad_text" (a
    string that may not be stored, see `is_storable`)."""
    try:
        value = json.loads(raw, parse_int=_int, parse_constant=_constant)
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused("json_too_deep") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise JsonRefused("invalid_json") from None
    bad = first_bad_string(value, max_depth)
    if bad == "":
        raise JsonRefused("json_too_deep")
    if bad is not None:
        raise JsonRefused("bad_text")
    return value


def is_storable(value: str) -> bool:
    """True if `value` may be stored and serialised anywhere (see the module's rule)."""
    return _NOT_TEXT.search(value) is None


def first_bad_string(value: Any, max_depth: int = 64) -> str | None:
    """The first string (key or value) in a decoded JSON value that may not be stored.

    Returns None when every string is fine, and "" when the value is nested deeper than
    `max_depth` (an empty string itself is always storable)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return ""
        if isinstance(item, str):
            if not is_storable(item):
                return item
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and not is_storable(key):
                    return key
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return None


def repaired(value: str) -> str:
    """`value` with every character that may not be stored replaced by U+FFFD.

    For data stored before the doors checked, and for encoders that must never fail."""
    return _NOT_TEXT.sub(REPLACEMENT, value)


def repaired_json(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) `repaired`."""
    if isinstance(value, str):
        return repaired(value)
    if isinstance(value, dict):
        return {repaired_json(k): repaired_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [repaired_json(v) for v in value]
    return value


def json_text(value: Any) -> str:
    """JSON for the wire, in UTF-8 rather than \\u escapes, that always encodes.

    Stored data should already be clean (every door checks it, and `mediation repair-text`
    repairs older rows), but one bad row must never stop a room or a page from being sent:
    on the rare failure the value is repaired and encoded again."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(repaired_json(value), ensure_ascii=False)
    return text
