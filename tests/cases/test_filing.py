"""Table tests of cases.filing.check_filing: one wrong field at a time, each to its error code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases.categories import Domain
from cases.filing import REQUIRED_CONSENTS, Filing, check_filing
from cases.models import PartyKind
from tests.support.factories import filing_fields, resident_id, uscc

OMIT = "__omit__"


def test_valid_filing_passes() -> None:
    filing, errors = check_filing(filing_fields())
    assert errors == {}
    assert isinstance(filing, Filing)
    assert filing.domain is Domain.TOURISM
    assert filing.category == "tour_refund"
    assert filing.claim_amount == Decimal("3680.00")
    assert filing.consents == REQUIRED_CONSENTS
    assert filing.applicant.kind is PartyKind.NATURAL_PERSON
    assert filing.applicant.name == "张三"
    assert filing.applicant.id_number == resident_id()
    assert filing.applicant.mobile == "13812345678"
    assert filing.applicant.email == "zhangsan@example.com"
    assert filing.applicant.service_address == "上海市长宁区愚园路100号"
    assert filing.respondent.kind is PartyKind.MERCHANT
    assert filing.respondent.id_number == uscc()
    assert filing.respondent.mobile == "13900001111"
    assert filing.facts.startswith("2026年10月")
    assert filing.requested_outcome == "退还全部团费3680元。"


def test_valid_filing_for_an_organisation_applicant_with_uscc() -> None:
    filing, errors = check_filing(
        filing_fields(applicant_kind="organisation", applicant_id_number=uscc())
    )
    assert errors == {}
    assert filing is not None
    assert filing.applicant.kind is PartyKind.ORGANISATION
    assert filing.applicant.id_number == uscc()


def test_respondent_reachable_by_email_alone_or_mobile_alone() -> None:
    by_email, errors = check_filing(filing_fields(respondent_mobile=""))
    assert errors == {}
    assert by_email is not None
    assert by_email.respondent.mobile is None
    by_mobile, errors = check_filing(filing_fields(respondent_email=OMIT))
    assert errors == {}
    assert by_mobile is not None
    assert by_mobile.respondent.email is None


def test_respondent_id_number_and_address_are_optional() -> None:
    filing, errors = check_filing(filing_fields(respondent_id_number="", respondent_address=OMIT))
    assert errors == {}
    assert filing is not None
    assert filing.respondent.id_number is None
    assert filing.respondent.service_address == ""


ONE_FIELD_WRONG = [
    pytest.param({"domain": OMIT}, "domain", "choose_one", id="domain-missing"),
    pytest.param({"domain": "shipping"}, "domain", "choose_one", id="domain-unknown"),
    pytest.param({"category": OMIT}, "category", "choose_one", id="category-missing"),
    pytest.param({"category": "no_such"}, "category", "choose_one", id="category-unknown"),
    pytest.param(
        {"category": "goods_quality"}, "category", "choose_one", id="category-other-domain"
    ),
    pytest.param(
        {"domain": "internet", "category": "tour_refund"},
        "category",
        "choose_one",
        id="tourism-category-in-internet",
    ),
    pytest.param(
        {"applicant_kind": "merchant"}, "applicant_kind", "choose_one", id="kind-merchant"
    ),
    pytest.param({"applicant_kind": "robot"}, "applicant_kind", "choose_one", id="kind-unknown"),
    pytest.param({"applicant_kind": OMIT}, "applicant_kind", "choose_one", id="kind-missing"),
    pytest.param({"respondent_kind": "alien"}, "respondent_kind", "choose_one", id="resp-kind"),
    pytest.param({"applicant_name": "   "}, "applicant_name", "required", id="name-empty"),
    pytest.param({"applicant_name": "张" * 101}, "applicant_name", "too_long", id="name-long"),
    pytest.param({"respondent_name": ""}, "respondent_name", "required", id="resp-name-empty"),
    pytest.param(
        {"applicant_id_number": ""}, "applicant_id_number", "required", id="applicant-id-missing"
    ),
    pytest.param(
        {"applicant_id_number": resident_id()[:17] + ("1" if resident_id()[17] != "1" else "2")},
        "applicant_id_number",
        "resident_id_invalid",
        id="resident-id-check-digit",
    ),
    pytest.param(
        {"applicant_id_number": "3101051990030712"},
        "applicant_id_number",
        "resident_id_invalid",
        id="resident-id-too-short",
    ),
    pytest.param(
        {"applicant_id_number": uscc()},
        "applicant_id_number",
        "resident_id_invalid",
        id="person-with-uscc",
    ),
    pytest.param(
        {"applicant_kind": "organisation"},
        "applicant_id_number",
        "uscc_invalid",
        id="organisation-with-resident-id",
    ),
    pytest.param(
        {"respondent_id_number": uscc()[:17] + ("0" if uscc()[17] != "0" else "1")},
        "respondent_id_number",
        "uscc_invalid",
        id="respondent-uscc-check-char",
    ),
    pytest.param(
        {"applicant_mobile": "12812345678"}, "applicant_mobile", "mobile_invalid", id="mobile-12"
    ),
    pytest.param(
        {"applicant_mobile": "1381234567"}, "applicant_mobile", "mobile_invalid", id="mobile-10"
    ),
    pytest.param(
        {"applicant_mobile": "021-62345678"},
        "applicant_mobile",
        "mobile_invalid",
        id="landline",
    ),
    pytest.param(
        {"respondent_mobile": "139000011112"},
        "respondent_mobile",
        "mobile_invalid",
        id="respondent-mobile",
    ),
    pytest.param({"applicant_mobile": ""}, "applicant_mobile", "required", id="mobile-missing"),
    pytest.param(
        {"applicant_email": "zhangsan.example.com"},
        "applicant_email",
        "email_invalid",
        id="email-no-at",
    ),
    pytest.param(
        {"applicant_email": "zhang san@example.com"},
        "applicant_email",
        "email_invalid",
        id="email-space",
    ),
    pytest.param(
        {"respondent_email": "service@localhost"},
        "respondent_email",
        "email_invalid",
        id="email-no-dot",
    ),
    pytest.param(
        {"respondent_mobile": "", "respondent_email": ""},
        "respondent_mobile",
        "respondent_contact_required",
        id="respondent-unreachable",
    ),
    pytest.param({"applicant_address": ""}, "applicant_address", "required", id="address"),
    pytest.param(
        {"applicant_address": "路" * 301}, "applicant_address", "too_long", id="address-long"
    ),
    pytest.param(
        {"respondent_address": "路" * 301},
        "respondent_address",
        "too_long",
        id="resp-address-long",
    ),
    pytest.param({"claim_amount": ""}, "claim_amount", "required", id="amount-empty"),
    pytest.param({"claim_amount": OMIT}, "claim_amount", "required", id="amount-missing"),
    pytest.param({"claim_amount": "abc"}, "claim_amount", "amount_not_a_number", id="amount-abc"),
    pytest.param({"claim_amount": "0"}, "claim_amount", "amount_not_positive", id="amount-0"),
    pytest.param({"claim_amount": "-5"}, "claim_amount", "amount_not_positive", id="amount-neg"),
    pytest.param(
        {"claim_amount": "1.234"}, "claim_amount", "amount_too_precise", id="amount-3-places"
    ),
    pytest.param(
        {"claim_amount": "100000000.01"}, "claim_amount", "amount_too_large", id="amount-ceiling"
    ),
    pytest.param({"claim_amount": "NaN"}, "claim_amount", "amount_not_a_number", id="amount-nan"),
    pytest.param({"claim_amount": "sNaN"}, "claim_amount", "amount_not_a_number", id="amount-snan"),
    pytest.param(
        {"claim_amount": "Infinity"}, "claim_amount", "amount_not_a_number", id="amount-inf"
    ),
    pytest.param(
        {"claim_amount": "-Infinity"}, "claim_amount", "amount_not_a_number", id="amount-neg-inf"
    ),
    pytest.param({"facts": ""}, "facts", "required", id="facts-empty"),
    pytest.param({"facts": "太短了"}, "facts", "too_short", id="facts-short"),
    pytest.param({"facts": "一" * 9}, "facts", "too_short", id="facts-9"),
    pytest.param({"facts": "一" * 5001}, "facts", "too_long", id="facts-long"),
    pytest.param({"requested_outcome": " "}, "requested_outcome", "required", id="outcome"),
    pytest.param(
        {"requested_outcome": "退" * 2001}, "requested_outcome", "too_long", id="outcome-long"
    ),
    *[
        pytest.param({consent: OMIT}, consent, "consent_required", id=f"{consent}-missing")
        for consent in REQUIRED_CONSENTS
    ],
    *[
        pytest.param({consent: "off"}, consent, "consent_required", id=f"{consent}-off")
        for consent in REQUIRED_CONSENTS
    ],
]


@pytest.mark.parametrize(("overrides", "field", "code"), ONE_FIELD_WRONG)
def test_one_field_wrong(overrides: dict[str, str], field: str, code: str) -> None:
    filing, errors = check_filing(filing_fields(**overrides))
    assert filing is None
    assert errors == {field: code}


def test_every_error_is_reported_at_once() -> None:
    filing, errors = check_filing({})
    assert filing is None
    assert errors == {
        "domain": "choose_one",
        "category": "choose_one",
        "applicant_kind": "choose_one",
        "applicant_name": "required",
        "applicant_id_number": "required",
        "applicant_mobile": "required",
        "applicant_address": "required",
        "respondent_kind": "choose_one",
        "respondent_name": "required",
        "respondent_mobile": "respondent_contact_required",
        "claim_amount": "required",
        "facts": "required",
        "requested_outcome": "required",
        "consent_voluntary": "consent_required",
        "consent_service_address": "consent_required",
        "consent_false_mediation": "consent_required",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("1,280.50", Decimal("1280.50"), id="thousands-comma"),
        pytest.param("1，280.50", Decimal("1280.50"), id="full-width-comma"),
        pytest.param("¥99", Decimal("99.00"), id="yuan-sign"),
        pytest.param(" 12 ", Decimal("12.00"), id="spaces"),
        pytest.param("0.01", Decimal("0.01"), id="one-fen"),
        pytest.param("100000000", Decimal("100000000.00"), id="ceiling"),
        pytest.param("3680.10", Decimal("3680.10"), id="two-places"),
        pytest.param("12.50000", Decimal("12.50"), id="trailing-zeros"),
    ],
)
def test_accepted_amount_forms(raw: str, expected: Decimal) -> None:
    filing, errors = check_filing(filing_fields(claim_amount=raw))
    assert errors == {}
    assert filing is not None
    assert filing.claim_amount == expected
    assert filing.claim_amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    ["+86 138-1234-5678", "+8613812345678", "8613812345678", "138 1234 5678", " 13812345678 "],
)
def test_applicant_mobile_is_normalised(raw: str) -> None:
    filing, errors = check_filing(filing_fields(applicant_mobile=raw))
    assert errors == {}
    assert filing is not None
    assert filing.applicant.mobile == "13812345678"


def test_respondent_mobile_is_normalised() -> None:
    filing, errors = check_filing(filing_fields(respondent_mobile="+86 139-0000-1111"))
    assert errors == {}
    assert filing is not None
    assert filing.respondent.mobile == "13900001111"


def test_lowercase_x_in_resident_id_is_stored_uppercase() -> None:
    with_x = resident_id("31010519900307121")
    assert with_x.endswith("X")
    filing, errors = check_filing(filing_fields(applicant_id_number=with_x.lower()))
    assert errors == {}
    assert filing is not None
    assert filing.applicant.id_number == with_x


def test_spaces_in_id_numbers_are_removed() -> None:
    rid, code = resident_id(), uscc()
    spaced_rid = f"{rid[:6]} {rid[6:14]} {rid[14:]}"
    spaced_code = f" {code[:9].lower()} {code[9:]} "
    filing, errors = check_filing(
        filing_fields(applicant_id_number=spaced_rid, respondent_id_number=spaced_code)
    )
    assert errors == {}
    assert filing is not None
    assert filing.applicant.id_number == rid
    assert filing.respondent.id_number == code


def test_text_fields_are_trimmed() -> None:
    filing, errors = check_filing(
        filing_fields(
            applicant_name="  张三 ",
            facts="  " + "事实" * 6 + "\n",
            requested_outcome=" 退款 ",
            applicant_email=" zhangsan@example.com ",
        )
    )
    assert errors == {}
    assert filing is not None
    assert filing.applicant.name == "张三"
    assert filing.facts == "事实" * 6
    assert filing.requested_outcome == "退款"
    assert filing.applicant.email == "zhangsan@example.com"


@pytest.mark.parametrize("value", ["on", "true", "1", "yes"])
def test_accepted_consent_values(value: str) -> None:
    fields = filing_fields(**dict.fromkeys(REQUIRED_CONSENTS, value))
    filing, errors = check_filing(fields)
    assert errors == {}
    assert filing is not None
