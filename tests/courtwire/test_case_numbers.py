"""Table tests of court case numbers (案号)."""

from __future__ import annotations

import pytest

from courtwire.case_numbers import (
    CASE_NUMBER_PATTERN,
    CHANGNING_COURT,
    FIRST_INSTANCE_CIVIL,
    PRE_LITIGATION_CONFIRMATION,
    PRE_LITIGATION_MEDIATION,
    CaseNumberError,
    CourtCaseNumber,
    parse_case_number,
    type_code_for,
)

# The checking pattern as the domain notes give it for
# 最高人民法院《关于人民法院案件案号的若干规定》(2015, amended 2018): (收案年度) +
# court code (a province character, optionally 2 or 4 digits; or 最高法) + type code (1 to 5
# characters) + serial without leading zeros + 号. Held here, written out once more by hand,
# so that a change to the code's pattern is a deliberate one.
DOCUMENTED_PATTERN = (
    r"^[(（](\d{4})[)）](最高法|[京津沪渝冀晋内辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川黔云藏陕甘青宁新军兵]"
    r"(?:\d{4}|\d{2})?)([\u4e00-\u9fa5]{1,5})([1-9]\d*)号$"
)

VALID = [
    ("(2026)沪0105民诉前调801号", CourtCaseNumber(2026, "沪0105", "民诉前调", 801)),
    ("(2026)沪0105诉前调确12号", CourtCaseNumber(2026, "沪0105", "诉前调确", 12)),
    ("(2026)沪0105民初123号", CourtCaseNumber(2026, "沪0105", "民初", 123)),
    ("（2026）沪0105民初123号", CourtCaseNumber(2026, "沪0105", "民初", 123)),
    ("（2025)沪01民终7号", CourtCaseNumber(2025, "沪01", "民终", 7)),
    ("(2024)沪民申1号", CourtCaseNumber(2024, "沪", "民申", 1)),
    ("(2023)最高法民再5号", CourtCaseNumber(2023, "最高法", "民再", 5)),
    ("(2026)京0105民初1号", CourtCaseNumber(2026, "京0105", "民初", 1)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_numbers_parse(text: str, expected: CourtCaseNumber) -> None:
    assert parse_case_number(text) == expected


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_round_trip_gives_the_ascii_form(text: str, expected: CourtCaseNumber) -> None:
    canonical = text.replace("（", "(").replace("）", ")")
    assert str(parse_case_number(text)) == canonical
    assert parse_case_number(str(expected)) == expected


def test_str_of_the_example() -> None:
    number = CourtCaseNumber(2026, CHANGNING_COURT, PRE_LITIGATION_MEDIATION, 801)
    assert str(number) == "(2026)沪0105民诉前调801号"


INVALID = [
    ("(2026)沪0105民初0号", "bad_serial"),
    ("(2026)沪0105民初0123号", "bad_serial"),
    ("(2026)沪0105民初号", "bad_serial"),
    ("(2026)苏A0105民初1号", "bad_type_code"),
    ("(2026)港0105民初1号", "bad_court_code"),
    ("(2026)0105民初1号", "bad_court_code"),
    ("(2026)沪010民初1号", "bad_type_code"),
    ("(26)沪0105民初1号", "bad_year"),
    ("(20261)沪0105民初1号", "bad_year"),
    ("2026沪0105民初1号", "bad_year"),
    ("[2026]沪0105民初1号", "bad_year"),
    ("(2026)沪0105民初1", "missing_hao"),
    ("(2026)沪0105民事诉前调解确1号", "bad_type_code"),
    ("(2026)沪0105mc1号", "bad_type_code"),
    (" (2026)沪0105民初1号", "bad_year"),
    ("(2026)沪0105民初1号 ", "missing_hao"),
    ("", "bad_year"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID, ids=[t or "empty" for t, _ in INVALID])
def test_invalid_numbers_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_case_number(text)
    assert isinstance(caught.value, CaseNumberError)
    assert caught.value.reason == reason


def test_year_below_1000_is_rejected_although_the_pattern_matches() -> None:
    # "\d{4}" matches "0999", but such a number would not survive a round trip.
    with pytest.raises(CaseNumberError) as caught:
        parse_case_number("(0999)沪0105民初1号")
    assert caught.value.reason == "bad_year"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((26, "沪0105", "民初", 1), "bad_year"),
        ((12026, "沪0105", "民初", 1), "bad_year"),
        ((2026, "沪0105x", "民初", 1), "bad_court_code"),
        ((2026, "上海0105", "民初", 1), "bad_court_code"),
        ((2026, "沪0105", "", 1), "bad_type_code"),
        ((2026, "沪0105", "民事诉前调解", 1), "bad_type_code"),
        ((2026, "沪0105", "民初", 0), "bad_serial"),
        ((2026, "沪0105", "民初", -3), "bad_serial"),
    ],
)
def test_constructor_checks_each_part(args: tuple[int, str, str, int], reason: str) -> None:
    with pytest.raises(CaseNumberError) as caught:
        CourtCaseNumber(*args)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("transfer", FIRST_INSTANCE_CIVIL),
        ("confirmation", PRE_LITIGATION_CONFIRMATION),
        ("pre_litigation", PRE_LITIGATION_MEDIATION),
    ],
)
def test_type_code_for(kind: str, code: str) -> None:
    assert type_code_for(kind) == code
    # Every type code we dock under makes a valid Changning number.
    number = CourtCaseNumber(2026, CHANGNING_COURT, code, 1)
    assert parse_case_number(str(number)) == number


def test_type_codes() -> None:
    assert (FIRST_INSTANCE_CIVIL, PRE_LITIGATION_CONFIRMATION, PRE_LITIGATION_MEDIATION) == (
        "民初",
        "诉前调确",
        "民诉前调",
    )
    assert CHANGNING_COURT == "沪0105"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown handoff kind"):
        type_code_for("appeal")


def test_pattern_is_the_documented_one() -> None:
    assert CASE_NUMBER_PATTERN.pattern == DOCUMENTED_PATTERN
