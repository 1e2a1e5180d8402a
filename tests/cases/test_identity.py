from __future__ import annotations

from datetime import date

import pytest

from cases.identity import (
    is_valid_mainland_mobile,
    is_valid_resident_id,
    is_valid_uscc,
    mask_email,
    mask_mobile,
    mask_name,
    mask_resident_id,
    mask_uscc,
    normalise_mobile,
    normalise_resident_id,
    normalise_uscc,
    resident_id_check_char,
    uscc_check_char,
)

# Fixed, so the "not in the future" rule does not drift with the calendar.
TODAY = date(2026, 11, 27)


def rid(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


# Check characters worked out by hand from the GB 11643-1999 weights, independently of the code.
@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        pytest.param("11010519491231002", "X", id="standard-example-x"),
        pytest.param("44052418800101001", "4", id="digit-4"),
        pytest.param("32010619850815002", "1", id="digit-1"),
        pytest.param("31010519900101123", "X", id="domain-example-prefix"),
    ],
)
def test_resident_id_check_char(first17: str, expected: str) -> None:
    assert resident_id_check_char(first17) == expected


@pytest.mark.parametrize(
    "first17",
    [
        pytest.param("1101051949123100", id="too-short"),
        pytest.param("110105194912310021", id="too-long"),
        pytest.param("1101051949123100A", id="letter"),
        pytest.param("１１０１０５１９４９１２３１００２", id="full-width-digits"),
    ],
)
def test_resident_id_check_char_rejects_bad_input(first17: str) -> None:
    with pytest.raises(ValueError):
        resident_id_check_char(first17)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("11010519491231002X", True, id="known-valid-x"),
        pytest.param("11010519491231002x", True, id="lowercase-x"),
        pytest.param("320106198508150021", True, id="known-valid-digit"),
        pytest.param("440524188001010014", False, id="good-check-but-born-1880"),
        pytest.param("31010519900101123X", True, id="shanghai-changning-style"),
        pytest.param("310105199001011234", False, id="domain-mask-example-bad-check"),
        pytest.param("110105194912310021", False, id="wrong-check-digit"),
        pytest.param("11010519491231002Y", False, id="check-char-not-x"),
        pytest.param("1101051949123100X2", False, id="x-not-last"),
        pytest.param("11010519491231002", False, id="17-chars"),
        pytest.param("11010519491231002X1", False, id="19-chars"),
        pytest.param("110105491231002", False, id="old-15-digit-form"),
        pytest.param("", False, id="empty"),
        pytest.param(" 11010519491231002X", False, id="unnormalised-space"),
        pytest.param("1101A519491231002X", False, id="letter-in-body"),
        pytest.param("１１０１０５１９４９１２３１００２Ｘ", False, id="full-width"),
        pytest.param(rid("11010520000229001"), True, id="feb-29-leap-year"),
        pytest.param(rid("11010519000101001"), True, id="earliest-1900-01-01"),
        pytest.param(rid("11010518991231001"), False, id="before-1900"),
        pytest.param(rid("11010519000229001"), False, id="feb-29-1900-not-leap"),
        pytest.param(rid("11010519900230001"), False, id="feb-30"),
        pytest.param(rid("11010519901301001"), False, id="month-13"),
        pytest.param(rid("11010519900100001"), False, id="day-00"),
        pytest.param(rid("11010519900431001"), False, id="april-31"),
        pytest.param(rid("11010520261127001"), True, id="born-today"),
        pytest.param(rid("11010520261128001"), False, id="born-tomorrow"),
        pytest.param(rid("10010519900101001"), False, id="province-10"),
        pytest.param(rid("16010519900101001"), False, id="province-16"),
        pytest.param(rid("24010519900101001"), False, id="province-24"),
        pytest.param(rid("99010519900101001"), False, id="province-99"),
        pytest.param(rid("71000019900101001"), True, id="province-71"),
        pytest.param(rid("81000019900101001"), True, id="province-81"),
        pytest.param(rid("83000019900101001"), True, id="province-83"),
        pytest.param(rid("91000019900101001"), True, id="province-91"),
        pytest.param(rid("65010519900101001"), True, id="province-65"),
    ],
)
def test_is_valid_resident_id(value: str, expected: bool) -> None:
    assert is_valid_resident_id(value, today=TODAY) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(" 1101 0519 4912 3100 2x ", "11010519491231002X", id="spaces-and-x"),
        pytest.param("11010519491231002X", "11010519491231002X", id="already-canonical"),
        pytest.param("\t110105194912310021\n", "110105194912310021", id="tabs-newlines"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalise_resident_id(value: str, expected: str) -> None:
    assert normalise_resident_id(value) == expected


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        pytest.param("91350100M000100Y4", "3", id="known-digit"),
        pytest.param("91110000802100433", "B", id="known-letter"),
        pytest.param("91310105MA1FL0009", "0", id="remainder-zero-gives-0"),
    ],
)
def test_uscc_check_char(first17: str, expected: str) -> None:
    assert uscc_check_char(first17) == expected


@pytest.mark.parametrize(
    "first17",
    [
        pytest.param("91350100M000100Y", id="too-short"),
        pytest.param("91350100I000100Y4", id="letter-i"),
        pytest.param("91350100m000100Y4", id="lowercase"),
    ],
)
def test_uscc_check_char_rejects_bad_input(first17: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_char(first17)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("91350100M000100Y43", True, id="known-valid-1"),
        pytest.param("91110000802100433B", True, id="known-valid-2"),
        pytest.param("91310105MA1FL00090", True, id="check-char-0"),
        pytest.param("91350100M000100Y44", False, id="wrong-check-digit"),
        pytest.param("91110000802100433C", False, id="wrong-check-letter"),
        pytest.param("91350100m000100y43", False, id="lowercase-unnormalised"),
        pytest.param("91350100M000100Y4", False, id="17-chars"),
        pytest.param("91350100M000100Y433", False, id="19-chars"),
        pytest.param("", False, id="empty"),
        pytest.param("91350100I000100Y43", False, id="letter-i"),
        pytest.param("91350100O000100Y43", False, id="letter-o"),
        pytest.param("91350100Z000100Y43", False, id="letter-z"),
        pytest.param("91350100S000100Y43", False, id="letter-s"),
        pytest.param("91350100V000100Y43", False, id="letter-v"),
        pytest.param(uscc("01350100M000100Y4"), False, id="authority-0"),
        pytest.param(uscc("B1350100M000100Y4"), False, id="authority-b"),
        pytest.param(uscc("Y1350100M000100Y4"), True, id="authority-y"),
        pytest.param(uscc("51350100M000100Y4"), True, id="authority-5"),
        pytest.param(uscc("913501A0M000100Y4"), False, id="letter-in-region-code"),
        pytest.param(" 91350100M000100Y43", False, id="unnormalised-space"),
    ],
)
def test_is_valid_uscc(value: str, expected: bool) -> None:
    assert is_valid_uscc(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("91350100m000100y43", "91350100M000100Y43", id="lowercase"),
        pytest.param(" 9135 0100 M000 100Y 43 ", "91350100M000100Y43", id="spaces"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalise_uscc_then_validate(value: str, expected: str) -> None:
    assert normalise_uscc(value) == expected


def test_lowercase_uscc_is_valid_after_normalising() -> None:
    assert is_valid_uscc(normalise_uscc("91110000802100433b")) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("13812345678", "13812345678", id="bare"),
        pytest.param("+8613812345678", "13812345678", id="plus-86"),
        pytest.param("8613812345678", "13812345678", id="86-prefix"),
        pytest.param("+86 138 1234 5678", "13812345678", id="plus-86-spaces"),
        pytest.param("138-1234-5678", "13812345678", id="hyphens"),
        pytest.param("+86-138-1234-5678", "13812345678", id="plus-86-hyphens"),
        pytest.param(" 13812345678 ", "13812345678", id="surrounding-space"),
        pytest.param("138\u30001234\u30005678", "13812345678", id="ideographic-spaces"),
        pytest.param("+8612812345678", "12812345678", id="plus-86-bad-second-digit"),
        pytest.param(" 138123456789 ", "138123456789", id="12-digits-unchanged"),
        pytest.param("86123456789", "86123456789", id="11-digits-starting-86"),
        pytest.param(" +86 12 ", "+86 12", id="short-after-prefix"),
        pytest.param("+85291234567", "+85291234567", id="hong-kong"),
        pytest.param("abc", "abc", id="letters"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalise_mobile(value: str, expected: str) -> None:
    assert normalise_mobile(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("13812345678", True, id="138"),
        pytest.param("19912345678", True, id="199"),
        pytest.param("16612345678", True, id="166"),
        pytest.param("+8613812345678", False, id="plus-86-unnormalised"),
        pytest.param("138 1234 5678", False, id="spaces-unnormalised"),
        pytest.param("12812345678", False, id="second-digit-2"),
        pytest.param("11812345678", False, id="second-digit-1"),
        pytest.param("10812345678", False, id="second-digit-0"),
        pytest.param("23812345678", False, id="first-digit-2"),
        pytest.param("138123456789", False, id="12-digits"),
        pytest.param("1381234567", False, id="10-digits"),
        pytest.param("1381234567a", False, id="letter"),
        pytest.param("１３８１２３４５６７８", False, id="full-width"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_valid_mainland_mobile(value: str, expected: bool) -> None:
    assert is_valid_mainland_mobile(value) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("+86 138 1234 5678", True, id="plus-86-spaces"),
        pytest.param("86-138-1234-5678", True, id="86-hyphens"),
        pytest.param("+86 128 1234 5678", False, id="second-digit-2"),
        pytest.param("+86 138 1234 56789", False, id="12-digits"),
    ],
)
def test_mobile_normalise_then_validate(raw: str, expected: bool) -> None:
    assert is_valid_mainland_mobile(normalise_mobile(raw)) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("310105199001011234", "3101**********1234", id="eighteen"),
        pytest.param("11010519491231002x", "1101**********002X", id="lowercase-x"),
        pytest.param(" 3101 0519 9001 0112 34 ", "3101**********1234", id="spaced"),
        pytest.param("123456789012", "1234****9012", id="twelve"),
        pytest.param("12345678901", "1**********", id="eleven-too-short-for-4-4"),
        pytest.param("12345", "1****", id="five"),
        pytest.param("1", "*", id="one"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_resident_id(value: str, expected: str) -> None:
    assert mask_resident_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("91350100M000100Y43", "9135**********0Y43", id="eighteen"),
        pytest.param("91350100m000100y43", "9135**********0Y43", id="lowercase"),
        pytest.param("ABC", "A**", id="short"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_uscc(value: str, expected: str) -> None:
    assert mask_uscc(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("13812345678", "138****5678", id="bare"),
        pytest.param("+86 138-1234-5678", "138****5678", id="prefixed"),
        pytest.param("1381234567", "1*********", id="ten-digits"),
        pytest.param("12345", "1****", id="five"),
        pytest.param("7", "*", id="one"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_mobile(value: str, expected: str) -> None:
    assert mask_mobile(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("zhang.san@example.com", "z*******@example.com", id="spec-example"),
        pytest.param("li@example.com", "l*******@example.com", id="short-local-same-width"),
        pytest.param("a@example.com", "*******@example.com", id="one-char-local"),
        pytest.param(" Wang@Example.CN ", "W*******@Example.CN", id="stripped-case-kept"),
        pytest.param('"a@b"@example.com', '"*******@example.com', id="at-in-local-part"),
        pytest.param("not-an-email", "n***********", id="no-at"),
        pytest.param("@example.com", "@***********", id="empty-local"),
        pytest.param("zhang@", "z*****", id="empty-domain"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_email(value: str, expected: str) -> None:
    assert mask_email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("张三丰", "张**", id="three-chars"),
        pytest.param("张三", "张*", id="two-chars"),
        pytest.param("欧阳娜娜", "欧***", id="compound-surname"),
        pytest.param(" 李四 ", "李*", id="stripped"),
        pytest.param("张", "*", id="one-char"),
        pytest.param("John Smith", "J*********", id="latin"),
        pytest.param("", "", id="empty"),
        pytest.param("   ", "", id="blank"),
    ],
)
def test_mask_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected
