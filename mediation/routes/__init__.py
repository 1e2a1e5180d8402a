"""Thin routes: parse the request, call one action, render or redirect.

Path parameters use two bounded convertors, registered here so every route module sees
them: `{x:id}` is a row id (0 to 2**31 - 1, the range of the id columns) and `{x:case}` a
case number (at most the column's 32 characters, no control characters). A path outside
them matches no route, so it gets the ordinary 404 page instead of a database error (the
ORM refuses a string longer than its column, PostgreSQL an integer past its column or NUL,
SQLite an integer past 2**63).
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, IntegerConvertor, register_url_convertor

MAX_ID = 2**31 - 1
CASE_NUMBER_MAX = 32  # cases.models.Case.number


def bounded_int_regex(maximum: int) -> str:
    """A regex for the decimal integers 0..maximum (leading zeros allowed), digit by digit:
    fewer digits than the maximum, or a prefix of it followed by a smaller digit."""
    text = str(maximum)
    options = [f"[0-9]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - i - 1
            options.append(f"{text[:i]}[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(text)
    return "0*(?:" + "|".join(options) + ")"


class IdConvertor(IntegerConvertor):
    regex = bounded_int_regex(MAX_ID)


# No control characters either: PostgreSQL refuses NUL in a query ("%00" in a path).
_PATH_TEXT = "[^/\x00-\x1f\x7f]"


class CaseNumberConvertor(Convertor[str]):
    regex = f"{_PATH_TEXT}{{1,{CASE_NUMBER_MAX}}}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


_ID = re.compile(IdConvertor.regex)


def parse_id(text: str) -> int:
    """A form's id or count, in the same bounds as `{x:id}`; ValueError otherwise (where
    int() would pass a 5,000-digit number, or 2**63, on to the database)."""
    if not _ID.fullmatch(text):
        raise ValueError(text)
    return int(text)


register_url_convertor("id", IdConvertor())
register_url_convertor("case", CaseNumberConvertor())
