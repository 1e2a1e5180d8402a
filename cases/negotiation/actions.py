"""Merchants answer first (先行协商): enrolment, the negotiation's moves, the job that sends
unanswered cases on, the settlement and the performance of its remedy, and the figures.

These are the only writers of the negotiation's models (the opening on filing is in
`cases.negotiation.opening`). Each move checks the pure rules (`cases.negotiation.rules`)
first, then writes in one transaction under `lock_case`, with its timeline event; a case
that goes on to mediation is accepted in that transaction and routed right after it (and by
the routing job, should the process stop in between), exactly as a case whose respondent
consented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from cases.access import Viewer, can_view_case
from cases.accounts.actions import RegistrationError, do_create_staff
from cases.accounts.models import PartnerPlatform, Role, User
from cases.actions import case_facts
from cases.clock import local_date
from cases.deadlines.actions import claim_missed, do_close_deadline, overdue_deadlines
from cases.deadlines.calendar_cn import official_calendar
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Regime, working_days_between
from cases.errors import CaseConflict, CaseError, CaseNotFound
from cases.identity import normalise_uscc
from cases.journal import notify_applicant, queue_notice, record_event, transition
from cases.models import Case, NoticeChannel, Party, Side
from cases.negotiation.models import (
    Merchant,
    MerchantHandler,
    Negotiation,
    NegotiationMessage,
    Settlement,
)
from cases.negotiation.rules import (
    MAX_ANSWER_DAYS,
    MIN_ANSWER_DAYS,
    EnrolmentStatus,
    MerchantFigures,
    MessageKind,
    Move,
    NegotiationFacts,
    NegotiationState,
    ProposalState,
    check_answer_days,
    check_enrolment,
    check_enrolment_move,
    check_move,
    check_remedy,
    check_text,
    merchant_figures,
)
from cases.negotiation.rules import Side as NegotiationSide
from cases.pause import pause_point
from cases.performance.actions import Move as PerformanceMove
from cases.performance.actions import check_move as check_performance_move
from cases.performance.models import PerformanceStatus
from cases.routing.assignment import do_begin_routing
from cases.status import Actor, Status
from cases.timeline import EventKind
from cases.transactions import atomic, lock_case


class NegotiationError(CaseError):
    status_code = 422

    def __init__(self, code: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.field_errors = field_errors or {}


class NegotiationForbidden(CaseError):
    status_code = 403


# --- enrolment ---------------------------------------------------------------------------


async def do_request_enrolment(
    *,
    uscc: str,
    name: str,
    answer_days: int,
    handler_username: str,
    handler_password: str,
    handler_name: str,
    handler_email: str | None,
    handler_mobile: str | None,
    now: datetime,
    limits: tuple[int, int] = (MIN_ANSWER_DAYS, MAX_ANSWER_DAYS),
) -> Merchant:
    """A merchant asks to enrol as a first-response enterprise, naming its first handler.
    It answers first only once a platform admin confirms it. Its time to answer must lie
    within `limits` (working days), which the platform's settings give."""
    errors = check_enrolment(uscc, name, answer_days, limits)
    if errors:
        raise NegotiationError("enrolment_invalid", errors)
    code = normalise_uscc(uscc)
    try:
        async with atomic():
            merchant = await Merchant.create(
                uscc=code, name=name.strip(), answer_days=answer_days, requested_at=now
            )
            user = await do_create_staff(
                username=handler_username,
                password=handler_password,
                role=Role.MERCHANT,
                display_name=handler_name,
                email=handler_email,
                mobile=handler_mobile,
            )
            await MerchantHandler.create(merchant=merchant, user=user, created_at=now)
    except IntegrityError:
        raise NegotiationError("enrolment_invalid", {"uscc": "merchant_already_enrolled"}) from None
    except RegistrationError as error:
        raise NegotiationError("enrolment_invalid", error.field_errors) from None
    return merchant


async def do_vouch_enrolment(
    *,
    partner_id: int,
    uscc: str,
    name: str,
    answer_days: int,
    handler_username: str,
    handler_password: str,
    handler_name: str,
    handler_email: str | None,
    handler_mobile: str | None,
    now: datetime,
) -> Merchant:
    """A partner platform vouches for a merchant of its own: enrolled at once, the partner
    recorded as its voucher (no platform admin's confirmation is needed)."""
    partner = await PartnerPlatform.get_or_none(id=partner_id, is_active=True)
    if partner is None:
        raise NegotiationForbidden("partner_not_active")
    async with atomic():
        merchant = await do_request_enrolment(
            uscc=uscc,
            name=name,
            answer_days=answer_days,
            handler_username=handler_username,
            handler_password=handler_password,
            handler_name=handler_name,
            handler_email=handler_email,
            handler_mobile=handler_mobile,
            now=now,
        )
        await Merchant.filter(id=merchant.id, status=EnrolmentStatus.PENDING).update(
            status=EnrolmentStatus.ENROLLED, confirmed_at=now, vouched_by_id=partner.id
        )
    return await Merchant.get(id=merchant.id)


async def do_add_handler(merchant_id: int, user: User, now: datetime) -> MerchantHandler:
    if user.role != Role.MERCHANT:
        raise NegotiationError("handler_must_be_a_merchant_account")
    return await MerchantHandler.create(merchant_id=merchant_id, user=user, created_at=now)


async def do_move_enrolment(
    viewer: Viewer, merchant_id: int, target: EnrolmentStatus, now: datetime
) -> Merchant:
    """A platform admin confirms (or suspends, or restores) a merchant's enrolment."""
    merchant = await Merchant.get_or_none(id=merchant_id)
    if merchant is None:
        raise CaseNotFound("merchant_not_found")
    error = check_enrolment_move(merchant.status, target, viewer.role)
    if error is not None:
        raise NegotiationForbidden(error) if error.endswith("_only") else CaseConflict(error)
    # The status read above is the condition: of two confirmations only one changes the row.
    async with atomic():
        changed = await Merchant.filter(id=merchant.id, status=merchant.status).update(
            status=target,
            confirmed_at=now if target is EnrolmentStatus.ENROLLED else merchant.confirmed_at,
            confirmed_by_id=viewer.user_id
            if target is EnrolmentStatus.ENROLLED
            else merchant.confirmed_by_id,  # type: ignore[attr-defined]
        )
        if not changed:
            raise CaseConflict("merchant_changed_meanwhile")
    return await Merchant.get(id=merchant_id)


async def merchant_of(viewer: Viewer) -> Merchant | None:
    """The merchant a handler answers for (None for anyone else)."""
    if viewer.role != Role.MERCHANT:
        return None
    handler = await MerchantHandler.get_or_none(user_id=viewer.user_id).prefetch_related("merchant")
    return handler.merchant if handler is not None else None


async def do_set_answer_days(
    viewer: Viewer, days: int, limits: tuple[int, int] = (MIN_ANSWER_DAYS, MAX_ANSWER_DAYS)
) -> Merchant:
    """A merchant sets how many working days it takes to answer, within the platform's
    limits; it applies to disputes filed from now on."""
    merchant = await merchant_of(viewer)
    if merchant is None:
        raise NegotiationForbidden("merchants_only")
    if (error := check_answer_days(days, *limits)) is not None:
        raise NegotiationError("enrolment_invalid", {"answer_days": error})
    await Merchant.filter(id=merchant.id).update(answer_days=days)
    merchant.answer_days = days
    return merchant


async def do_delegate_answering(
    viewer: Viewer, merchant_id: int, partner_id: int | None
) -> Merchant:
    """A merchant lets a partner platform answer first for it (its customer service as first
    responder), or takes it back (None). Set by the merchant's own handler or a platform
    administrator; the partner then makes the merchant's moves through the partner API."""
    if viewer.role == Role.MERCHANT:
        merchant = await merchant_of(viewer)
        if merchant is None or merchant.id != merchant_id:
            raise CaseNotFound("merchant_not_found")
    elif viewer.role != Role.PLATFORM_ADMIN:
        raise NegotiationForbidden("forbidden")
    if partner_id is not None and not await PartnerPlatform.exists(id=partner_id, is_active=True):
        raise NegotiationForbidden("partner_not_active")
    if not await Merchant.filter(id=merchant_id).update(delegated_to_id=partner_id):
        raise CaseNotFound("merchant_not_found")
    return await Merchant.get(id=merchant_id)


async def merchants_for_admin() -> list[Merchant]:
    return await Merchant.all().order_by("status", "-requested_at", "id")


# --- who is who in a negotiation ---------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """A viewer at a negotiation: which side (None: staff watching, read only)."""

    case: Case
    negotiation: Negotiation
    side: NegotiationSide | None
    # Who acts when it is no user: "partner:<name>" for a partner the merchant delegated to.
    actor_label: str = ""


def _user_id(viewer: Viewer) -> int | None:
    """The acting user; None for a partner acting for a merchant (then named by its label
    on the timeline and as the message's `author_partner`)."""
    return None if viewer.partner_id is not None else viewer.user_id


async def _seat(viewer: Viewer, case: Case) -> Seat:
    negotiation = await Negotiation.get_or_none(case_id=case.id).prefetch_related("merchant")
    if negotiation is None:
        raise CaseNotFound("case_not_found")
    if viewer.partner_id is not None:
        # A partner platform answers first only for a merchant that delegated to it; it is
        # then the merchant's side, and sees no other case.
        if negotiation.merchant.delegated_to_id != viewer.partner_id:
            raise CaseNotFound("case_not_found")
        partner = await PartnerPlatform.get(id=viewer.partner_id)
        return Seat(case, negotiation, NegotiationSide.MERCHANT, f"partner:{partner.name}")
    if viewer.role == Role.MERCHANT:
        merchant = await merchant_of(viewer)
        if merchant is None or merchant.id != negotiation.merchant_id:
            raise CaseNotFound("case_not_found")
        return Seat(case, negotiation, NegotiationSide.MERCHANT)
    applicant = await Party.get_or_none(case_id=case.id, side=Side.APPLICANT)
    if applicant is not None and applicant.user_id == viewer.user_id:
        return Seat(case, negotiation, NegotiationSide.CONSUMER)
    if can_view_case(viewer, await case_facts(case)):
        return Seat(case, negotiation, None)  # the mediator, the organisation, admins
    raise CaseNotFound("case_not_found")


async def access_negotiation(viewer: Viewer, number: str) -> Seat:
    """The case's negotiation, if the viewer may see it: the merchant's handlers, the
    consumer, and the staff who may see the case; CaseNotFound otherwise, never the data."""
    case = await Case.get_or_none(number=number)
    if case is None:
        raise CaseNotFound("case_not_found")
    return await _seat(viewer, case)


async def thread_of(negotiation: Negotiation) -> list[NegotiationMessage]:
    """The thread, each message with the partner platform that wrote it for the merchant
    (if one did), so every reader sees who answered."""
    return (
        await NegotiationMessage.filter(negotiation=negotiation)
        .order_by("id")
        .prefetch_related("author_partner")
    )


def _overdue(negotiation: Negotiation, today: date) -> bool:
    return negotiation.due_on is not None and today > negotiation.due_on


async def _open_proposal(negotiation: Negotiation) -> NegotiationMessage | None:
    return await NegotiationMessage.get_or_none(
        negotiation=negotiation, kind=MessageKind.PROPOSAL, proposal_state=ProposalState.OPEN
    )


async def _case_id(number: str) -> int:
    """The case's id, read before the move's transaction opens (on SQLite, `lock_case` must
    be a transaction's first statement)."""
    case_id = await Case.filter(number=number).values_list("id", flat=True)
    if not case_id:
        raise CaseNotFound("case_not_found")
    return int(str(case_id[0]))


async def _locked_seat(viewer: Viewer, case_id: int, move: Move, now: datetime) -> Seat:
    """Inside the move's transaction, as its first statement: the case locked, the
    negotiation read afresh, and the move checked against the rules."""
    locked = await lock_case(case_id)
    if locked is None:
        raise CaseNotFound("case_not_found")
    seat = await _seat(viewer, locked)
    open_proposal = await _open_proposal(seat.negotiation)
    error = check_move(
        move,
        seat.side,
        seat.negotiation.state,
        open_proposal is not None,
        _overdue(seat.negotiation, local_date(now)),
    )
    if error == "negotiation_not_your_move":
        raise NegotiationForbidden(error)
    if error is not None:
        raise CaseConflict(error)
    return seat


async def _first_answer(negotiation: Negotiation, now: datetime) -> None:
    if negotiation.first_answer_at is None:
        await Negotiation.filter(id=negotiation.id, first_answer_at__isnull=True).update(
            first_answer_at=now
        )
        negotiation.first_answer_at = now


# --- the merchant's moves ----------------------------------------------------------------


async def _merchant_answers(
    seat: Seat, viewer: Viewer, kind: MessageKind, now: datetime, **message: Any
) -> NegotiationMessage:
    """The merchant's side says something (a proposal, a question, a decline): the message,
    by its handler or the partner platform answering for it, and the first answer's time.
    The caller records the timeline event (by its kind, which tests/cases/test_timeline.py
    reads at each call)."""
    said = await NegotiationMessage.create(
        negotiation=seat.negotiation,
        kind=kind,
        side=NegotiationSide.MERCHANT,
        author_id=_user_id(viewer),
        author_partner_id=viewer.partner_id,
        created_at=now,
        **message,
    )
    await _first_answer(seat.negotiation, now)
    return said


async def do_propose(
    viewer: Viewer,
    number: str,
    *,
    kind: str,
    amount: str,
    conditions: str,
    perform_by: str,
    now: datetime,
) -> NegotiationMessage:
    """The merchant proposes a remedy; an earlier open proposal is superseded."""
    remedy, errors = check_remedy(kind, amount, conditions, perform_by, local_date(now))
    if remedy is None:
        raise NegotiationError("remedy_invalid", errors)
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.PROPOSE, now)
        await NegotiationMessage.filter(
            negotiation=seat.negotiation,
            kind=MessageKind.PROPOSAL,
            proposal_state=ProposalState.OPEN,
        ).update(proposal_state=ProposalState.SUPERSEDED)
        message = await _merchant_answers(
            seat,
            viewer,
            MessageKind.PROPOSAL,
            now,
            remedy_kind=remedy.kind,
            amount=remedy.amount,
            conditions=remedy.conditions,
            perform_by=remedy.perform_by,
            proposal_state=ProposalState.OPEN,
        )
        await record_event(
            seat.case,
            EventKind.REMEDY_PROPOSED,
            now,
            actor_id=_user_id(viewer),
            actor_label=seat.actor_label,
            remedy=remedy.kind,
        )
        await notify_applicant(
            seat.case,
            f"商家提出解决方案 The merchant proposed a remedy: {seat.case.number}",
            f"案件 {seat.case.number}：{seat.negotiation.merchant.name}提出了解决方案，"
            f"请登录平台查看并选择接受或拒绝。\n"
            f"Case {seat.case.number}: the merchant proposed a remedy. Sign in to accept or "
            f"refuse it.",
            now,
        )
    return message


async def do_ask(viewer: Viewer, number: str, text: str, now: datetime) -> NegotiationMessage:
    """The merchant asks the consumer a question, opening a thread."""
    if (error := check_text(text)) is not None:
        raise NegotiationError("text_invalid", {"text": error})
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.ASK, now)
        message = await _merchant_answers(
            seat, viewer, MessageKind.QUESTION, now, text=text.strip()
        )
        await record_event(
            seat.case,
            EventKind.MERCHANT_ASKED,
            now,
            actor_id=_user_id(viewer),
            actor_label=seat.actor_label,
        )
        await notify_applicant(
            seat.case,
            f"商家向您提问 The merchant asked you a question: {seat.case.number}",
            f"案件 {seat.case.number}：商家向您提了一个问题，请登录平台回复。\n"
            f"Case {seat.case.number}: the merchant asked you a question. Sign in to reply.",
            now,
        )
    return message


async def do_reply(
    viewer: Viewer, number: str, thread_id: int, text: str, now: datetime
) -> NegotiationMessage:
    """Either side replies in a question's thread."""
    if (error := check_text(text)) is not None:
        raise NegotiationError("text_invalid", {"text": error})
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.REPLY, now)
        question = await NegotiationMessage.get_or_none(
            id=thread_id, negotiation=seat.negotiation, kind=MessageKind.QUESTION
        )
        if question is None:
            raise CaseNotFound("thread_not_found")
        assert seat.side is not None
        message = await NegotiationMessage.create(
            negotiation=seat.negotiation,
            kind=MessageKind.REPLY,
            side=seat.side,
            author_id=_user_id(viewer),
            author_partner_id=viewer.partner_id,
            thread=question,
            text=text.strip(),
            created_at=now,
        )
        await record_event(
            seat.case,
            EventKind.NEGOTIATION_REPLIED,
            now,
            actor_id=_user_id(viewer),
            actor_label=seat.actor_label,
            side=seat.side.value,
        )
        if seat.side is NegotiationSide.CONSUMER:
            await _notify_handlers(
                seat.case,
                seat.negotiation.merchant_id,
                f"消费者回复 The consumer replied: {seat.case.number}",
                f"案件 {seat.case.number}：消费者回复了贵方的询问，请在商家工作台查看。\n"
                f"Case {seat.case.number}: the consumer replied to your question.",
                now,
            )
    return message


async def do_decline(viewer: Viewer, number: str, reason: str, now: datetime) -> Case:
    """The merchant declines to settle directly, with its reason: on to mediation."""
    if (error := check_text(reason)) is not None:
        raise NegotiationError("text_invalid", {"reason": error})
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.DECLINE, now)
        await _merchant_answers(seat, viewer, MessageKind.DECLINE, now, text=reason.strip())
        await record_event(
            seat.case,
            EventKind.MERCHANT_DECLINED,
            now,
            actor_id=_user_id(viewer),
            actor_label=seat.actor_label,
        )
        await _go_on_to_mediation(
            seat,
            NegotiationState.DECLINED,
            Actor.MERCHANT,
            _user_id(viewer),
            now,
            actor_label=seat.actor_label,
        )
    return await _route(seat.case, now)


# --- the consumer's moves ----------------------------------------------------------------


async def do_accept(viewer: Viewer, number: str, proposal_id: int, now: datetime) -> Settlement:
    """The consumer accepts the open remedy: settled by negotiation, with a settlement
    record whose performance is tracked."""
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.ACCEPT, now)
        proposal = await _open_proposal(seat.negotiation)
        if proposal is None or proposal.id != proposal_id:
            raise CaseConflict("negotiation_proposal_changed")
        assert proposal.perform_by is not None
        await pause_point("accept_remedy")
        await NegotiationMessage.filter(id=proposal.id).update(
            proposal_state=ProposalState.ACCEPTED
        )
        await NegotiationMessage.create(
            negotiation=seat.negotiation,
            kind=MessageKind.ACCEPT,
            side=NegotiationSide.CONSUMER,
            author_id=_user_id(viewer),
            author_partner_id=viewer.partner_id,
            proposal=proposal,
            created_at=now,
        )
        applicant = await Party.get(case_id=seat.case.id, side=Side.APPLICANT)
        settlement = await Settlement.create(
            case=seat.case,
            negotiation=seat.negotiation,
            proposal=proposal,
            merchant_name=seat.negotiation.merchant.name,
            consumer_name=applicant.name,
            remedy_kind=proposal.remedy_kind,
            amount=proposal.amount,
            conditions=proposal.conditions,
            perform_by=proposal.perform_by,
            settled_at=now,
        )
        await _end(seat.negotiation, NegotiationState.SETTLED, now)
        await do_close_deadline(seat.case, Regime.MERCHANT_ANSWER, DeadlineStatus.MET, now)
        await record_event(seat.case, EventKind.REMEDY_ACCEPTED, now, actor_id=viewer.user_id)
        await _notify_handlers(
            seat.case,
            seat.negotiation.merchant_id,
            f"消费者接受方案 The consumer accepted your remedy: {seat.case.number}",
            f"案件 {seat.case.number}：消费者已接受贵方提出的解决方案，请于 "
            f"{proposal.perform_by.isoformat()} 前履行，并在商家工作台标记已履行。\n"
            f"Case {seat.case.number}: the consumer accepted your remedy. Perform it by "
            f"{proposal.perform_by.isoformat()} and mark it performed in the portal.",
            now,
        )
        await transition(
            seat.case, Status.SETTLED_BY_NEGOTIATION, Actor.APPLICANT, now, actor_id=viewer.user_id
        )
    return settlement


async def do_refuse(
    viewer: Viewer, number: str, proposal_id: int, reason: str, now: datetime
) -> Case:
    """The consumer refuses the open remedy: on to mediation."""
    if (error := check_text(reason, required=False)) is not None:
        raise NegotiationError("text_invalid", {"reason": error})
    case_id = await _case_id(number)
    async with atomic():
        seat = await _locked_seat(viewer, case_id, Move.REFUSE, now)
        proposal = await _open_proposal(seat.negotiation)
        if proposal is None or proposal.id != proposal_id:
            raise CaseConflict("negotiation_proposal_changed")
        await NegotiationMessage.filter(id=proposal.id).update(proposal_state=ProposalState.REFUSED)
        await NegotiationMessage.create(
            negotiation=seat.negotiation,
            kind=MessageKind.REFUSE,
            side=NegotiationSide.CONSUMER,
            author_id=_user_id(viewer),
            author_partner_id=viewer.partner_id,
            proposal=proposal,
            text=reason.strip(),
            created_at=now,
        )
        await record_event(seat.case, EventKind.REMEDY_REFUSED, now, actor_id=viewer.user_id)
        await _notify_handlers(
            seat.case,
            seat.negotiation.merchant_id,
            f"消费者拒绝方案 The consumer refused your remedy: {seat.case.number}",
            f"案件 {seat.case.number}：消费者拒绝了贵方的解决方案，纠纷转交调解员。\n"
            f"Case {seat.case.number}: the consumer refused your remedy; the dispute goes on "
            f"to a mediator.",
            now,
        )
        await _go_on_to_mediation(
            seat, NegotiationState.REFUSED, Actor.APPLICANT, viewer.user_id, now
        )
    return await _route(seat.case, now)


# --- on to mediation ---------------------------------------------------------------------


async def _end(negotiation: Negotiation, state: NegotiationState, now: datetime) -> None:
    changed = await Negotiation.filter(id=negotiation.id, state=NegotiationState.OPEN).update(
        state=state, ended_at=now
    )
    if not changed:
        raise CaseConflict("negotiation_closed")
    negotiation.state = state
    negotiation.ended_at = now


async def _go_on_to_mediation(
    seat: Seat,
    state: NegotiationState,
    actor: Actor,
    actor_id: int | None,
    now: datetime,
    *,
    actor_label: str = "",
) -> None:
    """The negotiation ends without a settlement: open proposals lapse, its deadline
    closes, and the case is accepted for routing (the thread stays for the mediator)."""
    await _end(seat.negotiation, state, now)
    await NegotiationMessage.filter(
        negotiation=seat.negotiation, proposal_state=ProposalState.OPEN
    ).update(proposal_state=ProposalState.LAPSED)
    await do_close_deadline(
        seat.case,
        Regime.MERCHANT_ANSWER,
        DeadlineStatus.MET if state is not NegotiationState.EXPIRED else DeadlineStatus.MISSED,
        now,
    )
    await transition(
        seat.case,
        Status.ACCEPTED,
        actor,
        now,
        actor_id=actor_id,
        actor_label=actor_label,
        negotiation=state.value,
    )
    await notify_applicant(
        seat.case,
        f"转交调解 Going on to mediation: {seat.case.number}",
        f"案件 {seat.case.number}：与商家的协商未能解决纠纷，平台将为您分派调解组织和调解员。"
        f"协商记录将提供给调解员。\n"
        f"Case {seat.case.number}: the negotiation with the merchant did not settle the "
        f"dispute; the platform now assigns a mediator, who sees the negotiation.",
        now,
    )


async def _route(case: Case, now: datetime) -> Case:
    """Route the accepted case at once, as after a respondent's consent (the routing job
    does it should this process stop in between)."""
    return await do_begin_routing(case.id, now) or await Case.get(id=case.id)


async def do_expire_negotiations(now: datetime) -> list[int]:
    """Job: a merchant that did not settle within its time limit: the case goes on to
    mediation. Safe in several processes: each deadline is claimed by a conditional update,
    and the case is moved only while it still waits for its merchant (under its lock)."""
    today = local_date(now)
    moved: list[int] = []
    for deadline_id, case_id in await overdue_deadlines((Regime.MERCHANT_ANSWER,), today):
        async with atomic():
            case = await lock_case(case_id)
            if case is None or not await claim_missed(deadline_id, today, now):
                continue
            if case.status != Status.AWAITING_MERCHANT:
                continue  # withdrawn meanwhile: the deadline is simply over
            await pause_point("expire_negotiation")
            negotiation = await Negotiation.get(case_id=case_id).prefetch_related("merchant")
            seat = Seat(case, negotiation, None)
            await record_event(case, EventKind.NEGOTIATION_EXPIRED, now, actor_label="system")
            await _go_on_to_mediation(seat, NegotiationState.EXPIRED, Actor.SYSTEM, None, now)
        await _route(case, now)
        moved.append(case_id)
    return moved


REMIND_WITHIN_WORKING_DAYS = 1


async def do_remind_merchants(now: datetime) -> int:
    """Job: remind a merchant's handlers once, when one working day is left to answer.
    Safe in several processes: each deadline's reminder is claimed by a conditional update."""
    today = local_date(now)
    calendar = official_calendar()
    candidates = await CaseDeadline.filter(
        status=DeadlineStatus.OPEN,
        regime=Regime.MERCHANT_ANSWER.value,
        reminded_at__isnull=True,
        due_on__gte=today,
        due_on__lte=today + timedelta(days=10),
    ).values_list("id", "case_id", "due_on")
    sent = 0
    for deadline_id, case_id, due_on in candidates:
        if working_days_between(today, due_on, calendar) > REMIND_WITHIN_WORKING_DAYS:
            continue
        async with atomic():
            claimed = await CaseDeadline.filter(id=deadline_id, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not claimed:
                continue
            case = await Case.get(id=case_id)
            negotiation = await Negotiation.get(case_id=case_id).prefetch_related("merchant")
            subject = f"答复期限提醒 Answer due soon: {case.number}"
            body = (
                f"{negotiation.merchant.name}：案件 {case.number} 的答复期限将于 "
                f"{due_on.isoformat()} 届满，届时未能协商解决的，纠纷将转交调解员。\n"
                f"{negotiation.merchant.name}: your time to answer case {case.number} ends on "
                f"{due_on.isoformat()}; after that the dispute goes on to a mediator."
            )
            await _notify_handlers(case, negotiation.merchant_id, subject, body, now)
            sent += 1
    return sent


async def _notify_handlers(
    case: Case, merchant_id: int, subject: str, body: str, now: datetime
) -> None:
    for handler in await MerchantHandler.filter(merchant_id=merchant_id).prefetch_related("user"):
        if handler.user.email:
            await queue_notice(case, NoticeChannel.EMAIL, handler.user.email, subject, body, now)
        if handler.user.mobile:
            await queue_notice(case, NoticeChannel.SMS, handler.user.mobile, subject, body, now)


async def do_create_handler(
    viewer: Viewer,
    *,
    username: str,
    password: str,
    display_name: str,
    email: str | None,
    mobile: str | None,
    now: datetime,
) -> MerchantHandler:
    """A merchant's handler names another handler (an account of its own)."""
    merchant = await merchant_of(viewer)
    if merchant is None:
        raise NegotiationForbidden("merchants_only")
    if not display_name.strip():
        raise NegotiationError("handler_invalid", {"display_name": "required"})
    try:
        async with atomic():
            user = await do_create_staff(
                username=username,
                password=password,
                role=Role.MERCHANT,
                display_name=display_name.strip(),
                email=email,
                mobile=mobile,
            )
            return await MerchantHandler.create(merchant=merchant, user=user, created_at=now)
    except RegistrationError as error:
        raise NegotiationError("handler_invalid", error.field_errors) from None


async def handlers_of(merchant_id: int) -> list[User]:
    return [
        h.user
        for h in await MerchantHandler.filter(merchant_id=merchant_id)
        .prefetch_related("user")
        .order_by("id")
    ]


# --- the settlement and its performance --------------------------------------------------


async def settlement_of(case: Case) -> Settlement | None:
    return await Settlement.get_or_none(case_id=case.id)


_PERFORMANCE_SIDE = {
    NegotiationSide.MERCHANT: "respondent",
    NegotiationSide.CONSUMER: "applicant",
}
_PERFORMANCE_EVENTS = {
    PerformanceMove.MARK_PERFORMED: EventKind.REMEDY_MARKED_PERFORMED,
    PerformanceMove.CONFIRM: EventKind.REMEDY_PERFORMANCE_CONFIRMED,
    PerformanceMove.DISPUTE: EventKind.REMEDY_PERFORMANCE_DISPUTED,
}
_PERFORMANCE_RESULT = {
    PerformanceMove.MARK_PERFORMED: PerformanceStatus.PERFORMED,
    PerformanceMove.CONFIRM: PerformanceStatus.CONFIRMED,
    PerformanceMove.DISPUTE: PerformanceStatus.DISPUTED,
}


def remedy_moves(status: str, side: NegotiationSide | None) -> list[PerformanceMove]:
    """The performance moves open to a side (the merchant performs, the consumer answers),
    by the performance domain's own rule."""
    actor = _PERFORMANCE_SIDE.get(side) if side is not None else None
    return [
        m for m in PerformanceMove if check_performance_move(m, status, "respondent", actor) is None
    ]


async def do_remedy_move(
    viewer: Viewer, number: str, move: PerformanceMove, note: str, now: datetime
) -> Settlement:
    """The merchant marks the remedy performed; the consumer confirms or disputes that."""
    if (error := check_text(note, required=False)) is not None:
        raise NegotiationError("text_invalid", {"note": error})
    case_id = await _case_id(number)
    async with atomic():
        case = await lock_case(case_id)
        if case is None:
            raise CaseNotFound("case_not_found")
        seat = await _seat(viewer, case)
        settlement = await Settlement.get_or_none(case_id=case.id)
        if settlement is None or settlement.reopened_at is not None:
            raise CaseConflict("no_settlement")
        actor = _PERFORMANCE_SIDE.get(seat.side) if seat.side is not None else None
        error = check_performance_move(move, settlement.status, "respondent", actor)
        if error is not None:
            raise (
                CaseConflict(error)
                if error == "performance_changed_meanwhile"
                else NegotiationForbidden(error)
            )
        changes: dict[str, object] = {"status": _PERFORMANCE_RESULT[move]}
        if move is PerformanceMove.MARK_PERFORMED:
            changes.update(performed_at=now, performed_note=note.strip())
        else:
            changes.update(answered_at=now, answer_note=note.strip())
        await Settlement.filter(id=settlement.id, status=settlement.status).update(**changes)
        await record_event(case, _PERFORMANCE_EVENTS[move], now, actor_id=viewer.user_id)
    return await Settlement.get(id=settlement.id)


def may_reopen(settlement: Settlement, today: date) -> bool:
    """The consumer may take the dispute to mediation when the remedy was not performed:
    disputed, or still open after its date."""
    if settlement.reopened_at is not None:
        return False
    return settlement.status == PerformanceStatus.DISPUTED or (
        settlement.status == PerformanceStatus.OPEN and today > settlement.perform_by
    )


async def do_reopen_to_mediation(viewer: Viewer, number: str, now: datetime) -> Case:
    """The remedy was not performed: the consumer re-opens the dispute to mediation."""
    case_id = await _case_id(number)
    async with atomic():
        case = await lock_case(case_id)
        if case is None:
            raise CaseNotFound("case_not_found")
        seat = await _seat(viewer, case)
        if seat.side is not NegotiationSide.CONSUMER:
            raise NegotiationForbidden("negotiation_not_your_move")
        settlement = await Settlement.get_or_none(case_id=case.id)
        if settlement is None or not may_reopen(settlement, local_date(now)):
            raise CaseConflict("settlement_not_reopenable")
        await Settlement.filter(id=settlement.id, reopened_at__isnull=True).update(reopened_at=now)
        await record_event(case, EventKind.SETTLEMENT_REOPENED, now, actor_id=viewer.user_id)
        await transition(case, Status.ACCEPTED, Actor.APPLICANT, now, actor_id=viewer.user_id)
    return await _route(case, now)


# --- the merchant's portal ---------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    number: str
    category: str
    claim_amount: Decimal
    state: str
    due_on: date | None
    overdue: bool
    answered: bool
    settlement_status: str | None


async def merchant_inbox(viewer: Viewer, today: date) -> tuple[Merchant, list[InboxRow]]:
    """The handler's merchant and its disputes: open ones first, the soonest due first."""
    merchant = await merchant_of(viewer)
    if merchant is None:
        raise NegotiationForbidden("merchants_only")
    negotiations = await Negotiation.filter(merchant=merchant).prefetch_related("case")
    settlements = {
        s.negotiation_id: s for s in await Settlement.filter(negotiation__merchant=merchant)
    }
    rows = [
        InboxRow(
            number=n.case.number,
            category=n.case.category,
            claim_amount=n.case.claim_amount,
            state=n.state,
            due_on=n.due_on,
            overdue=_overdue(n, today),
            answered=n.first_answer_at is not None,
            settlement_status=settlements[n.id].status if n.id in settlements else None,
        )
        for n in negotiations
    ]
    rows.sort(key=lambda r: (r.state != NegotiationState.OPEN, r.due_on or date.max, r.number))
    return merchant, rows


async def figures_for(merchant_id: int) -> MerchantFigures:
    """Response rate, time to first answer, share settled, share performed on time."""
    negotiations = await Negotiation.filter(merchant_id=merchant_id)
    settlements = {
        s.negotiation_id: s for s in await Settlement.filter(negotiation__merchant_id=merchant_id)
    }
    facts = []
    for n in negotiations:
        on_time: bool | None = None
        s = settlements.get(n.id)
        if s is not None and s.performed_at is not None and s.status != PerformanceStatus.DISPUTED:
            on_time = local_date(s.performed_at) <= s.perform_by
        elif s is not None and (s.status == PerformanceStatus.DISPUTED or s.reopened_at):
            on_time = False
        facts.append(NegotiationFacts(n.started_at, n.first_answer_at, n.state, on_time))
    return merchant_figures(facts)


async def figures_of_all() -> list[tuple[Merchant, MerchantFigures]]:
    return [(m, await figures_for(m.id)) for m in await Merchant.all().order_by("name")]
