"""A new dispute against an enrolled merchant goes to that merchant first (先行协商).

Called by `cases.actions.do_file_case` inside the filing's transaction, in place of the
respondent's invitation: the consumer consented by filing, and the merchant, by enrolling,
answers first without being asked to consent. Kept apart from `cases.negotiation.actions`
(which routes cases, and so imports `cases.actions`) so the filing can call it without an
import circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cases.clock import local_date
from cases.deadlines.actions import do_open_deadline
from cases.deadlines.rules import RULES, Regime
from cases.filing import PartyInput
from cases.identity import is_valid_uscc, normalise_uscc
from cases.journal import notify_applicant, queue_notice, record_event, transition
from cases.models import Case, NoticeChannel, Party, PartyKind
from cases.negotiation.models import Merchant, MerchantHandler, Negotiation
from cases.negotiation.rules import EnrolmentStatus
from cases.status import Actor, Status
from cases.timeline import EventKind


def merchant_code(respondent: Party | PartyInput) -> str | None:
    """The credit code a respondent may be enrolled under (none for a natural person)."""
    if respondent.kind == PartyKind.NATURAL_PERSON or not respondent.id_number:
        return None
    code = normalise_uscc(respondent.id_number)
    return code if is_valid_uscc(code) else None


async def enrolled_merchants(respondents: Sequence[Party | PartyInput]) -> dict[str, Merchant]:
    """The enrolled first-response enterprises among respondents, by credit code (one
    query for a whole batch of filings)."""
    codes = {code for r in respondents if (code := merchant_code(r)) is not None}
    if not codes:
        return {}
    enrolled = await Merchant.filter(uscc__in=sorted(codes), status=EnrolmentStatus.ENROLLED)
    return {merchant.uscc: merchant for merchant in enrolled}


async def do_open_negotiation(case: Case, merchant: Merchant, now: datetime) -> Negotiation:
    """The case waits for its merchant's answer, with its time limit. Call inside the
    filing's transaction."""
    await transition(case, Status.AWAITING_MERCHANT, Actor.SYSTEM, now, merchant=merchant.name)
    default = RULES[Regime.MERCHANT_ANSWER].length
    deadline = await do_open_deadline(
        case,
        Regime.MERCHANT_ANSWER,
        local_date(now),
        now,
        length=None if merchant.answer_days == default else merchant.answer_days,
    )
    negotiation = await Negotiation.create(
        case=case, merchant=merchant, started_at=now, due_on=deadline.due_on
    )
    await record_event(
        case,
        EventKind.NEGOTIATION_OPENED,
        now,
        actor_label="system",
        merchant=merchant.name,
        due_on=deadline.due_on.isoformat() if deadline.due_on else None,
    )
    due = deadline.due_on.isoformat() if deadline.due_on else "-"
    subject = f"待答复纠纷 New dispute to answer: {case.number}"
    body = (
        f"{merchant.name}：消费者就一起纠纷提出投诉（案件编号 {case.number}），"
        f"请于 {due} 前在平台商家工作台答复（提出解决方案、询问或说明不能协商的理由）。\n"
        f"{merchant.name}: a consumer filed a dispute with you (case {case.number}). "
        f"Please answer in the merchant portal by {due}."
    )
    handlers = await MerchantHandler.filter(merchant=merchant).prefetch_related("user")
    for handler in handlers:
        if handler.user.email:
            await queue_notice(case, NoticeChannel.EMAIL, handler.user.email, subject, body, now)
        if handler.user.mobile:
            await queue_notice(case, NoticeChannel.SMS, handler.user.mobile, subject, body, now)
    await notify_applicant(
        case,
        f"商家先行协商 The merchant answers first: {case.number}",
        f"案件 {case.number}：被投诉商家是平台先行协商企业，将于 {due} 前答复您。"
        f"协商不成的，案件将转交调解员。\n"
        f"Case {case.number}: the merchant answers first, by {due}. If you do not settle, "
        f"the case goes on to a mediator.",
        now,
    )
    return negotiation
