"""Table tests of cases.agreements.rules: checking a draft, the text per track, capital amounts,
who must still sign, performance items, and the platform's attestations and seal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cases.agreements.rules import (
    REQUIRED_SIGNERS,
    TITLES,
    attestation,
    canonical_time,
    check_draft,
    check_still_valid,
    line_diff,
    missing_signers,
    performance_plan,
    prefill,
    render_text,
    rmb_upper,
    seal,
    signer_role,
    takes_effect,
    text_sha256,
    verify_attestation,
    verify_seal,
)
from tests.support.factories import resident_id, uscc

TODAY = date(2026, 11, 27)
PARTIES = [
    {
        "side": "applicant",
        "name": "张三",
        "kind": "natural_person",
        "id_number": resident_id(),
        "service_address": "上海市长宁区愚园路100号",
    },
    {
        "side": "respondent",
        "name": "上海某某国际旅行社有限公司",
        "kind": "merchant",
        "id_number": uscc(),
        "service_address": "上海市长宁区延安西路200号",
    },
]


def term(**overrides: str) -> dict[str, str]:
    row = {
        "text": "被申请人向申请人退还团费",
        "obligor_side": "respondent",
        "amount": "3680",
        "manner": "银行转账",
        "due_on": "2026-12-31",
    }
    row.update(overrides)
    return row


def raw(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "facts": "申请人报名参加云南六日游，被申请人出发前三天取消行程。",
        "disputed_matters": "团费是否应当全额退还。",
        "responsibilities": "被申请人单方取消行程，应当承担退款责任。",
        "other": "",
        "terms": [term()],
    }
    fields.update(overrides)
    return fields


def test_a_valid_draft_gives_the_content_in_its_fixed_shape() -> None:
    content, errors = check_draft(raw(), PARTIES, TODAY)
    assert errors == {}
    assert content == {
        "parties": PARTIES,
        "facts": "申请人报名参加云南六日游，被申请人出发前三天取消行程。",
        "disputed_matters": "团费是否应当全额退还。",
        "responsibilities": "被申请人单方取消行程，应当承担退款责任。",
        "terms": [
            {
                "text": "被申请人向申请人退还团费",
                "obligor_side": "respondent",
                "amount": "3680.00",
                "manner": "银行转账",
                "due_on": "2026-12-31",
            }
        ],
        "other": "",
    }


def test_blank_rows_are_skipped_and_a_term_without_amount_is_allowed() -> None:
    blank = {"text": "", "obligor_side": "", "amount": "", "manner": "", "due_on": ""}
    content, errors = check_draft(
        raw(terms=[blank, term(amount="", text="被申请人书面致歉"), blank]), PARTIES, TODAY
    )
    assert errors == {}
    assert content is not None
    assert [t["amount"] for t in content["terms"]] == [None]


def test_due_today_is_allowed() -> None:
    _, errors = check_draft(raw(terms=[term(due_on=TODAY.isoformat())]), PARTIES, TODAY)
    assert errors == {}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"facts": ""}, "facts", "required"),
        ({"facts": "   "}, "facts", "required"),
        ({"disputed_matters": ""}, "disputed_matters", "required"),
        ({"responsibilities": ""}, "responsibilities", "required"),
        ({"facts": "事" * 5001}, "facts", "too_long"),
        ({"other": "其" * 5001}, "other", "too_long"),
        ({"terms": []}, "terms", "agreement_terms_required"),
        ({"terms": [term()] * 31}, "terms", "agreement_too_many_terms"),
        ({"terms": [term(text="")]}, "terms.0.text", "required"),
        ({"terms": [term(text="条" * 1001)]}, "terms.0.text", "too_long"),
        ({"terms": [term(obligor_side="")]}, "terms.0.obligor_side", "agreement_obligor_required"),
        (
            {"terms": [term(obligor_side="court")]},
            "terms.0.obligor_side",
            "agreement_obligor_required",
        ),
        ({"terms": [term(manner="")]}, "terms.0.manner", "agreement_manner_required"),
        ({"terms": [term(manner="转" * 101)]}, "terms.0.manner", "too_long"),
        ({"terms": [term(due_on="")]}, "terms.0.due_on", "agreement_due_date_required"),
        ({"terms": [term(due_on="2026-13-01")]}, "terms.0.due_on", "date_invalid"),
        ({"terms": [term(due_on="2026-11-26")]}, "terms.0.due_on", "agreement_due_date_past"),
        ({"terms": [term(due_on="2037-01-01")]}, "terms.0.due_on", "agreement_due_date_too_far"),
        ({"terms": [term(amount="0")]}, "terms.0.amount", "amount_not_positive"),
        ({"terms": [term(amount="-5")]}, "terms.0.amount", "amount_not_positive"),
        ({"terms": [term(amount="1.005")]}, "terms.0.amount", "amount_too_precise"),
        ({"terms": [term(amount="abc")]}, "terms.0.amount", "amount_not_a_number"),
        ({"terms": [term(amount="NaN")]}, "terms.0.amount", "amount_not_a_number"),
        ({"terms": [term(amount="100000000.01")]}, "terms.0.amount", "amount_too_large"),
        ({"terms": [term(), term(due_on="x")]}, "terms.1.due_on", "date_invalid"),
    ],
)
def test_each_wrong_field_gives_its_code_and_no_content(
    changes: dict[str, Any], field: str, code: str
) -> None:
    content, errors = check_draft(raw(**changes), PARTIES, TODAY)
    assert content is None
    assert errors == {field: code}


def test_error_keys_keep_the_row_index_of_the_form() -> None:
    blank = {"text": "", "obligor_side": "", "amount": "", "manner": "", "due_on": ""}
    _, errors = check_draft(raw(terms=[blank, term(manner="")]), PARTIES, TODAY)
    assert errors == {"terms.1.manner": "agreement_manner_required"}


def test_a_case_without_both_sides_cannot_have_an_agreement() -> None:
    content, errors = check_draft(raw(), PARTIES[:1], TODAY)
    assert content is None
    assert errors == {"parties": "agreement_parties_missing"}


def test_non_text_values_are_treated_as_blank() -> None:
    content, errors = check_draft(raw(facts=123, terms=["not a row"]), PARTIES, TODAY)
    assert content is None
    assert errors == {"facts": "required", "terms": "agreement_terms_required"}


def test_check_still_valid_flags_a_time_limit_that_passed_since_saving() -> None:
    content, _ = check_draft(raw(terms=[term(), term(due_on="2026-11-28")]), PARTIES, TODAY)
    assert content is not None
    assert check_still_valid(content, TODAY) == {}
    assert check_still_valid(content, date(2026, 11, 29)) == {
        "terms.1.due_on": "agreement_due_date_past"
    }


def test_prefill_takes_parties_facts_and_claim_from_the_case() -> None:
    content = prefill(PARTIES, "事实", "退还团费")
    assert content["parties"] == PARTIES
    assert content["facts"] == "事实"
    assert content["disputed_matters"] == "申请人请求：退还团费"
    assert content["terms"] == []
    assert set(content) == {
        "parties",
        "facts",
        "disputed_matters",
        "responsibilities",
        "terms",
        "other",
    }


def _text(track: str = "peoples", **overrides: Any) -> str:
    content, errors = check_draft(raw(**overrides), PARTIES, TODAY)
    assert content is not None, errors
    return render_text(
        content,
        track=track,
        organisation_name="长宁区华阳路街道人民调解委员会",
        case_number="CNM-2026-T-00001",
        version_number=2,
        mediator_name="王调解",
    )


@pytest.mark.parametrize(
    ("track", "title", "mediator", "law"),
    [
        ("peoples", "人民调解协议书", "人民调解员（签名）：王调解", "人民调解法》第三十三条"),
        (
            "administrative",
            "行政调解协议书",
            "调解员（签名）：王调解",
            "共同向人民法院申请司法确认",
        ),
        ("arbitration", "仲裁调解协议书", "调解员（签名）：王调解", "仲裁法》第五十一条"),
        ("industry", "行业性专业性调解协议书", "调解员（签名）：王调解", "民事合同性质"),
    ],
)
def test_each_track_has_its_title_signer_and_legal_effect(
    track: str, title: str, mediator: str, law: str
) -> None:
    text = _text(track)
    assert text.splitlines()[0] == title == TITLES[track]
    assert mediator in text
    assert law in text
    assert "《人民法院在线调解规则》第十九条" in text


def test_the_text_names_the_organisation_case_version_and_numbered_terms() -> None:
    text = _text(
        terms=[term(), term(text="被申请人书面致歉", amount="", manner="书面", due_on="2026-12-01")]
    )
    assert "调解组织：长宁区华阳路街道人民调解委员会" in text
    assert "案件编号：CNM-2026-T-00001" in text
    assert "文本版本：第2版" in text
    assert "1. 被申请人向申请人退还团费" in text
    assert (
        "（履行义务人：被申请人；金额：人民币3,680.00元（大写：叁仟陆佰捌拾元整）；"
        "履行方式：银行转账；履行期限：2026年12月31日前）"
    ) in text
    assert "2. 被申请人书面致歉" in text
    assert "（履行义务人：被申请人；履行方式：书面；履行期限：2026年12月1日前）" in text
    assert "六、其他事项\n无。" in text
    assert "申请人（签名）：张三" in text
    assert "被申请人（签名或盖章）：上海某某国际旅行社有限公司" in text
    assert "人民调解委员会（印章）：长宁区华阳路街道人民调解委员会" in text


def test_a_persons_identity_number_is_masked_and_address_left_out_a_business_is_shown() -> None:
    text = _text()
    assert resident_id() not in text
    assert "公民身份号码：3101**********" in text
    assert "上海市长宁区愚园路100号" not in text
    assert f"统一社会信用代码：{uscc()}" in text
    assert "送达地址：上海市长宁区延安西路200号" in text


def test_the_text_and_its_hash_depend_on_every_part_of_the_content() -> None:
    base = _text()
    assert _text() == base  # deterministic
    for changes in (
        {"facts": "另一事实，足够长的描述。"},
        {"terms": [term(amount="3680.01")]},
        {"terms": [term(due_on="2027-01-01")]},
        {"terms": [term(manner="现金")]},
        {"terms": [term(obligor_side="applicant")]},
        {"other": "双方再无其他争议。"},
    ):
        assert text_sha256(_text(**changes)) != text_sha256(base)
    assert text_sha256(base) == text_sha256(base)
    assert len(text_sha256(base)) == 64


def test_an_unknown_track_falls_back_to_the_peoples_template() -> None:
    assert _text("unknown").startswith("人民调解协议书")


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("15.5", "壹拾伍元伍角"),
        ("101", "壹佰零壹元整"),
        ("1000.05", "壹仟元零伍分"),
        ("1010", "壹仟零壹拾元整"),
        ("3680", "叁仟陆佰捌拾元整"),
        ("3680.55", "叁仟陆佰捌拾元伍角伍分"),
        ("10000", "壹万元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("100010.05", "壹拾万零壹拾元零伍分"),
        ("1000005", "壹佰万零伍元整"),
        ("11001000", "壹仟壹佰万壹仟元整"),
        ("20000000", "贰仟万元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ],
)
def test_amounts_in_capital_numerals(amount: str, words: str) -> None:
    assert rmb_upper(Decimal(amount)) == words


def test_capital_numerals_refuse_negative_amounts() -> None:
    with pytest.raises(ValueError):
        rmb_upper(Decimal("-1"))


def test_line_diff_marks_added_and_removed_lines() -> None:
    diff = line_diff("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(d.op, d.text) for d in diff] == [
        (" ", "a"),
        ("-", "b"),
        ("+", "B"),
        (" ", "c"),
        ("+", "d"),
    ]


def test_performance_plan_numbers_terms_as_the_text_does() -> None:
    content, _ = check_draft(
        raw(
            terms=[
                term(),
                term(
                    text="申请人撤回投诉",
                    obligor_side="applicant",
                    amount="",
                    manner="书面",
                    due_on="2026-12-05",
                ),
            ]
        ),
        PARTIES,
        TODAY,
    )
    assert content is not None
    plan = performance_plan(content)
    assert [(p.term_number, p.obligor_side, p.due_on) for p in plan] == [
        (1, "respondent", date(2026, 12, 31)),
        (2, "applicant", date(2026, 12, 5)),
    ]
    assert (
        plan[0].description
        == "被申请人向申请人退还团费；金额：人民币3,680.00元；履行方式：银行转账"
    )
    assert plan[1].description == "申请人撤回投诉；履行方式：书面"


def test_a_term_without_time_limit_has_no_performance_item() -> None:
    content = {
        "terms": [
            {"text": "x", "obligor_side": "applicant", "amount": None, "manner": "", "due_on": None}
        ]
    }
    assert performance_plan(content) == []


@pytest.mark.parametrize(
    ("user_id", "mediator_id", "side", "role"),
    [
        (7, 7, None, "mediator"),
        (7, 7, "applicant", "mediator"),  # never both: the mediator signs as mediator
        (8, 7, "applicant", "applicant"),
        (8, 7, "respondent", "respondent"),
        (8, 7, None, None),
        (8, None, None, None),
        (8, 7, "caucus", None),
    ],
)
def test_signer_role(
    user_id: int, mediator_id: int | None, side: str | None, role: str | None
) -> None:
    assert signer_role(user_id, mediator_id, side) == role


@pytest.mark.parametrize(
    ("signed", "missing"),
    [
        ((), REQUIRED_SIGNERS),
        (("applicant",), ("respondent", "mediator")),
        (("respondent", "mediator"), ("applicant",)),
        (("mediator", "applicant", "respondent"), ()),
        (("applicant", "applicant", "respondent"), ("mediator",)),
    ],
)
def test_who_must_still_sign_and_when_it_takes_effect(
    signed: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    assert missing_signers(signed) == missing
    assert takes_effect(signed) is (missing == ())


AT = datetime(2026, 11, 27, 3, 4, 5, 678901, tzinfo=UTC)


def test_canonical_time_is_whole_seconds_in_utc() -> None:
    assert canonical_time(AT) == "2026-11-27T03:04:05Z"
    from zoneinfo import ZoneInfo

    assert canonical_time(AT.astimezone(ZoneInfo("Asia/Shanghai"))) == "2026-11-27T03:04:05Z"


def test_an_attestation_verifies_and_any_change_breaks_it() -> None:
    fields: dict[str, Any] = {
        "version_id": 3,
        "role": "applicant",
        "signer_id": 11,
        "sha256": "a" * 64,
        "signed_at": AT,
    }
    mac = attestation("k", **fields)
    assert verify_attestation("k", mac=mac, **fields)
    assert verify_attestation("k", mac=mac, **{**fields, "signed_at": AT.replace(microsecond=0)})
    for change in (
        {"version_id": 4},
        {"role": "respondent"},
        {"signer_id": 12},
        {"sha256": "b" * 64},
        {"signed_at": AT + timedelta(seconds=1)},
    ):
        assert not verify_attestation("k", mac=mac, **{**fields, **change})
    assert not verify_attestation("other key", mac=mac, **fields)


def test_a_seal_verifies_for_its_hash_only_and_organisations_have_their_own_keys() -> None:
    value = seal(
        "k", organisation_code="ORG1", organisation_name="调解委员会", sha256="c" * 64, sealed_at=AT
    )
    assert value["organisation"] == "ORG1"
    assert value["name"] == "调解委员会"
    assert value["sealed_at"] == "2026-11-27T03:04:05Z"
    assert set(value) == {"organisation", "name", "sha256", "sealed_at", "mac"}
    assert verify_seal("k", value, "c" * 64)
    assert not verify_seal("k", value, "d" * 64)
    assert not verify_seal("other key", value, "c" * 64)
    assert not verify_seal("k", {**value, "organisation": "ORG2"}, "c" * 64)
    assert not verify_seal("k", {**value, "name": "别的组织"}, "c" * 64)
    assert not verify_seal("k", {k: v for k, v in value.items() if k != "mac"}, "c" * 64)
    other = seal(
        "k", organisation_code="ORG2", organisation_name="调解委员会", sha256="c" * 64, sealed_at=AT
    )
    assert other["mac"] != value["mac"]


def test_a_term_is_drafted_from_the_accepted_offer() -> None:
    from cases.agreements.rules import AcceptedTerms, term_from_offer

    offer = AcceptedTerms("3200.00", "七日内银行转账", "applicant", "respondent")
    term = term_from_offer(offer, date(2026, 12, 3))
    assert term == {
        "text": "被申请人向申请人支付人民币3,200.00元",
        "obligor_side": "respondent",
        "amount": "3200.00",
        "manner": "七日内银行转账",
        "due_on": "2026-12-18",
    }
    # Without conditions the manner is a bank transfer; the draft passes the editor's checks.
    bare = term_from_offer(AcceptedTerms("1280", "", "respondent", "applicant"), date(2026, 12, 3))
    assert bare["manner"] == "银行转账" and bare["amount"] == "1280.00"
    parties = [
        {
            "side": "applicant",
            "name": "张三",
            "kind": "natural_person",
            "id_number": "",
            "service_address": "上海",
        },
        {
            "side": "respondent",
            "name": "某旅行社",
            "kind": "merchant",
            "id_number": "",
            "service_address": "上海",
        },
    ]
    drafted = prefill(parties, "事实", "退款", offer, date(2026, 12, 3))
    assert drafted["terms"] == [term]
    assert prefill(parties, "事实", "退款")["terms"] == []
