"""The one check of which strings may be stored (realtime.text), as a table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from realtime.text import (
    JsonRefused,
    first_bad_string,
    is_storable,
    json_text,
    read_json,
    repaired,
    repaired_json,
)

STORABLE = {
    "empty": "",
    "Chinese": "长宁区人民调解委员会",
    "tab, line feed, carriage return": "a\tb\nc\r\n",
    "emoji (a surrogate pair in UTF-16, one scalar here)": "😀",
    "the replacement character": "\ufffd",
    "right-to-left override (printable, shown safely by escaping)": "\u202e",
    "C1 control (XML 1.0 allows it)": "\x85",
    "last scalar below the surrogates": "\ud7ff",
    "first scalar above the surrogates": "\ue000",
    "U+FFFD": "\ufffd",
    "last plane": "\U0010ffff",
}
NOT_STORABLE = {
    "lone high surrogate": "a\ud800b",
    "lone low surrogate": "\udfff",
    "reversed pair": "\ude00\ud83d",
    "NUL": "a\x00b",
    "bell": "\x07",
    "escape": "\x1b[31m",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "unit separator": "\x1f",
    "U+FFFE": "\ufffe",
    "U+FFFF": "\uffff",
}


@pytest.mark.parametrize("name", list(STORABLE))
def test_storable(name: str) -> None:
    value = STORABLE[name]
    assert is_storable(value)
    assert repaired(value) == value
    value.encode("utf-8")


@pytest.mark.parametrize("name", list(NOT_STORABLE))
def test_not_storable_and_repaired(name: str) -> None:
    value = NOT_STORABLE[name]
    assert not is_storable(value)
    fixed = repaired(value)
    assert is_storable(fixed)
    assert "\ufffd" in fixed
    assert len(fixed) == len(value)  # one replacement per bad character
    fixed.encode("utf-8")


def test_the_first_bad_string_is_found_anywhere_in_json() -> None:
    assert first_bad_string({"a": ["ok", {"b": "fine"}]}) is None
    assert first_bad_string({"a": ["ok", {"b": "x\x00"}]}) == "x\x00"
    assert first_bad_string({"\ud800": 1}) == "\ud800"
    assert first_bad_string([[[["deep"]]]], max_depth=2) == ""  # too deep
    assert first_bad_string([[[["deep"]]]], max_depth=4) is None


def test_repaired_json_repairs_keys_and_values() -> None:
    assert repaired_json({"a\x00": ["\ud800", 1, None]}) == {"a\ufffd": ["\ufffd", 1, None]}


def test_json_text_never_fails_and_keeps_chinese_as_utf8() -> None:
    assert json_text({"t": "长宁"}) == '{"t": "长宁"}'
    sent = json_text({"t": "坏\ud800字"})
    sent.encode("utf-8")
    assert json.loads(sent) == {"t": "坏\ufffd字"}


READ: dict[str, tuple[str | bytes, int, Any]] = {
    "an object": ('{"a": [1, "x"]}', 3, {"a": [1, "x"]}),
    "bytes": (b'{"a": 1}', 3, {"a": 1}),
    "a 40-digit integer": ("[" + "9" * 40 + "]", 3, [int("9" * 40)]),
    "a negative 40-digit integer": ("[-" + "9" * 40 + "]", 3, [-int("9" * 40)]),
    "a lone surrogate": ('{"t": "\\ud800"}', 3, "bad_text"),
    "NUL": ('{"t": "\\u0000"}', 3, "bad_text"),
    "a bad key": ('{"\\u001b": 1}', 3, "bad_text"),
    "a 41-digit integer": ("[" + "9" * 41 + "]", 3, "number_too_large"),
    "a 5,000-digit integer": ("[" + "9" * 5000 + "]", 3, "number_too_large"),
    "NaN": ("[NaN]", 3, "invalid_json"),
    "Infinity": ("[Infinity]", 3, "invalid_json"),
    "not JSON": ("{", 3, "invalid_json"),
    "not UTF-8": (b"\xff\xfe", 3, "invalid_json"),
    "deeper than allowed": ("[[[[1]]]]", 3, "json_too_deep"),
    "100,000 deep": ("[" * 100_000 + "]" * 100_000, 3, "json_too_deep"),
}


@pytest.mark.parametrize("name", list(READ))
def test_read_json(name: str) -> None:
    raw, depth, expected = READ[name]
    if isinstance(expected, str) and re.fullmatch(r"[a-z_]+", expected):
        with pytest.raises(JsonRefused) as refused:
            read_json(raw, depth)
        assert refused.value.code == expected
    else:
        assert read_json(raw, depth) == expected
