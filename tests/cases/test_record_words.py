"""Records a party or a court reads are in words (issue 11): a timeline with every kind of
event, and a transcript with every kind of thing said in a room, rendered in Chinese and in
English, carry no internal code, no ISO timestamp and no identifier of the other language.

The platform's catalog and the court desk's both say the timeline (the desk reads what crosses:
filing, evidence and status changes)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cases.clock import say_date, say_time
from cases.sessions.actions import TranscriptHeader, transcript_lines, transcript_text
from cases.timeline import (
    ACTOR_LABELS,
    REGIME_LABELS,
    STATUS_LABELS,
    EventKind,
    Reader,
    event_words,
    name_without_title,
    say_amount,
)
from courtdesk import web as desk_web
from courtdesk.i18n import translations as desk_translations
from mediation.web import record_reader
from realtime.models import RoomMessage
from realtime.protocol import Control, Kind, OfferResponse

MERCHANT = "上海悦游旅行社有限公司"  # an organisation's registered name, said as registered
AT = datetime(2026, 12, 3, 12, 32, 20, 326325, tzinfo=UTC)  # 20:32:20 in Beijing


# What each kind of event records (as the actions record it), with free text a person wrote
# in the reader's own language.
def _data(free: str) -> dict[EventKind, dict[str, Any]]:
    return {
        EventKind.FILED: {
            "number": "CNM-2026-T-00001",
            "category": "tour_contract",
            "claim_amount": "3200.00",
        },
        EventKind.CASE_CLAIMED: {},
        EventKind.EVIDENCE_ADDED: {"filename": free, "sha256": "ab" * 32},
        EventKind.FILING_MERGED: {"channel": "partner", "matched_by": "same_order_number"},
        EventKind.STATUS_CHANGED: {
            "status": ["submitted", "awaiting_consent"],
            "filing_id": "f-0001",
            "court_status": "docketed",
            "court_case_number": "(2026)沪0105民初1号",
            "reason": free,
        },
        EventKind.DEADLINE_OPENED: {
            "regime": "online_mediation",
            "due_on": "2027-01-04",
            "provisional": True,
        },
        EventKind.DEADLINE_PAUSED: {
            "regime": "online_mediation",
            "start": "2026-12-05",
            "reason": free,
        },
        EventKind.DEADLINE_RESUMED: {
            "regime": "online_mediation",
            "end": "2026-12-08",
            "due_on": "2027-01-07",
        },
        EventKind.DEADLINE_EXTENDED: {
            "regime": "consumer_mediation",
            "days": 10,
            "unit": "working_days",
            "reason": free,
            "due_on": ["2027-01-04", "2027-01-18"],
        },
        EventKind.MEDIATOR_CHOSEN: {"side": "applicant", "mediator_id": 7},
        EventKind.NO_MEDIATOR_AVAILABLE: {"excluded": [3, 4]},
        EventKind.CONFLICT_DISCLOSED: {"statement": free},
        EventKind.NO_CONFLICT_DECLARED: {"statement": free},
        EventKind.ORGANISATION_OVERRIDDEN: {"organisation": [1, 2], "reason": free},
        EventKind.SESSION_SCHEDULED: {
            "session_id": 4,
            "starts_at": "2026-12-08T12:28:00+00:00",
            "mode": "back_to_back",
        },
        EventKind.SESSION_RESCHEDULED: {
            "session_id": 4,
            "starts_at": ["2026-12-08T12:28:00+00:00", "2026-12-09T02:00:00+00:00"],
            "reason": free,
        },
        EventKind.SESSION_NO_SHOW: {"session_id": 4, "side": "respondent"},
        EventKind.SESSION_ENDED: {"session_id": 4},
        EventKind.TRANSCRIPT_MADE: {"session_id": 4, "sha256": "cd" * 32},
        EventKind.TRANSCRIPT_CONFIRMED: {"side": "applicant", "sha256": "cd" * 32},
        EventKind.AGREEMENT_DRAFTED: {"version": 2, "sha256": "ef" * 32, "superseded": [1]},
        EventKind.AGREEMENT_FROZEN: {"version": 2, "sha256": "ef" * 32},
        EventKind.AGREEMENT_SIGNED: {
            "version": 2,
            "role": "respondent",
            "method": "sms_code",
            "sha256": "ef" * 32,
        },
        EventKind.AGREEMENT_EFFECTIVE: {
            "version": 2,
            "sha256": "ef" * 32,
            "organisation": "CN-TQO",
        },
        EventKind.AGREEMENT_PDF_ISSUED: {"version": 2, "sha256": "ef" * 32},
        EventKind.AGREEMENT_WITHDRAWN_MEDIATION_ENDED: {"version": 2, "case_status": "failed"},
        EventKind.AGREEMENT_WITHDRAWN_MEDIATOR_REPLACED: {"version": 2, "case_status": "assigning"},
        EventKind.PERFORMANCE_MARKED: {"term": 1, "note": free},
        EventKind.PERFORMANCE_CONFIRMED: {"term": 1, "note": ""},
        EventKind.PERFORMANCE_DISPUTED: {"term": 1, "note": free},
        EventKind.PERFORMANCE_REMINDED: {"term": 1, "due_on": "2026-12-03", "reminder": "overdue"},
        EventKind.END_RECORD_COMPLETED: {},
        EventKind.COURT_FILING_CREATED: {
            "filing_id": "f-0001",
            "filing_kind": "confirmation",
            "corrects": "f-0000",
        },
        EventKind.CONFIRMATION_APPLIED: {"side": "respondent"},
        EventKind.COURT_CORRECTION: {
            "changed": ["facts", "respondent_service_address"],
            "filing_id": "f-0001",
        },
        EventKind.COURT_DECISION: {
            "filing_id": "f-0001",
            "court_status": "confirmed",
            "court_case_number": "(2026)沪0105诉前调确1号",
            "reason": free,
        },
        EventKind.NEGOTIATION_OPENED: {"merchant": MERCHANT, "due_on": "2026-12-17"},
        EventKind.REMEDY_PROPOSED: {"remedy": "refund"},
        EventKind.MERCHANT_ASKED: {},
        EventKind.NEGOTIATION_REPLIED: {"side": "consumer"},
        EventKind.MERCHANT_DECLINED: {},
        EventKind.REMEDY_ACCEPTED: {},
        EventKind.REMEDY_REFUSED: {},
        EventKind.NEGOTIATION_EXPIRED: {},
        EventKind.REMEDY_MARKED_PERFORMED: {},
        EventKind.REMEDY_PERFORMANCE_CONFIRMED: {},
        EventKind.REMEDY_PERFORMANCE_DISPUTED: {},
        EventKind.SETTLEMENT_REOPENED: {},
        EventKind.COURT_FILING_REPLAYED: {"filing_id": "f-0001"},
        EventKind.COURT_LINKS_REVOKED: {"filing_id": "f-0001"},
    }


ACTORS = {  # who records each kind (TimelineEvent.actor_label), the rest by a person's id
    EventKind.FILED: "partner:携程",
    EventKind.CASE_CLAIMED: "applicant",
    EventKind.FILING_MERGED: "partner:携程",
    EventKind.STATUS_CHANGED: "court",
    EventKind.DEADLINE_OPENED: "system",
    EventKind.MEDIATOR_CHOSEN: "applicant",
    EventKind.SESSION_ENDED: "mediator",
    EventKind.NEGOTIATION_OPENED: "system",
    EventKind.NEGOTIATION_EXPIRED: "system",
}

# Every code the events above store: none may be shown as it is.
STORED_CODES = {
    "same_order_number",
    "submitted",
    "awaiting_consent",
    "docketed",
    "confirmed",
    "online_mediation",
    "consumer_mediation",
    "working_days",
    "back_to_back",
    "respondent",
    "applicant",
    "sms_code",
    "confirmation",
    "facts",
    "respondent_service_address",
    "tour_contract",
    "f-0001",
    "f-0000",
    "CN-TQO",
    "system",
    "court",
    "mediator",
    "refund",
    "consumer",
}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|\+00:00|UTC")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u3400-\u9fff]")
COURT_NUMBER = re.compile(r"\(\d{4}\)沪\d{4}[\u3400-\u9fff]+\d+号")
# What is allowed to stay as it is in Chinese text: names and numbers the records carry.
ZH_KEEPS = ("CNM-2026-T-00001", "SHA-256", "PDF")

ZH_FREE, EN_FREE = "旅客因病未能出行", "The traveller fell ill"
ZH_NAMES, EN_NAMES = {7: "调解员 孙立"}, {7: "Sun Li"}


def _platform(locale: str, names: dict[int, str]) -> Reader:
    return replace(record_reader(locale), names=names)


def _desk(locale: str) -> Reader:
    return Reader(say=desk_translations(locale).gettext, locale=locale)


def _timeline_text(reader: Reader, free: str, names: dict[int, str]) -> dict[EventKind, str]:
    out = {}
    for kind, data in _data(free).items():
        label = ACTORS.get(kind, "")
        name = "" if label else ("孙立" if reader.locale == "zh_CN" else "Sun Li")
        words = event_words(kind, data, reader, actor_label=label, actor_name=name)
        out[kind] = "\n".join([words.what, words.who, *words.details])
    return out


def status_words(locale: str, status: str) -> str:
    return desk_translations(locale).gettext(STATUS_LABELS[status])


def _assert_chinese(text: str, where: object) -> None:
    bare = text
    for kept in ZH_KEEPS:
        bare = bare.replace(kept, "")
    assert not ISO.search(bare), (where, text)
    assert not SNAKE.search(bare), (where, text)
    assert not LATIN_WORD.search(bare), (where, text)  # no English word, no code
    assert HAN.search(bare), (where, text)


def _assert_english(text: str, where: object, free: str) -> None:
    assert not ISO.search(text), (where, text)
    assert not SNAKE.search(text), (where, text)
    # A court's case number is the court's own name for the case, said as the court says it;
    # so are the names of a partner platform and of a merchant.
    bare = COURT_NUMBER.sub("", text).replace("携程", "").replace(MERCHANT, "")
    assert not HAN.search(bare), (where, text)
    for code in STORED_CODES:
        if not code.isalpha():  # plain words ("confirmed") are English too; codes are not
            assert code not in text, (where, code, text)


def test_the_data_covers_every_kind() -> None:
    assert set(_data("")) == set(EventKind)


@pytest.mark.parametrize("kind", list(EventKind))
def test_a_timeline_event_is_in_chinese_words(kind: EventKind) -> None:
    text = _timeline_text(_platform("zh_CN", ZH_NAMES), ZH_FREE, ZH_NAMES)[kind]
    _assert_chinese(text, kind)


@pytest.mark.parametrize("kind", list(EventKind))
def test_a_timeline_event_is_in_english_words(kind: EventKind) -> None:
    text = _timeline_text(_platform("en", EN_NAMES), EN_FREE, EN_NAMES)[kind]
    _assert_english(text, kind, EN_FREE)


def test_the_timeline_says_what_the_data_mean() -> None:
    zh = _timeline_text(_platform("zh_CN", ZH_NAMES), ZH_FREE, ZH_NAMES)
    assert "人民币3,200.00元" in zh[EventKind.FILED]
    assert "包价旅游合同" in zh[EventKind.FILED] or "旅游" in zh[EventKind.FILED]
    assert "合作平台 携程" in zh[EventKind.FILED]
    assert (
        "等待被申请人同意" in zh[EventKind.STATUS_CHANGED]
        or "被申请人" in zh[EventKind.STATUS_CHANGED]
    )
    assert "2027年1月4日" in zh[EventKind.DEADLINE_OPENED]
    assert "暂定" in zh[EventKind.DEADLINE_OPENED]
    assert "2026年12月8日 20:28" in zh[EventKind.SESSION_SCHEDULED]  # Beijing time
    assert "背对背" in zh[EventKind.SESSION_SCHEDULED]
    assert "选定的调解员：孙立" in zh[EventKind.MEDIATOR_CHOSEN]
    assert "调解员 调解员" not in "\n".join(zh.values())
    en = _timeline_text(_platform("en", EN_NAMES), EN_FREE, EN_NAMES)
    assert "CNY 3,200.00" in en[EventKind.FILED]
    assert "8 December 2026, 20:28" in en[EventKind.SESSION_SCHEDULED]
    assert "Sun Li" in en[EventKind.MEDIATOR_CHOSEN]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_court_desk_says_what_crosses_in_words(locale: str) -> None:
    # The package's timeline carries filing, evidence and status changes (from/to).
    events = [
        {"kind": "filed", "at": "2026-12-03T12:32:20Z", "data": _data("")[EventKind.FILED]},
        {"kind": "evidence_added", "at": "2026-12-03T12:32:20Z", "data": {"filename": "合同"}},
        {
            "kind": "status_changed",
            "at": "2026-12-03T12:32:20Z",
            "data": {"from": "submitted", "to": "awaiting_consent"},
        },
    ]
    for event in events:
        words = desk_web._timeline_words(locale, event)
        assert words is not None
        text = "\n".join([words.what, words.who, *words.details])
        if locale == "zh_CN":
            _assert_chinese(text, event["kind"])
        else:
            _assert_english(text.replace("合同", ""), event["kind"], "")
    status = desk_web._timeline_words(locale, events[2])
    assert status is not None
    assert status.what == status_words(locale, "awaiting_consent")


# --- the transcript ----------------------------------------------------------------------------


def _row(seq: int, kind: Kind, body: dict[str, Any], side: str | None, name: str) -> RoomMessage:
    return RoomMessage(
        session_id=1,
        room="joint",
        seq=seq,
        sender_id=None if kind is Kind.AGREEMENT else (9 if side is None else seq),
        sender_name="" if kind is Kind.AGREEMENT else name,
        sender_side=side,
        kind=kind.value,
        body=body,
        concession=False,
        client_id=f"c{seq}",
        created_at=AT,
    )


def _room(words: str, names: tuple[str, str, str]) -> list[RoomMessage]:
    mediator, applicant, respondent = names
    rows = [
        _row(1, Kind.CONTROL, {"action": "open_caucus", "side": "respondent"}, None, mediator),
        _row(2, Kind.CONTROL, {"action": "close_caucus", "side": "respondent"}, None, mediator),
        _row(3, Kind.MESSAGE, {"text": words}, "applicant", applicant),
        _row(4, Kind.NOTE, {"text": words}, None, mediator),
        _row(
            5,
            Kind.EVIDENCE,
            {"evidence_id": 1, "filename": words, "sha256": "ab" * 32},
            "applicant",
            applicant,
        ),
        _row(6, Kind.OFFER, {"amount": "3000.00", "text": words}, "respondent", respondent),
        _row(
            7,
            Kind.OFFER_RESPONSE,
            {"offer_seq": 6, "response": "counter", "amount": "3200.00", "text": words},
            "applicant",
            applicant,
        ),
        _row(
            8,
            Kind.OFFER_RESPONSE,
            {"offer_seq": 6, "response": "reject", "text": ""},
            "applicant",
            applicant,
        ),
        _row(
            9,
            Kind.OFFER_RESPONSE,
            {"offer_seq": 6, "response": "accept", "text": ""},
            "applicant",
            applicant,
        ),
        _row(10, Kind.CONTROL, {"action": "mute", "user_id": 3}, None, mediator),
        _row(11, Kind.CONTROL, {"action": "unmute", "user_id": 3}, None, mediator),
        _row(12, Kind.CONTROL, {"action": "remove", "user_id": 3}, None, mediator),
        _row(
            13,
            Kind.AGREEMENT,
            {"version": 2, "status": "signing", "sha256": "ef" * 32, "url": "/x"},
            None,
            "",
        ),
        _row(14, Kind.CONTROL, {"action": "end"}, None, mediator),
    ]
    return rows


def test_the_room_covers_every_kind_control_and_answer() -> None:
    rows = _room("", ("", "", ""))
    assert {r.kind for r in rows} == {k.value for k in Kind}
    assert {r.body.get("action") for r in rows} >= {c.value for c in Control}
    assert {r.body.get("response") for r in rows} >= {r.value for r in OfferResponse}


def _transcript(locale: str, words: str, names: tuple[str, str, str], other: str) -> str:
    reader = _platform(locale, {3: other})
    header = TranscriptHeader("CNM-2026-T-00001", AT, "joint", names[0])
    return transcript_text(header, _room(words, names), reader)


def test_the_chinese_transcript_is_in_words() -> None:
    text = _transcript("zh_CN", "退还团费", ("调解员 孙立", "张伟", "王芳"), "王芳")
    for line in text.splitlines():
        _assert_chinese(line, line) if line.strip() else None
    assert "[2026年12月3日 20:32:20] 调解员 孙立：调解员请被申请人进入单独沟通。" in text
    assert "调解员 调解员" not in text
    assert (
        "被申请人 王芳提出的方案（人民币3,000.00元，条件：退还团费）"
        "提出还价：人民币3,200.00元，条件：退还团费。" in text
    )
    assert "接受被申请人 王芳提出的方案：人民币3,000.00元，条件：退还团费。" in text
    assert "调解员宣布本次调解结束。" in text
    assert "调解时间：2026年12月3日 20:32（北京时间）" in text


def test_the_english_transcript_is_in_words() -> None:
    text = _transcript(
        "en", "refund the tour fee", ("Sun Li", "Zhang Wei", "Wang Fang"), "Wang Fang"
    )
    for line in text.splitlines():
        _assert_english(line, line, "")
    assert "[3 December 2026, 20:32:20] Mediator Sun Li: The mediator asks the respondent" in text
    assert "counter-offer: CNY 3,200.00, on these conditions: refund the tour fee." in text


def test_only_the_joint_room_without_concessions_enters_the_transcript() -> None:
    rows = _room("私下让步", ("调解员 孙立", "张伟", "王芳"))
    rows[2] = replace_row(rows[2], room="caucus:applicant")
    rows[3] = replace_row(rows[3], concession=True)
    lines = transcript_lines(rows, _platform("zh_CN", {}))
    assert len(lines) == len(rows) - 2


def replace_row(row: RoomMessage, **changes: Any) -> RoomMessage:
    copy = RoomMessage(**{f: getattr(row, f) for f in row._meta.fields if f != "id"})
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


# --- the small sayings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "locale", "said"),
    [
        ("2026-12-03T12:32:20.326325+00:00", "zh_CN", "2026年12月3日 20:32"),
        ("2026-12-31T16:05:00+00:00", "zh_CN", "2027年1月1日 00:05"),
        ("2026-12-03T12:32:20+00:00", "en", "3 December 2026, 20:32"),
    ],
)
def test_times_are_beijing_time_as_records_write_them(value: str, locale: str, said: str) -> None:
    assert say_time(value, locale) == said


def test_dates_and_amounts() -> None:
    assert say_date("2027-01-04", "zh_CN") == "2027年1月4日"
    assert say_date("2027-01-04", "en") == "4 January 2027"
    assert say_amount("3200", "zh_CN") == "人民币3,200.00元"
    assert say_amount("1234567.5", "en") == "CNY 1,234,567.50"


@pytest.mark.parametrize(
    ("name", "bare"),
    [("调解员 孙立", "孙立"), ("人民调解员　王芳", "王芳"), ("孙立", "孙立"), ("调解员", "调解员")],
)
def test_a_title_in_a_name_is_not_said_twice(name: str, bare: str) -> None:
    assert name_without_title(name) == bare


def test_every_catalogue_code_is_translated_for_both_audiences() -> None:
    for catalogue in (STATUS_LABELS, REGIME_LABELS, ACTOR_LABELS):
        for label in catalogue.values():
            assert HAN.search(record_reader("zh_CN").say(label)), label
            assert HAN.search(desk_translations("zh_CN").gettext(label)), label
