"""Court case numbers (案号), per the SPC rules on case numbers (2015, amended 2018).

A number is `(收案年度)` + court code + type code + serial + `号`, e.g.
`(2026)沪0105民诉前调801号`. Courts print the year in full-width parentheses; we accept both
and write ASCII ones as the canonical form, so stored numbers compare equal however typed.
These are the court's numbers, not the platform's own (see `cases.numbering`).

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHANGNING_COURT = "沪0105"  # 上海市长宁区人民法院

# Type codes used here (the SPC's table of case types, 2018 amendment; 诉前调确 since 2022).
PRE_LITIGATION_MEDIATION = "民诉前调"  # court-entrusted pre-litigation mediation (诉前委派调解)
PRE_LITIGATION_CONFIRMATION = "诉前调确"  # judicial confirmation after pre-litigation mediation
FIRST_INSTANCE_CIVIL = "民初"  # first-instance civil: what a transfer to litigation is docketed as

_TYPE_CODES_BY_KIND = {
    "transfer": FIRST_INSTANCE_CIVIL,
    "confirmation": PRE_LITIGATION_CONFIRMATION,
    "pre_litigation": PRE_LITIGATION_MEDIATION,
}

# The checking pattern from DOMAIN.md, character for character (a test compares them).
CASE_NUMBER_PATTERN = re.compile(
    r"^[(（](\d{4})[)）](最高法|"
    r"[京津沪渝冀晋内辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川黔云藏陕甘青宁新军兵]"
    r"(?:\d{4}|\d{2})?)([\u4e00-\u9fa5]{1,5})([1-9]\d*)号$"
)
# Its parts, to check a CourtCaseNumber built directly and to say which part of a bad one
# is wrong.
_YEAR = re.compile(r"^[(（](\d{4})[)）]")
_COURT = re.compile(
    r"^(最高法|[京津沪渝冀晋内辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川黔云藏陕甘青宁新军兵](?:\d{4}|\d{2})?)"
)
_TYPE = re.compile(r"^[\u4e00-\u9fa5]{1,5}$")
_SERIAL = re.compile(r"^[1-9]\d*$")


class CaseNumberError(ValueError):
    """Not a court case number; `reason` is a stable code saying which part is wrong."""

    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(f"{reason}: {text!r}" if text else reason)
        self.reason = reason


@dataclass(frozen=True)
class CourtCaseNumber:
    year: int
    court_code: str
    type_code: str
    serial: int

    def __post_init__(self) -> None:
        # A four-digit year: the rules number cases by the year of receipt (收案年度).
        if not 1000 <= self.year <= 9999:
            raise CaseNumberError("bad_year", str(self.year))
        court = _COURT.match(self.court_code)
        if court is None or court.end() != len(self.court_code):
            raise CaseNumberError("bad_court_code", self.court_code)
        if not _TYPE.match(self.type_code):
            raise CaseNumberError("bad_type_code", self.type_code)
        # Serials start at 1 within a year, court and type; there is no number 0.
        if self.serial < 1:
            raise CaseNumberError("bad_serial", str(self.serial))

    def __str__(self) -> str:
        return f"({self.year}){self.court_code}{self.type_code}{self.serial}号"


def parse_case_number(text: str) -> CourtCaseNumber:
    """Parse a court case number written with full-width or ASCII parentheses.

    Raises CaseNumberError (a ValueError) whose `reason` names the first part found wrong.
    """
    match = CASE_NUMBER_PATTERN.match(text)
    if match is None:
        raise CaseNumberError(_diagnose(text), text)
    year, court_code, type_code, serial = match.groups()
    return CourtCaseNumber(int(year), court_code, type_code, int(serial))


def _diagnose(text: str) -> str:
    """Say which part of a non-matching number is wrong, checking left to right."""
    year = _YEAR.match(text)
    if year is None:
        return "bad_year"
    rest = text[year.end() :]
    court = _COURT.match(rest)
    if court is None:
        return "bad_court_code"
    if not rest.endswith("号"):
        return "missing_hao"
    body = rest[court.end() : -1]
    # The type code is the run of CJK characters before the serial's digits.
    split = next((i for i, ch in enumerate(body) if not "\u4e00" <= ch <= "\u9fa5"), len(body))
    if not _TYPE.match(body[:split]):
        return "bad_type_code"
    if not _SERIAL.match(body[split:]):
        return "bad_serial"
    return "not_a_case_number"


def type_code_for(kind: str) -> str:
    """The type code a handoff is docketed under: "transfer" (to litigation), "confirmation"
    (judicial confirmation, 诉前调确) or "pre_litigation" (court-entrusted mediation)."""
    try:
        return _TYPE_CODES_BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown handoff kind: {kind!r}") from None
