"""A case on its way to the court: in mediation, with evidence on disk and a session whose
rooms hold everything privilege must keep back (caucus talk, concessions, offers), stored
through realtime's own writer; and, when asked, an agreement in effect.

Every privileged text is distinctive, so a leak anywhere in a package is unambiguous.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mediation.settings import Settings
from tests.support.factories import filing_fields, party_ids, resident_id, uscc
from tests.support.rooms import build_room_world

CAUCUS_APPLICANT = "其实我最低可以接受两千元只要今天能了结"
CAUCUS_MEDIATOR = "调解员私下提示对方资金紧张可能愿意分期"
CAUCUS_RESPONDENT = "我们公司去年也被投诉过同样的行程问题"
CONCESSION_APPLICANT = "我承认签合同时看到了行程可能调整的条款"
CONCESSION_RESPONDENT = "我方承认导游当天确实没有提前通知游客"
OFFER_TERMS = "被申请人七日内退还两千九百九十九元并书面道歉"
COUNTER_TERMS = "分三期支付每期一千元可以接受"
CAUCUS_OFFER_TERMS = "背靠背方案退一半团费并赠送代金券"
OFFER_AMOUNT = "2999.00"
COUNTER_AMOUNT = "1888.88"
JOINT_TEXT = "大家好今天我们开始调解请双方陈述"

PRIVILEGED = (
    CAUCUS_APPLICANT,
    CAUCUS_MEDIATOR,
    CAUCUS_RESPONDENT,
    CONCESSION_APPLICANT,
    CONCESSION_RESPONDENT,
    OFFER_TERMS,
    COUNTER_TERMS,
    CAUCUS_OFFER_TERMS,
    OFFER_AMOUNT,
    "2,999.00",
    COUNTER_AMOUNT,
)

UNDISPUTED = "申请人于2026年10月报名参加被申请人组织的云南六日游并已支付团费3680元。"
REASONS = "双方对退款金额分歧较大，经两次调解未能达成一致。"
COSTS = "无。"

CONTRACT = b"%PDF-1.4 tour contract for the court"
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"itinerary change notice" * 4
FOREIGN = b"%PDF-1.4 another case's evidence"


@dataclass(frozen=True)
class CourtWorld:
    case_id: int
    case_number: str
    session_id: int
    user_ids: dict[str, int]
    evidence: dict[str, str]  # filename -> sha256
    other_case_number: str  # a second case, with evidence of its own
    other_evidence_sha256: str


async def store_room_messages(session_id: int, user_ids: dict[str, int]) -> None:
    """The rich session, through realtime's writer (the same path as live messages)."""
    from realtime.protocol import Kind, Participant, Post
    from realtime.store import Writer, ensure_rooms

    async def publish(session_id: int, room: str, messages: list[Any]) -> None:
        return None

    mediator = Participant(user_ids["mediator"], "调解员 王", True, None)
    applicant = Participant(user_ids["applicant"], "张三", False, "applicant")
    respondent = Participant(user_ids["respondent"], "某旅行社", False, "respondent")
    await ensure_rooms(session_id)
    writer = Writer(publish)
    writer.start()
    n = iter(range(1, 1000))

    async def say(who: Participant, room: str, kind: Kind, body: dict[str, Any], **kw: Any) -> int:
        stored = await writer.append(session_id, who, Post(room, f"m{next(n)}", kind, body, **kw))
        return stored.seq

    try:
        await say(mediator, "joint", Kind.MESSAGE, {"text": JOINT_TEXT})
        await say(applicant, "caucus:applicant", Kind.MESSAGE, {"text": CAUCUS_APPLICANT})
        await say(mediator, "caucus:applicant", Kind.MESSAGE, {"text": CAUCUS_MEDIATOR})
        await say(respondent, "caucus:respondent", Kind.MESSAGE, {"text": CAUCUS_RESPONDENT})
        await say(applicant, "joint", Kind.MESSAGE, {"text": CONCESSION_APPLICANT}, concession=True)
        await say(
            respondent, "joint", Kind.MESSAGE, {"text": CONCESSION_RESPONDENT}, concession=True
        )
        offer = await say(
            respondent, "joint", Kind.OFFER, {"amount": OFFER_AMOUNT, "text": OFFER_TERMS}
        )
        await say(
            applicant,
            "joint",
            Kind.OFFER_RESPONSE,
            {
                "offer_seq": offer,
                "response": "counter",
                "amount": COUNTER_AMOUNT,
                "text": COUNTER_TERMS,
            },
        )
        await say(
            respondent,
            "caucus:respondent",
            Kind.OFFER,
            {"amount": "1840.00", "text": CAUCUS_OFFER_TERMS},
        )
    finally:
        await writer.stop()


async def build_court_world(settings: Settings) -> CourtWorld:
    from cases.actions import Filer
    from cases.evidence_store import store_blob
    from cases.intake import file_dispute
    from cases.models import Case, Evidence, Side
    from cases.status import Status

    room = await build_room_world(settings)
    users = room.user_ids
    case = await Case.get(number=room.case_number)
    now = datetime.now(UTC)
    evidence = {}
    for name, data, media_type, side in (
        ("旅游合同.pdf", CONTRACT, "application/pdf", Side.APPLICANT),
        ("行程变更通知.png", SCREENSHOT, "image/png", Side.RESPONDENT),
    ):
        digest = store_blob(settings.evidence_dir, data)
        await Evidence.create(
            case=case,
            side=side,
            filename=name,
            media_type=media_type,
            size=len(data),
            sha256=digest,
            created_at=now,
        )
        evidence[name] = digest
    await store_room_messages(room.session_id, users)
    from cases.sessions.models import MediationSession, SessionStatus

    await MediationSession.filter(id=room.session_id).update(
        status=SessionStatus.ENDED, ended_at=now
    )
    other = await file_dispute(settings, filing_fields(**party_ids(2)), [], Filer(), now)
    await Case.filter(id=other.id).update(status=Status.IN_MEDIATION)
    foreign = store_blob(settings.evidence_dir, FOREIGN)
    await Evidence.create(
        case=other,
        side=Side.APPLICANT,
        filename="other.pdf",
        media_type="application/pdf",
        size=len(FOREIGN),
        sha256=foreign,
        created_at=now,
    )
    return CourtWorld(
        case_id=case.id,
        case_number=case.number,
        session_id=room.session_id,
        user_ids=users,
        evidence=evidence,
        other_case_number=other.number,
        other_evidence_sha256=foreign,
    )


# --- an agreement in effect ----------------------------------------------------------------------

AGREED_TERM = "被申请人向申请人退还团费3000元。"


def agreement_content(due: date, terms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "parties": [
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
        ],
        "facts": "申请人报名参加云南六日游，被申请人于出发前三日取消行程。",
        "disputed_matters": "团费是否应当全额退还。",
        "responsibilities": "被申请人应承担主要责任。",
        "terms": terms
        or [
            {
                "text": AGREED_TERM,
                "obligor_side": "respondent",
                "amount": "3000.00",
                "manner": "银行转账",
                "due_on": due.isoformat(),
            }
        ],
        "other": "",
    }


async def make_effective_agreement(
    settings: Settings,
    world: CourtWorld,
    *,
    effective_at: datetime | None = None,
    terms: list[dict[str, Any]] | None = None,
    signers: tuple[str, ...] = ("applicant", "respondent", "mediator"),
    pdf: bytes | None = b"%PDF-1.4 the signed agreement",
) -> int:
    """An effective version signed by `signers` and sealed; the case becomes SETTLED."""
    from cases.accounts.models import Organisation
    from cases.agreements import rules
    from cases.agreements.models import (
        AgreementSignature,
        AgreementStatus,
        AgreementVersion,
        SignatureMethod,
        SignerRole,
    )
    from cases.evidence_store import store_blob
    from cases.models import Case
    from cases.status import Status

    case = await Case.get(id=world.case_id)
    organisation = await Organisation.get(id=case.organisation_id)
    at = effective_at or datetime.now(UTC)
    content = agreement_content(at.date() + timedelta(days=10), terms)
    text = rules.render_text(
        content,
        track="peoples",
        organisation_name=organisation.name,
        case_number=case.number,
        version_number=1,
        mediator_name="调解员 王",
    )
    digest = rules.text_sha256(text)
    pdf_sha = store_blob(settings.evidence_dir, pdf) if pdf else None
    version = await AgreementVersion.create(
        case=case,
        number=1,
        template="peoples",
        status=AgreementStatus.EFFECTIVE,
        content=content,
        text=text,
        sha256=digest,
        drafted_by_id=world.user_ids["mediator"],
        created_at=at - timedelta(hours=1),
        frozen_at=at - timedelta(minutes=30),
        effective_at=at,
        sealed_by=organisation,
        seal=rules.seal(
            settings.secret_key,
            organisation_code=organisation.code,
            organisation_name=organisation.name,
            sha256=digest,
            sealed_at=at,
        ),
        pdf_sha256=pdf_sha,
        pdf_size=len(pdf) if pdf else None,
    )
    for role in signers:
        await AgreementSignature.create(
            version=version,
            role=SignerRole(role),
            signer_id=world.user_ids[role],
            method=SignatureMethod.PASSWORD,
            signed_sha256=digest,
            attestation=hashlib.sha256(role.encode()).hexdigest(),
            signed_at=at,
        )
    await Case.filter(id=case.id).update(status=Status.SETTLED, mediation_ended_at=at)
    return int(version.id)
