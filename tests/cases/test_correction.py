"""What a party may correct in a returned filing (cases.court.actions.check_correction),
including the identity numbers the court or the pre-check asked for."""

from __future__ import annotations

import pytest

from cases.court.actions import check_correction
from cases.endings.actions import OutcomeInvalid
from cases.models import FilingKind
from tests.support.factories import resident_id, uscc

KINDS = {"applicant": "natural_person", "respondent": "merchant"}
BASE = {
    "facts": "事实",
    "requested_outcome": "请求",
    "applicant_service_address": "上海",
    "respondent_service_address": "上海",
}


def test_the_applicant_adds_the_respondents_credit_code_to_a_transfer() -> None:
    code = uscc()
    got = check_correction(
        {**BASE, "respondent_id_number": code.lower()}, "applicant", FilingKind.TRANSFER, KINDS
    )
    assert got.id_numbers == {"respondent": code}


def test_a_party_corrects_its_own_resident_id() -> None:
    number = resident_id()
    got = check_correction(
        {"respondent_service_address": "上海", "respondent_id_number": number, **{}},
        "respondent",
        FilingKind.CONFIRMATION,
        {"respondent": "natural_person"},
    )
    assert got.id_numbers == {"respondent": number}


def test_blank_numbers_stay_as_they_are() -> None:
    got = check_correction(
        {**BASE, "applicant_id_number": "", "respondent_id_number": " "},
        "applicant",
        FilingKind.TRANSFER,
        KINDS,
    )
    assert got.id_numbers == {}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("respondent_id_number", "12345", "uscc_invalid"),
        ("applicant_id_number", "110101199003070000", "resident_id_invalid"),
    ],
)
def test_a_wrong_number_is_a_field_error(field: str, value: str, code: str) -> None:
    with pytest.raises(OutcomeInvalid) as invalid:
        check_correction({**BASE, field: value}, "applicant", FilingKind.TRANSFER, KINDS)
    assert invalid.value.field_errors == {field: code}


def test_the_respondent_may_not_change_the_applicants_number() -> None:
    got = check_correction(
        {"respondent_service_address": "上海", "applicant_id_number": resident_id()},
        "respondent",
        FilingKind.CONFIRMATION,
        KINDS,
    )
    assert got.id_numbers == {}
