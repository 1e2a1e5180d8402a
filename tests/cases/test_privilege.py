"""The privilege filter at the court handoff (online mediation rules Art. 18, 21)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cases.court.privilege import (
    CaseRecordForCourt,
    NegotiationEntry,
    PrivilegeError,
    RoomMessage,
    TimelineEntry,
    assert_privileged_absent,
    filter_for_court,
    privileged_strings,
)
from courtwire.package import (
    CourtEvidence,
    CourtPackage,
    CourtParty,
    CourtTimelineEvent,
    FailureRecord,
    SignedAgreement,
    package_to_json,
)

FACTS = "申请人报名参加云南六日游，旅行社擅自取消了玉龙雪山行程。"
REQUEST = "请求被申请人退还未履行项目费用并赔偿违约金。"

PARTIES = (
    CourtParty("张三", "natural_person", "310105199001011234", "zhangsan@example.cn", "applicant"),
    CourtParty(
        "上海某某旅行社有限公司",
        "organisation",
        "91310105MA1FL0000X",
        "上海市长宁区延安西路1号",
        "respondent",
    ),
)
EVIDENCE = (
    CourtEvidence("旅游合同.pdf", "a" * 64, "application/pdf", 120_034, "applicant"),
    CourtEvidence("行程变更通知截图.png", "b" * 64, "image/png", 48_000, "applicant"),
    CourtEvidence("地接社函件.pdf", "c" * 64, "application/pdf", 9_000, "respondent"),
)
TIMELINE = (
    TimelineEntry(
        "filed",
        "2026-03-01T10:00:00+08:00",
        {"number": "CNM-2026-T-00012", "category": "tour_contract", "claim_amount": "3000.00"},
    ),
    TimelineEntry(
        "evidence_added",
        "2026-03-01T10:00:00+08:00",
        {"filename": "旅游合同.pdf", "sha256": "a" * 64},
    ),
    TimelineEntry(
        "status_changed",
        "2026-03-02T09:00:00+08:00",
        {"status": ["submitted", "awaiting_consent"], "reply_due": "2026-03-05"},
    ),
    TimelineEntry(
        "session_scheduled", "2026-03-03T09:00:00+08:00", {"session_id": 4, "note": "线上会议室A"}
    ),
    TimelineEntry("mediator_chosen", "2026-03-03T09:10:00+08:00", {"mediator_id": 7}),
    TimelineEntry(
        "transcript_made", "2026-03-04T17:00:00+08:00", {"excerpt": "调解员：请双方陈述意见"}
    ),
    TimelineEntry(
        "status_changed",
        "2026-03-05T12:00:00+08:00",
        {"status": ["in_mediation", "failed"], "reason": "申请人在背靠背时说底线是两千"},
    ),
)

# Privileged content, each piece distinctive so a leak anywhere is unambiguous.
CAUCUS_APPLICANT = "其实我最低可以接受两千元，只要今天能了结"
CAUCUS_RESPONDENT = "我们公司去年也被投诉过同样的行程问题"
CAUCUS_MEDIATOR = "调解员私下提示：对方资金紧张，可能愿意分期"
CONCESSION_APPLICANT = "我承认签合同时看到了行程可能调整的条款"
CONCESSION_RESPONDENT = "我方承认导游当天确实没有提前通知游客"
OFFER_TERMS = "被申请人于七日内退还¥2,999.00并书面道歉"
COUNTER_TERMS = "分三期支付，每期一千元"
ACCEPT_TERMS = "同意第二套方案但需加盖公章"
REJECT_TERMS = "金额太低无法接受这个方案"
CAUCUS_OFFER_TERMS = "背靠背方案：退一半团费并赠送代金券"
NOTE = "调解员记录：双方情绪激动，建议休会十分钟"

ROOM_MESSAGES = (
    RoomMessage("joint", "message", {"text": "大家好，今天我们开始调解。"}, False, None),
    RoomMessage("joint", "message", {"text": "我希望尽快解决这件事情"}, False, "applicant"),
    RoomMessage("caucus:applicant", "message", {"text": CAUCUS_APPLICANT}, False, "applicant"),
    RoomMessage("caucus:applicant", "message", {"text": CAUCUS_MEDIATOR}, False, None),
    RoomMessage("caucus:respondent", "message", {"text": CAUCUS_RESPONDENT}, False, "respondent"),
    RoomMessage("joint", "message", {"text": CONCESSION_APPLICANT}, True, "applicant"),
    RoomMessage("joint", "message", {"text": CONCESSION_RESPONDENT}, True, "respondent"),
    RoomMessage("joint", "offer", {"amount": "2999.00", "text": OFFER_TERMS}, False, "respondent"),
    RoomMessage(
        "joint",
        "offer_response",
        {"offer_seq": 8, "response": "counter", "amount": "1888.88", "text": COUNTER_TERMS},
        False,
        "applicant",
    ),
    RoomMessage(
        "joint",
        "offer_response",
        {"offer_seq": 9, "response": "accept", "text": ACCEPT_TERMS},
        False,
        "respondent",
    ),
    RoomMessage(
        "joint",
        "offer_response",
        {"offer_seq": 8, "response": "reject", "text": REJECT_TERMS},
        False,
        "applicant",
    ),
    RoomMessage(
        "caucus:respondent",
        "offer",
        {"amount": "1500.50", "text": CAUCUS_OFFER_TERMS},
        False,
        "respondent",
    ),
    RoomMessage(
        "caucus:applicant",
        "evidence",
        {"evidence_id": 1, "filename": "旅游合同.pdf", "sha256": "a" * 64},
        False,
        "applicant",
    ),
    RoomMessage("joint", "note", {"text": NOTE}, False, None),
    RoomMessage("joint", "control", {"action": "open_caucus", "side": "applicant"}, False, None),
)

PRIVILEGED = [
    CAUCUS_APPLICANT,
    CAUCUS_RESPONDENT,
    CAUCUS_MEDIATOR,
    CONCESSION_APPLICANT,
    CONCESSION_RESPONDENT,
    OFFER_TERMS,
    COUNTER_TERMS,
    ACCEPT_TERMS,
    REJECT_TERMS,
    CAUCUS_OFFER_TERMS,
    "2999.00",
    "2,999.00",
    "1888.88",
    "1,888.88",
    "1500.50",
]

FAILURE = FailureRecord(
    undisputed_facts="双方于2026年2月签订包价旅游合同，团费3000元已付清。",
    reasons_for_failure="双方对违约金数额分歧较大，未能达成一致。",
    cost_raising_conduct="被申请人两次无正当理由未按时参加调解。",
)


def rich_record(**changes: object) -> CaseRecordForCourt:
    record = CaseRecordForCourt(
        case_number="CNM-2026-T-00012",
        category="tour_contract",
        claim_amount="3000.00",
        facts=FACTS,
        requested_outcome=REQUEST,
        parties=PARTIES,
        evidence=EVIDENCE,
        timeline=TIMELINE,
        room_messages=ROOM_MESSAGES,
        failure=FAILURE,
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def as_json(package: CourtPackage) -> str:
    return json.dumps(package_to_json(package), ensure_ascii=False)


def test_rich_case_leaks_nothing_privileged() -> None:
    record = rich_record()
    package = filter_for_court(record)
    text = as_json(package)
    for privileged in [*PRIVILEGED, NOTE, "大家好，今天我们开始调解", "我希望尽快解决这件事情"]:
        assert privileged not in text, privileged
    # Nothing from the free-text data of timeline events either.
    for dropped in ["背靠背", "线上会议室A", "调解员：请双方陈述意见", "reply_due", "mediator_id"]:
        assert dropped not in text, dropped
    assert_privileged_absent(package, record)


def test_rich_case_keeps_what_may_cross() -> None:
    package = filter_for_court(rich_record())
    text = as_json(package)
    for kept in [
        "CNM-2026-T-00012",
        "tour_contract",
        "3000.00",
        FACTS,
        REQUEST,
        "张三",
        "310105199001011234",
        "zhangsan@example.cn",
        "上海某某旅行社有限公司",
        "上海市长宁区延安西路1号",
        "旅游合同.pdf",
        "行程变更通知截图.png",
        "地接社函件.pdf",
        "c" * 64,
        FAILURE.undisputed_facts,
        FAILURE.reasons_for_failure,
        FAILURE.cost_raising_conduct,
    ]:
        assert kept in text, kept
    assert package.parties == PARTIES
    assert package.evidence == EVIDENCE
    assert package.failure == FAILURE
    assert package.agreement is None


def test_timeline_keeps_status_changes_and_filing_and_evidence_events_only() -> None:
    package = filter_for_court(rich_record())
    assert package.timeline == (
        CourtTimelineEvent(
            "filed",
            "2026-03-01T10:00:00+08:00",
            {"number": "CNM-2026-T-00012", "category": "tour_contract", "claim_amount": "3000.00"},
        ),
        CourtTimelineEvent(
            "evidence_added",
            "2026-03-01T10:00:00+08:00",
            {"filename": "旅游合同.pdf", "sha256": "a" * 64},
        ),
        CourtTimelineEvent(
            "status_changed",
            "2026-03-02T09:00:00+08:00",
            {"from": "submitted", "to": "awaiting_consent"},
        ),
        CourtTimelineEvent(
            "status_changed", "2026-03-05T12:00:00+08:00", {"from": "in_mediation", "to": "failed"}
        ),
    )


def test_package_has_no_room_field_at_all() -> None:
    names = {field.name for field in dataclasses.fields(CourtPackage)}
    assert names == {
        "case_number",
        "category",
        "claim_amount",
        "facts",
        "requested_outcome",
        "parties",
        "evidence",
        "failure",
        "agreement",
        "timeline",
    }


# One row per category of room content: each alone in a record, each dropped.
ROOM_CATEGORIES = [
    (
        "joint message",
        RoomMessage("joint", "message", {"text": "联合会议中的普通发言内容"}, False, "applicant"),
    ),
    (
        "caucus message",
        RoomMessage("caucus:applicant", "message", {"text": CAUCUS_APPLICANT}, False, "applicant"),
    ),
    (
        "caucus mediator",
        RoomMessage("caucus:respondent", "message", {"text": CAUCUS_MEDIATOR}, False, None),
    ),
    (
        "concession",
        RoomMessage("joint", "message", {"text": CONCESSION_RESPONDENT}, True, "respondent"),
    ),
    (
        "offer",
        RoomMessage(
            "joint", "offer", {"amount": "2999.00", "text": OFFER_TERMS}, False, "respondent"
        ),
    ),
    (
        "counter",
        RoomMessage(
            "joint",
            "offer_response",
            {"offer_seq": 3, "response": "counter", "amount": "1888.88", "text": COUNTER_TERMS},
            False,
            "applicant",
        ),
    ),
    (
        "acceptance",
        RoomMessage(
            "joint",
            "offer_response",
            {"offer_seq": 3, "response": "accept", "text": ACCEPT_TERMS},
            False,
            "applicant",
        ),
    ),
    (
        "caucus offer",
        RoomMessage(
            "caucus:respondent",
            "offer",
            {"amount": "1500.50", "text": CAUCUS_OFFER_TERMS},
            False,
            "respondent",
        ),
    ),
    ("note", RoomMessage("joint", "note", {"text": NOTE}, False, None)),
    (
        "evidence shown",
        RoomMessage(
            "joint",
            "evidence",
            {"evidence_id": 77, "filename": "房间照片.jpg", "sha256": "d" * 64},
            False,
            "applicant",
        ),
    ),
    (
        "control",
        RoomMessage("joint", "control", {"action": "mute", "side": "respondent"}, False, None),
    ),
]


@pytest.mark.parametrize(("label", "message"), ROOM_CATEGORIES, ids=[c[0] for c in ROOM_CATEGORIES])
def test_each_category_of_room_content_is_dropped(label: str, message: RoomMessage) -> None:
    bare = filter_for_court(rich_record(room_messages=()))
    record = rich_record(room_messages=(message,))
    package = filter_for_court(record)
    assert package == bare
    text = as_json(package)
    for value in message.body.values():
        if isinstance(value, str) and len(value) >= 4 and value not in as_json(bare):
            assert value not in text, (label, value)
    assert_privileged_absent(package, record)


EXPECTED_PRIVILEGED = {
    "joint message": set(),  # a plain joint-room message is not privileged
    "caucus message": {CAUCUS_APPLICANT, "其实我最低可以接受两千元", "只要今天能了结"},
    "caucus mediator": {CAUCUS_MEDIATOR, "调解员私下提示：对方资金紧张", "可能愿意分期"},
    "concession": {CONCESSION_RESPONDENT},
    "offer": {OFFER_TERMS, "2999.00", "2,999.00"},
    "counter": {COUNTER_TERMS, "分三期支付", "每期一千元", "1888.88", "1,888.88"},
    "acceptance": {ACCEPT_TERMS},
    "caucus offer": {CAUCUS_OFFER_TERMS, "1500.50", "1,500.50"},
    "note": set(),  # the mediator's joint-room notes (dropped all the same)
    "evidence shown": set(),  # the evidence list crosses anyway
    "control": set(),
}


@pytest.mark.parametrize(("label", "message"), ROOM_CATEGORIES, ids=[c[0] for c in ROOM_CATEGORIES])
def test_privileged_strings_by_category(label: str, message: RoomMessage) -> None:
    expected = EXPECTED_PRIVILEGED[label]
    assert privileged_strings(rich_record(room_messages=(message,))) == expected


def test_short_strings_do_not_count() -> None:
    messages = tuple(
        RoomMessage("caucus:applicant", "message", {"text": text}, False, "applicant")
        for text in ("好的", "同意！", "嗯，好")
    )
    assert privileged_strings(rich_record(room_messages=messages)) == set()


@pytest.mark.parametrize("privileged", [CAUCUS_APPLICANT, CAUCUS_RESPONDENT, CAUCUS_MEDIATOR])
def test_assert_catches_a_package_tampered_with_a_caucus_string(privileged: str) -> None:
    record = rich_record()
    package = filter_for_court(record)
    tampered = dataclasses.replace(package, facts=f"{package.facts}另：{privileged}")
    with pytest.raises(PrivilegeError) as caught:
        assert_privileged_absent(tampered, record)
    assert privileged in caught.value.found


@pytest.mark.parametrize(
    "tamper",
    [
        # a caucus sentence pasted into the failure record by the mediator
        lambda p: dataclasses.replace(
            p, failure=dataclasses.replace(FAILURE, reasons_for_failure="只要今天能了结")
        ),
        # a concession in the statement of undisputed facts
        lambda p: dataclasses.replace(
            p, failure=dataclasses.replace(FAILURE, undisputed_facts=CONCESSION_APPLICANT)
        ),
        # a rejected counter-offer's amount in the request
        lambda p: dataclasses.replace(p, requested_outcome="请求支付1,888.88元"),
        # an offer_response's text in a timeline event
        lambda p: dataclasses.replace(
            p,
            timeline=(*p.timeline, CourtTimelineEvent("status_changed", "x", {"to": REJECT_TERMS})),
        ),
        # an offer's terms in a party's service address
        lambda p: dataclasses.replace(
            p, parties=(dataclasses.replace(PARTIES[0], service_address=OFFER_TERMS), PARTIES[1])
        ),
    ],
    ids=["failure-record", "concession", "counter-amount", "timeline", "party-field"],
)
def test_assert_catches_privileged_text_anywhere(tamper: object) -> None:
    record = rich_record()
    package = filter_for_court(record)
    assert callable(tamper)
    with pytest.raises(PrivilegeError):
        assert_privileged_absent(tamper(package), record)


def test_agreed_terms_may_appear_in_the_signed_agreement() -> None:
    # The accepted offer's amount and terms are the agreement: the court must see it for
    # judicial confirmation (Civil Procedure interpretation Art. 354).
    agreement = SignedAgreement(
        text=f"经调解，双方自愿达成如下协议：{OFFER_TERMS}。本协议自各方签字之日起生效。",
        sha256="e" * 64,
        signed_at="2026-03-06T15:00:00+08:00",
    )
    record = rich_record(failure=None, agreement=agreement)
    package = filter_for_court(record)
    assert package.agreement == agreement
    assert_privileged_absent(package, record)
    text = as_json(package)
    for privileged in [CAUCUS_APPLICANT, CONCESSION_RESPONDENT, COUNTER_TERMS, "1888.88"]:
        assert privileged not in text


def test_an_agreement_that_is_not_the_signed_one_is_refused() -> None:
    agreement = SignedAgreement("协议正文内容如下", "e" * 64, "2026-03-06T15:00:00+08:00")
    record = rich_record(agreement=agreement)
    package = filter_for_court(record)
    forged = dataclasses.replace(agreement, text=f"协议正文内容如下{CAUCUS_APPLICANT}")
    with pytest.raises(PrivilegeError):
        assert_privileged_absent(dataclasses.replace(package, agreement=forged), record)


def test_an_offer_of_the_full_claim_does_not_flag_the_claim() -> None:
    offer = RoomMessage("joint", "offer", {"amount": "3000.00", "text": ""}, False, "respondent")
    record = rich_record(room_messages=(offer,))
    assert "3000.00" in privileged_strings(record)
    assert_privileged_absent(filter_for_court(record), record)


@pytest.mark.parametrize("amount", ["abc", "NaN", "-1", ""])
def test_bad_claim_amount_is_refused(amount: str) -> None:
    with pytest.raises(ValueError):
        filter_for_court(rich_record(claim_amount=amount))


def test_package_json_is_plain_data() -> None:
    data = package_to_json(filter_for_court(rich_record()))
    assert json.loads(json.dumps(data)) == data
    assert data["parties"][0]["name"] == "张三"  # type: ignore[index]


def test_every_privileged_piece_of_the_rich_case_is_known_to_the_check() -> None:
    found = privileged_strings(rich_record())
    assert set(PRIVILEGED) <= found
    assert NOTE not in found


# --- merchants answer first (先行协商): the negotiation before mediation --------------------

NEGOTIATION_TERMS = "原路退回并另赠三百元代金券"
NEGOTIATION_QUESTION = "请问您是否已经签收了退回的行李箱"
NEGOTIATION_DECLINE = "本店认为行程取消属于不可抗力"
NEGOTIATION = (
    NegotiationEntry("proposal", "merchant", "", "refund", "2450.50", NEGOTIATION_TERMS),
    NegotiationEntry("question", "merchant", NEGOTIATION_QUESTION),
    NegotiationEntry("reply", "consumer", "还没有收到任何退款或者物品"),
    NegotiationEntry("refuse", "consumer", "金额太低无法接受此方案"),
    NegotiationEntry("decline", "merchant", NEGOTIATION_DECLINE),
)


def test_what_was_offered_in_negotiation_never_crosses() -> None:
    record = rich_record(negotiation=NEGOTIATION)
    found = privileged_strings(record)
    assert {NEGOTIATION_TERMS, NEGOTIATION_QUESTION, NEGOTIATION_DECLINE} <= found
    assert {"2450.50", "2,450.50", "还没有收到任何退款或者物品"} <= found
    package = filter_for_court(record)
    text = as_json(package)
    for privileged in (NEGOTIATION_TERMS, NEGOTIATION_QUESTION, NEGOTIATION_DECLINE, "2450.50"):
        assert privileged not in text
    assert_privileged_absent(package, record)


@pytest.mark.parametrize(
    "leak",
    [NEGOTIATION_TERMS, "商家曾提出退款2,450.50元", NEGOTIATION_DECLINE, "金额太低无法接受此方案"],
)
def test_assert_catches_negotiation_text_in_the_failure_record(leak: str) -> None:
    record = rich_record(negotiation=NEGOTIATION)
    package = filter_for_court(record)
    tampered = dataclasses.replace(
        package, failure=dataclasses.replace(FAILURE, reasons_for_failure=leak)
    )
    with pytest.raises(PrivilegeError):
        assert_privileged_absent(tampered, record)
