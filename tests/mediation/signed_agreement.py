"""An effective, signed agreement in the test database, built row by row (the signing
actions are tested on their own): a case in mediation, a version signed by both parties and
the mediator, sealed, with performance items for its terms that have a time limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mediation.settings import Settings
from tests.support.factories import resident_id, uscc
from tests.support.rooms import build_room_world

APPLICANT_NAME = "张三"
RESPONDENT_NAME = "上海某某国际旅行社有限公司"
# Everything personal the world holds: none of it may reach the public verification page.
PERSONAL_DATA = (
    APPLICANT_NAME,
    RESPONDENT_NAME,
    "某旅行社",  # the respondent's account name
    "调解员 王",  # the mediator's name
    resident_id(),
    uscc(),
    "13812345678",
    "13900001111",
    "zhangsan@example.com",
    "service@travel.example.com",
    "上海市长宁区愚园路100号",
)
TERM_REFUND = "被申请人向申请人退还团费人民币叁仟元整（¥3,000.00），通过银行转账支付。"
TERM_WITHDRAW = "申请人收到退款后三日内撤回对被申请人的旅游投诉。"
TERM_APOLOGY = "被申请人向申请人书面致歉。"


@dataclass(frozen=True)
class SignedWorld:
    case_id: int
    case_number: str
    version_id: int
    organisation_name: str
    user_ids: dict[str, int]
    item_ids: dict[str, int]  # "refund" (respondent owes), "withdraw" (applicant owes)


def agreement_content(refund_due: date, withdraw_due: date) -> dict[str, Any]:
    return {
        "parties": [
            {
                "side": "applicant",
                "name": APPLICANT_NAME,
                "kind": "natural_person",
                "id_number": resident_id(),
                "service_address": "上海市长宁区愚园路100号",
            },
            {
                "side": "respondent",
                "name": RESPONDENT_NAME,
                "kind": "merchant",
                "id_number": uscc(),
                "service_address": "上海市长宁区延安西路200号",
            },
        ],
        "facts": "申请人报名参加被申请人组织的云南六日游，被申请人于出发前三日单方取消行程。",
        "disputed_matters": "团费是否应当全额退还。",
        "responsibilities": "被申请人未按约定履行旅游合同，应承担主要责任。",
        "terms": [
            {
                "text": TERM_REFUND,
                "obligor_side": "respondent",
                "amount": "3000.00",
                "manner": "银行转账",
                "due_on": refund_due.isoformat(),
            },
            {
                "text": TERM_WITHDRAW,
                "obligor_side": "applicant",
                "amount": None,
                "manner": "",
                "due_on": withdraw_due.isoformat(),
            },
            {
                "text": TERM_APOLOGY,
                "obligor_side": "respondent",
                "amount": None,
                "manner": "书面",
                "due_on": None,
            },
        ],
        "other": "本协议一式三份，双方当事人及调解组织各执一份。",
    }


async def build_signed_world(
    settings: Settings,
    *,
    effective_at: datetime | None = None,
    refund_due: date | None = None,
    withdraw_due: date | None = None,
) -> SignedWorld:
    from cases.accounts.models import Organisation
    from cases.agreements import rules
    from cases.agreements.models import (
        AgreementSignature,
        AgreementStatus,
        AgreementVersion,
        SignatureMethod,
        SignerRole,
    )
    from cases.models import Case
    from cases.performance.models import PerformanceItem
    from cases.status import Status

    world = await build_room_world(settings)
    users = world.user_ids
    case = await Case.get(number=world.case_number)
    organisation = await Organisation.get(id=case.organisation_id)
    at = effective_at or datetime.now(UTC)
    today = at.date()
    content = agreement_content(
        refund_due or today + timedelta(days=10), withdraw_due or today + timedelta(days=20)
    )
    text = rules.render_text(
        content,
        track="peoples",
        organisation_name=organisation.name,
        case_number=case.number,
        version_number=1,
        mediator_name="调解员 王",
    )
    digest = rules.text_sha256(text)
    version = await AgreementVersion.create(
        case=case,
        number=1,
        template="peoples",
        status=AgreementStatus.EFFECTIVE,
        content=content,
        text=text,
        sha256=digest,
        drafted_by_id=users["mediator"],
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
    )
    signers = [
        (SignerRole.APPLICANT, users["applicant"], SignatureMethod.PASSWORD, 20),
        (SignerRole.RESPONDENT, users["respondent"], SignatureMethod.SMS_CODE, 10),
        (SignerRole.MEDIATOR, users["mediator"], SignatureMethod.PASSWORD, 0),
    ]
    for role, user_id, method, minutes_before in signers:
        await AgreementSignature.create(
            version=version,
            role=role,
            signer_id=user_id,
            method=method,
            signed_sha256=digest,
            attestation="0" * 64,
            signed_at=at - timedelta(minutes=minutes_before),
        )
    items: dict[str, int] = {}
    names = {1: "refund", 2: "withdraw"}
    for planned in rules.performance_plan(content):
        item = await PerformanceItem.create(
            version=version,
            case=case,
            term_number=planned.term_number,
            obligor_side=planned.obligor_side,
            description=planned.description,
            due_on=planned.due_on,
        )
        items[names[planned.term_number]] = item.id
    await Case.filter(id=case.id).update(status=Status.SETTLED, mediation_ended_at=at)
    return SignedWorld(
        case_id=case.id,
        case_number=case.number,
        version_id=version.id,
        organisation_name=organisation.name,
        user_ids=users,
        item_ids=items,
    )
