"""The pre-check of a court handoff: Art. 354 materials, Art. 355 refusals, Art. 358 grounds."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from cases.court.precheck import (
    AgreementFacts,
    ConfirmationFacts,
    PartyFacts,
    Term,
    check_confirmation,
    check_transfer,
)
from tests.support.factories import resident_id, uscc

TODAY = date(2026, 11, 27)

APPLICANT = PartyFacts("applicant", "natural_person", "张三", resident_id(), "zhangsan@example.com")
RESPONDENT = PartyFacts("respondent", "merchant", "某旅行社", uscc(), "上海市长宁区延安西路200号")

GOOD_TERM = Term(
    text="被申请人退还申请人团费1500元。",
    obligor_side="respondent",
    amount="1500.00",
    manner="银行转账",
    due_on="2026-12-10",
)
GOOD_AGREEMENT = AgreementFacts(
    effective_on=date(2026, 11, 20),
    signed_roles=frozenset({"applicant", "respondent", "mediator"}),
    seal_valid=True,
    terms=(GOOD_TERM,),
)
GOOD = ConfirmationFacts(
    parties=(APPLICANT, RESPONDENT),
    organisation="长宁区人民调解委员会",
    mediator="王调解员",
    sessions_held=2,
    agreement=GOOD_AGREEMENT,
    apply_by=date(2026, 12, 21),
    today=TODAY,
)


def facts(**changes: Any) -> ConfirmationFacts:
    return dataclasses.replace(GOOD, **changes)


def agreement(**changes: Any) -> AgreementFacts:
    return dataclasses.replace(GOOD_AGREEMENT, **changes)


def term(**changes: Any) -> Term:
    return dataclasses.replace(GOOD_TERM, **changes)


def with_terms(*terms: Term, proofs: int = 0) -> ConfirmationFacts:
    return facts(agreement=agreement(terms=terms), property_proofs=proofs)


def summary(result: Any) -> list[tuple[str, bool, dict[str, str]]]:
    return [(f.code, f.blocks, dict(f.params)) for f in result.findings]


def test_a_complete_application_passes_clean() -> None:
    result = check_confirmation(GOOD)
    assert result.ok
    assert result.findings == ()
    assert result.as_json() == {"ok": True, "findings": []}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # --- Art. 354: the materials -----------------------------------------------------
        (
            facts(agreement=None, apply_by=None),
            [("agreement_not_effective", True, {})],
        ),
        (
            facts(agreement=agreement(effective_on=None), apply_by=None),
            [("agreement_not_effective", True, {})],
        ),
        (facts(agreement=agreement(seal_valid=False)), [("seal_missing", True, {})]),
        (facts(organisation=None), [("organisation_proof_missing", True, {})]),
        (facts(mediator=None), [("organisation_proof_missing", True, {})]),
        (facts(sessions_held=0), [("no_session_record", False, {})]),
        (
            facts(parties=(APPLICANT,)),
            [("party_missing", True, {"side": "respondent"})],
        ),
        (
            facts(parties=(dataclasses.replace(APPLICANT, id_number=None), RESPONDENT)),
            [("party_id_missing", True, {"side": "applicant", "name": "张三"})],
        ),
        (
            facts(
                parties=(dataclasses.replace(APPLICANT, id_number="310105199003071230"), RESPONDENT)
            ),
            [("party_id_invalid", True, {"side": "applicant", "name": "张三"})],
        ),
        (
            # An organisation is identified by its unified social credit code, not a resident ID.
            facts(parties=(APPLICANT, dataclasses.replace(RESPONDENT, id_number=resident_id()))),
            [("party_id_invalid", True, {"side": "respondent", "name": "某旅行社"})],
        ),
        (
            facts(parties=(APPLICANT, dataclasses.replace(RESPONDENT, service_address="  "))),
            [("service_address_missing", True, {"side": "respondent", "name": "某旅行社"})],
        ),
        (
            with_terms(term(text="被申请人将沪A12345车辆过户至申请人名下。", amount=None)),
            [("property_proof_missing", True, {"term": "1"})],
        ),
        (
            with_terms(
                term(text="被申请人将沪A12345车辆过户至申请人名下。", amount=None), proofs=1
            ),
            [],
        ),
        # --- Art. 355: not for confirmation -----------------------------------------------
        (
            with_terms(term(text="双方同意解除收养关系。", amount=None)),
            [("identity_status_matter", True, {"term": "1"})],
        ),
        (
            with_terms(term(text="双方协议离婚。", amount=None)),
            [("identity_status_matter", True, {"term": "1"})],
        ),
        (
            with_terms(term(text="确认涉案房屋的所有权属于申请人。", amount=None)),
            [("ownership_confirmation", True, {"term": "1"})],
        ),
        (
            with_terms(term(text="涉案作品著作权归申请人所有。", amount=None)),
            [("ownership_confirmation", True, {"term": "1"})],
        ),
        (
            with_terms(term(text="双方确认商标专用权的归属。", amount=None)),
            [("ownership_confirmation", True, {"term": "1"})],
        ),
        # --- Art. 358: unclear or not voluntary ---------------------------------------------
        (
            facts(agreement=agreement(signed_roles=frozenset({"applicant", "mediator"}))),
            [("signature_missing", True, {"roles": "respondent"})],
        ),
        (
            facts(agreement=agreement(signed_roles=frozenset())),
            [("signature_missing", True, {"roles": "applicant,respondent,mediator"})],
        ),
        (with_terms(), [("no_terms", True, {})]),
        (with_terms(term(obligor_side="")), [("term_without_obligor", True, {"term": "1"})]),
        (with_terms(term(manner="")), [("term_without_manner", True, {"term": "1"})]),
        (with_terms(term(due_on=None)), [("term_without_time_limit", True, {"term": "1"})]),
        (with_terms(term(due_on="2026-02-30")), [("term_without_time_limit", True, {"term": "1"})]),
        # Money without an amount, an amount that is no number, or text and amount disagreeing.
        (with_terms(term(amount=None)), [("term_amount_unclear", True, {"term": "1"})]),
        (
            with_terms(term(text="被申请人赔偿申请人损失。", amount=None)),
            [("term_amount_unclear", True, {"term": "1"})],
        ),
        (with_terms(term(amount="一千五百")), [("term_amount_unclear", True, {"term": "1"})]),
        (with_terms(term(amount="0")), [("term_amount_unclear", True, {"term": "1"})]),
        (with_terms(term(amount="1600.00")), [("term_amount_unclear", True, {"term": "1"})]),
        # Written with a thousands separator, or without money at all: clear.
        (with_terms(term(text="被申请人退还团费1,500.00元。")), []),
        (with_terms(term(text="被申请人向申请人书面赔礼道歉。", amount=None)), []),
        # Only the terms that are wrong are named.
        (
            with_terms(GOOD_TERM, term(manner=""), GOOD_TERM, term(obligor_side="x")),
            [
                ("term_without_manner", True, {"term": "2"}),
                ("term_without_obligor", True, {"term": "4"}),
            ],
        ),
        # --- the 30 days --------------------------------------------------------------------
        (
            facts(today=date(2026, 12, 21)),
            [("confirmation_deadline_near", False, {"date": "2026-12-21", "days": "0"})],
        ),
        (
            facts(today=date(2026, 12, 17)),
            [("confirmation_deadline_near", False, {"date": "2026-12-21", "days": "4"})],
        ),
        (facts(today=date(2026, 12, 16)), []),
        (
            facts(today=date(2026, 12, 22)),
            [("confirmation_deadline_passed", True, {"date": "2026-12-21"})],
        ),
    ],
)
def test_findings(
    case: ConfirmationFacts, expected: list[tuple[str, bool, dict[str, str]]]
) -> None:
    result = check_confirmation(case)
    assert summary(result) == expected
    assert result.ok is not any(blocks for _, blocks, _ in expected)


def test_blocking_findings_come_first_and_all_are_reported() -> None:
    result = check_confirmation(
        facts(
            sessions_held=0,
            today=date(2026, 12, 19),
            agreement=agreement(seal_valid=False, terms=(term(manner=""),)),
        )
    )
    assert result.codes() == [
        "seal_missing",
        "term_without_manner",
        "no_session_record",
        "confirmation_deadline_near",
    ]
    assert [f.code for f in result.blocking] == ["seal_missing", "term_without_manner"]
    assert not result.ok
    assert result.as_json()["ok"] is False
    grounds = {f.code: f.ground for f in result.findings}
    assert grounds == {
        "seal_missing": "art354",
        "term_without_manner": "art358",
        "no_session_record": "art354",
        "confirmation_deadline_near": "art358",
    }


def test_term_of_reads_the_agreement_content() -> None:
    raw = {
        "text": " 退还 ",
        "obligor_side": "respondent",
        "amount": None,
        "manner": "转账",
        "due_on": "",
    }
    assert Term.of(raw) == Term("退还", "respondent", None, "转账", None)


@pytest.mark.parametrize(
    ("parties", "facts_text", "reasons", "expected"),
    [
        ((APPLICANT, RESPONDENT), "事实", "原因", []),
        ((APPLICANT, RESPONDENT), "", "原因", [("end_record_incomplete", True, {})]),
        ((APPLICANT, RESPONDENT), "事实", "  ", [("end_record_incomplete", True, {})]),
        # Particulars the court may ask for later are warnings for a transfer ...
        (
            (APPLICANT, dataclasses.replace(RESPONDENT, service_address="")),
            "事实",
            "原因",
            [("service_address_missing", False, {"side": "respondent", "name": "某旅行社"})],
        ),
        (
            (dataclasses.replace(APPLICANT, id_number=None), RESPONDENT),
            "事实",
            "原因",
            [("party_id_missing", False, {"side": "applicant", "name": "张三"})],
        ),
        # ... but a case without a respondent cannot be transferred.
        ((APPLICANT,), "事实", "原因", [("party_missing", True, {"side": "respondent"})]),
    ],
)
def test_transfer(
    parties: tuple[PartyFacts, ...],
    facts_text: str,
    reasons: str,
    expected: list[tuple[str, bool, dict[str, str]]],
) -> None:
    assert summary(check_transfer(parties, facts_text, reasons)) == expected


def test_a_transfer_cites_what_a_complaint_states_not_a_confirmation_article() -> None:
    # Art. 354 lists a judicial confirmation's materials; a transfer is a complaint, whose
    # parties' particulars Civil Procedure Law Art. 124 asks for (issue 11).
    findings = check_transfer(
        (
            dataclasses.replace(APPLICANT, id_number=None),
            dataclasses.replace(RESPONDENT, service_address=""),
        ),
        "事实",
        "原因",
    ).findings
    assert findings and {f.ground for f in findings} == {"cpl124"}
    assert check_transfer((APPLICANT,), "", "原因").findings[0].ground in ("art21", "cpl124")
