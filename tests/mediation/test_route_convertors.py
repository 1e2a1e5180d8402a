"""The bounded path convertors (mediation/routes/__init__.py), as a table."""

from __future__ import annotations

import re

import pytest

from mediation.routes import CASE_NUMBER_MAX, MAX_ID, CaseNumberConvertor, bounded_int_regex

ID = re.compile(f"^{bounded_int_regex(MAX_ID)}$")


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("0", True),
        ("1", True),
        ("007", True),
        ("999999999", True),
        ("1000000000", True),
        ("2147483639", True),
        ("2147483647", True),
        ("2147483648", False),
        ("2147483650", False),
        ("2200000000", False),
        ("9999999999", False),
        ("10000000000", False),
        (str(2**63), False),
        ("9" * 5000, False),
        ("", False),
        ("-1", False),
        ("1a", False),
        ("١٢", False),  # Arabic-Indic digits: int() reads them, the route must not
    ],
)
def test_the_id_convertor_takes_exactly_the_ids_that_fit_the_columns(
    text: str, matches: bool
) -> None:
    assert bool(ID.match(text)) is matches


@pytest.mark.parametrize("maximum", [0, 1, 9, 10, 99, 100, 101, 2024, 65535, 2**31 - 1])
def test_bounded_int_regex_agrees_with_arithmetic(maximum: int) -> None:
    pattern = re.compile(f"^{bounded_int_regex(maximum)}$")
    for n in [*range(0, 300), *range(maximum - 50, maximum + 50), maximum * 10, maximum + 1]:
        if n >= 0:
            assert bool(pattern.match(str(n))) is (n <= maximum), (maximum, n)


def test_the_case_number_convertor_is_bounded_by_the_column() -> None:
    pattern = re.compile(f"^{CaseNumberConvertor.regex}$")
    assert pattern.match("CNM-2026-I-00012")
    assert pattern.match("x" * CASE_NUMBER_MAX)
    assert not pattern.match("x" * (CASE_NUMBER_MAX + 1))
    assert not pattern.match("")
    assert not pattern.match("a/b")
    assert not pattern.match("CNM\x002026")
    assert not pattern.match("CNM\x1b2026")
