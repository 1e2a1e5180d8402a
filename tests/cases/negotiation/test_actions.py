"""Merchants answer first (先行协商), action by action: enrolment, the filing that goes to the
merchant, proposals, questions, a decline, the consumer's answer, the job when the time limit
passes, the settlement and its performance, and who may do what.

Dates: filed on Monday 2026-11-02 (Shanghai), no holiday in the following weeks, so 10
working days end on Monday 2026-11-16.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from cases.access import Viewer, viewer_of
from cases.accounts.actions import do_create_partner, do_create_staff, do_register_disputant
from cases.accounts.models import PartnerPlatform, Role, User
from cases.actions import Filer
from cases.clock import SHANGHAI
from cases.court.privilege import assert_privileged_absent, filter_for_court, privileged_strings
from cases.court.records import case_record_for_court
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.errors import CaseConflict, CaseNotFound
from cases.intake import file_dispute
from cases.models import Case, FilingKind, Invitation, Notice, TimelineEvent
from cases.negotiation.actions import (
    NegotiationError,
    NegotiationForbidden,
    access_negotiation,
    do_accept,
    do_ask,
    do_create_handler,
    do_decline,
    do_expire_negotiations,
    do_move_enrolment,
    do_propose,
    do_refuse,
    do_remedy_move,
    do_remind_merchants,
    do_reopen_to_mediation,
    do_reply,
    do_request_enrolment,
    do_set_answer_days,
    do_vouch_enrolment,
    figures_for,
    handlers_of,
    may_reopen,
    merchant_inbox,
    thread_of,
)
from cases.negotiation.models import Merchant, Negotiation, NegotiationMessage, Settlement
from cases.negotiation.rules import EnrolmentStatus, NegotiationState, ProposalState
from cases.negotiation.rules import Side as NSide
from cases.performance.actions import Move as PerformanceMove
from cases.routing.assignment import do_appoint
from cases.status import Status
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    filing_fields,
    new_mediator,
    new_organisation,
    uscc,
)


def shanghai(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


FILED = shanghai(11, 2)
MERCHANT_USCC = uscc("91310105MA1FL7777")
OTHER_USCC = uscc("91310105MA1FL8888")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass
class World:
    merchant: Merchant
    handler: Viewer
    other_handler: Viewer  # a handler of another enrolled merchant
    consumer: Viewer
    stranger: Viewer  # another disputant
    mediator: User
    admin: Viewer


async def _enrol(code: str, username: str, days: int = 10) -> tuple[Merchant, Viewer]:
    merchant = await do_request_enrolment(
        uscc=code,
        name=f"上海某某商家{username}有限公司",
        answer_days=days,
        handler_username=username,
        handler_password=STAFF_PASSWORD,
        handler_name=f"客服 {username}",
        handler_email=f"{username}@merchant.example.com",
        handler_mobile=None,
        now=FILED,
    )
    admin = await User.get(role=Role.PLATFORM_ADMIN)
    merchant = await do_move_enrolment(
        viewer_of(admin), merchant.id, EnrolmentStatus.ENROLLED, FILED
    )
    user = await User.get(username=username)
    return merchant, viewer_of(user)


@pytest.fixture
async def world(db: None) -> World:
    tqo = await new_organisation(
        "TQO", track="administrative", categories=("tour_refund", "tour_contract")
    )
    mediator = await new_mediator("wang", tqo.id, specialties=["tour_refund"])
    admin = await do_create_staff(
        username="admin", password=STAFF_PASSWORD, role=Role.PLATFORM_ADMIN, display_name="管理员"
    )
    merchant, handler = await _enrol(MERCHANT_USCC, "shop")
    _, other_handler = await _enrol(OTHER_USCC, "othershop")
    consumer = await do_register_disputant(
        identifier="13812345678", password=STAFF_PASSWORD, display_name="张三"
    )
    stranger = await do_register_disputant(
        identifier="13812340000", password=STAFF_PASSWORD, display_name="李四"
    )
    return World(
        merchant,
        handler,
        other_handler,
        viewer_of(consumer),
        viewer_of(stranger),
        mediator,
        viewer_of(admin),
    )


async def file(settings: Settings, world: World, at: datetime = FILED, **overrides: Any) -> Case:
    fields = filing_fields(**{"respondent_id_number": MERCHANT_USCC, **overrides})
    return await file_dispute(settings, fields, [], Filer(user_id=world.consumer.user_id), at)


async def fresh(case: Case) -> Case:
    return await Case.get(id=case.id)


async def kinds(case: Case) -> list[str]:
    return list(
        await TimelineEvent.filter(case_id=case.id).order_by("id").values_list("kind", flat=True)
    )


async def propose(world: World, case: Case, amount: str = "3680", at: datetime = FILED) -> int:
    message = await do_propose(
        world.handler,
        case.number,
        kind="refund",
        amount=amount,
        conditions="原路退回支付账户",
        perform_by="2026-11-09",
        now=at,
    )
    return message.id


# --- enrolment -----------------------------------------------------------------------------


async def test_enrolment_waits_for_a_platform_admin(world: World) -> None:
    merchant = await do_request_enrolment(
        uscc=uscc("91310105MA1FL9999"),
        name="新商家有限公司",
        answer_days=7,
        handler_username="newshop",
        handler_password=STAFF_PASSWORD,
        handler_name="客服",
        handler_email=None,
        handler_mobile=None,
        now=FILED,
    )
    assert merchant.status == EnrolmentStatus.PENDING
    with pytest.raises(NegotiationForbidden):
        await do_move_enrolment(world.handler, merchant.id, EnrolmentStatus.ENROLLED, FILED)
    confirmed = await do_move_enrolment(world.admin, merchant.id, EnrolmentStatus.ENROLLED, FILED)
    assert confirmed.status == EnrolmentStatus.ENROLLED
    assert confirmed.confirmed_at == FILED
    with pytest.raises(CaseConflict):
        await do_move_enrolment(world.admin, merchant.id, EnrolmentStatus.ENROLLED, FILED)


async def test_enrolment_is_checked_and_a_credit_code_enrols_once(world: World) -> None:
    with pytest.raises(NegotiationError) as caught:
        await do_request_enrolment(
            uscc="91310105MA1FL00001",
            name="x",
            answer_days=40,
            handler_username="bad",
            handler_password=STAFF_PASSWORD,
            handler_name="客服",
            handler_email=None,
            handler_mobile=None,
            now=FILED,
        )
    assert set(caught.value.field_errors) == {"uscc", "answer_days"}
    with pytest.raises(NegotiationError) as caught:
        await _enrol(MERCHANT_USCC, "again")
    assert caught.value.field_errors == {"uscc": "merchant_already_enrolled"}
    assert not await User.filter(username="again").exists()


# --- the filing goes to the merchant first -------------------------------------------------


async def test_a_dispute_against_an_enrolled_merchant_goes_to_it_first(
    settings: Settings, world: World
) -> None:
    case = await file(settings, world)
    assert case.status == Status.AWAITING_MERCHANT
    assert not await Invitation.filter(case_id=case.id).exists()  # no consent asked first
    deadline = await CaseDeadline.get(case_id=case.id, regime="merchant_answer")
    assert (deadline.status, deadline.due_on) == (DeadlineStatus.OPEN, date(2026, 11, 16))
    negotiation = await Negotiation.get(case_id=case.id)
    assert (negotiation.state, negotiation.due_on) == (NegotiationState.OPEN, date(2026, 11, 16))
    assert "negotiation_opened" in await kinds(case)
    recipients = set(await Notice.filter(case_id=case.id).values_list("recipient", flat=True))
    assert "shop@merchant.example.com" in recipients  # the handler is told
    assert "zhangsan@example.com" in recipients  # and the consumer, who waits for it
    merchant, rows = await merchant_inbox(world.handler, date(2026, 11, 3))
    assert merchant.id == world.merchant.id
    assert [(r.number, r.due_on, r.overdue) for r in rows] == [
        (case.number, date(2026, 11, 16), False)
    ]
    _, others = await merchant_inbox(world.other_handler, date(2026, 11, 3))
    assert others == []


async def test_a_merchant_sets_its_own_time_within_the_limits(
    settings: Settings, world: World
) -> None:
    await do_set_answer_days(world.handler, 5)
    with pytest.raises(NegotiationError):
        await do_set_answer_days(world.handler, 30)
    with pytest.raises(NegotiationForbidden):
        await do_set_answer_days(world.consumer, 5)
    case = await file(settings, world)
    deadline = await CaseDeadline.get(case_id=case.id, regime="merchant_answer")
    assert deadline.due_on == date(2026, 11, 9)  # 5 working days


async def test_a_merchant_not_yet_confirmed_is_invited_as_today(
    settings: Settings, world: World
) -> None:
    await Merchant.filter(id=world.merchant.id).update(status=EnrolmentStatus.SUSPENDED)
    case = await file(settings, world)
    assert case.status == Status.AWAITING_CONSENT
    assert await Invitation.filter(case_id=case.id).exists()
    assert not await Negotiation.filter(case_id=case.id).exists()


# --- rounds --------------------------------------------------------------------------------


async def test_rounds_then_the_consumer_accepts(settings: Settings, world: World) -> None:
    case = await file(settings, world)
    first = await propose(world, case, "1000")
    question = await do_ask(world.handler, case.number, "请提供订单号和付款截图。", FILED)
    await do_reply(world.consumer, case.number, question.id, "订单号 T20261001。", FILED)
    second = await propose(world, case, "3680")
    states = dict(
        await NegotiationMessage.filter(kind="proposal").values_list("id", "proposal_state")
    )
    assert states == {first: ProposalState.SUPERSEDED, second: ProposalState.OPEN}
    with pytest.raises(CaseConflict):  # the superseded one can no longer be accepted
        await do_accept(world.consumer, case.number, first, FILED)
    settlement = await do_accept(world.consumer, case.number, second, shanghai(11, 3))
    assert (await fresh(case)).status == Status.SETTLED_BY_NEGOTIATION
    assert (settlement.remedy_kind, settlement.amount, settlement.perform_by) == (
        "refund",
        Decimal("3680.00"),
        date(2026, 11, 9),
    )
    assert (settlement.merchant_name, settlement.consumer_name) == (world.merchant.name, "张三")
    negotiation = await Negotiation.get(case_id=case.id)
    assert negotiation.state == NegotiationState.SETTLED
    assert negotiation.first_answer_at == FILED
    deadline = await CaseDeadline.get(case_id=case.id, regime="merchant_answer")
    assert deadline.status == DeadlineStatus.MET
    assert [m.kind for m in await thread_of(negotiation)] == [
        "proposal",
        "question",
        "reply",
        "proposal",
        "accept",
    ]
    assert "remedy_accepted" in await kinds(case)
    told = await Notice.filter(case_id=case.id, recipient="shop@merchant.example.com")
    subjects = " ".join(n.subject for n in told)
    assert "The consumer replied" in subjects and "accepted your remedy" in subjects
    with pytest.raises(CaseConflict):
        await propose(world, case)


async def test_the_consumer_refuses_and_the_case_goes_on_to_routing(
    settings: Settings, world: World
) -> None:
    case = await file(settings, world)
    proposal = await propose(world, case, "100")
    await do_refuse(world.consumer, case.number, proposal, "金额太低", shanghai(11, 3))
    case = await fresh(case)
    # Routed at once, as after a consent: the parties' window to choose a mediator opens.
    assert case.status == Status.ASSIGNING
    assert await CaseDeadline.filter(case_id=case.id, regime="party_choice").exists()
    await do_appoint(case.id, shanghai(11, 6))
    assert (await fresh(case)).mediator_id == world.mediator.id
    assert (await Negotiation.get(case_id=case.id)).state == NegotiationState.REFUSED
    # The mediator sees the thread, read only.
    seat = await access_negotiation(viewer_of(world.mediator), case.number)
    assert seat.side is None
    assert [m.kind for m in await thread_of(seat.negotiation)] == ["proposal", "refuse"]


async def test_the_merchant_declines_and_the_case_goes_on(settings: Settings, world: World) -> None:
    case = await file(settings, world)
    with pytest.raises(NegotiationError):
        await do_decline(world.handler, case.number, "  ", FILED)
    await do_decline(world.handler, case.number, "已在其他渠道处理", FILED)
    case = await fresh(case)
    assert case.status == Status.ASSIGNING
    assert (await Negotiation.get(case_id=case.id)).state == NegotiationState.DECLINED
    assert "merchant_declined" in await kinds(case)


async def test_only_the_right_side_moves(settings: Settings, world: World) -> None:
    case = await file(settings, world)
    with pytest.raises(NegotiationForbidden):  # the consumer does not propose
        await do_propose(
            world.consumer,
            case.number,
            kind="refund",
            amount="1",
            conditions="",
            perform_by="2026-11-09",
            now=FILED,
        )
    proposal = await propose(world, case)
    with pytest.raises(NegotiationForbidden):  # the merchant does not accept for the consumer
        await do_accept(world.handler, case.number, proposal, FILED)
    # Another merchant, another disputant: not even told the case exists.
    for outsider in (world.other_handler, world.stranger):
        with pytest.raises(CaseNotFound):
            await access_negotiation(outsider, case.number)
        with pytest.raises(CaseNotFound):
            await do_accept(outsider, case.number, proposal, FILED)
    with pytest.raises(CaseNotFound):
        await propose(
            World(world.merchant, world.other_handler, *list(world.__dict__.values())[2:]), case
        )
    assert (await access_negotiation(world.handler, case.number)).side is NSide.MERCHANT
    assert (await access_negotiation(world.consumer, case.number)).side is NSide.CONSUMER


async def test_bad_remedies_change_nothing(settings: Settings, world: World) -> None:
    case = await file(settings, world)
    with pytest.raises(NegotiationError) as caught:
        await do_propose(
            world.handler,
            case.number,
            kind="refund",
            amount="",
            conditions="",
            perform_by="2026-10-01",
            now=FILED,
        )
    assert caught.value.field_errors == {
        "amount": "remedy_amount_required",
        "perform_by": "remedy_date_out_of_range",
    }
    assert not await NegotiationMessage.exists()


# --- the time limit ------------------------------------------------------------------------


async def test_the_time_limit_passing_sends_the_case_on_once(
    settings: Settings, world: World
) -> None:
    case = await file(settings, world)
    await propose(world, case)
    assert await do_expire_negotiations(shanghai(11, 16, 23)) == []  # the last day still counts
    later = shanghai(11, 17, 9)
    with pytest.raises(CaseConflict):  # too late to accept now
        await do_accept(
            world.consumer,
            case.number,
            (await NegotiationMessage.get(kind="proposal")).id,
            later,
        )
    moved = await asyncio.gather(do_expire_negotiations(later), do_expire_negotiations(later))
    assert sorted(len(m) for m in moved) == [0, 1]
    case = await fresh(case)
    assert case.status == Status.ASSIGNING
    negotiation = await Negotiation.get(case_id=case.id)
    assert negotiation.state == NegotiationState.EXPIRED
    assert (await NegotiationMessage.get(kind="proposal")).proposal_state == ProposalState.LAPSED
    deadline = await CaseDeadline.get(case_id=case.id, regime="merchant_answer")
    assert deadline.status == DeadlineStatus.MISSED
    assert (await kinds(case)).count("negotiation_expired") == 1
    assert await do_expire_negotiations(later) == []


# --- the settlement's performance ----------------------------------------------------------


async def settled(settings: Settings, world: World) -> Case:
    case = await file(settings, world)
    proposal = await propose(world, case)
    await do_accept(world.consumer, case.number, proposal, FILED)
    return case


async def test_performance_confirmed(settings: Settings, world: World) -> None:
    case = await settled(settings, world)
    with pytest.raises(NegotiationForbidden):  # the consumer does not mark the merchant's duty
        await do_remedy_move(world.consumer, case.number, PerformanceMove.MARK_PERFORMED, "", FILED)
    await do_remedy_move(
        world.handler, case.number, PerformanceMove.MARK_PERFORMED, "已退款", shanghai(11, 5)
    )
    settlement = await do_remedy_move(
        world.consumer, case.number, PerformanceMove.CONFIRM, "", shanghai(11, 6)
    )
    assert settlement.status == "confirmed"
    assert not may_reopen(settlement, date(2026, 12, 1))
    figures = await figures_for(world.merchant.id)
    assert (figures.response_rate, figures.share_settled, figures.share_performed_on_time) == (
        1.0,
        1.0,
        1.0,
    )


async def test_a_remedy_not_performed_reopens_the_dispute_to_mediation(
    settings: Settings, world: World
) -> None:
    case = await settled(settings, world)
    with pytest.raises(CaseConflict):  # nothing wrong yet
        await do_reopen_to_mediation(world.consumer, case.number, shanghai(11, 5))
    await do_remedy_move(world.handler, case.number, PerformanceMove.MARK_PERFORMED, "", FILED)
    await do_remedy_move(world.consumer, case.number, PerformanceMove.DISPUTE, "没收到", FILED)
    with pytest.raises(NegotiationForbidden):
        await do_reopen_to_mediation(world.handler, case.number, FILED)
    await do_reopen_to_mediation(world.consumer, case.number, shanghai(11, 5))
    case = await fresh(case)
    assert case.status == Status.ASSIGNING
    settlement = await Settlement.get(case_id=case.id)
    assert settlement.reopened_at is not None
    assert "settlement_reopened" in await kinds(case)
    assert (await figures_for(world.merchant.id)).share_performed_on_time == 0.0


async def test_an_overdue_remedy_may_be_reopened(settings: Settings, world: World) -> None:
    case = await settled(settings, world)
    settlement = await Settlement.get(case_id=case.id)
    assert not may_reopen(settlement, date(2026, 11, 9))
    assert may_reopen(settlement, date(2026, 11, 10))


async def test_the_court_record_carries_the_negotiation_for_the_privilege_check(
    settings: Settings, world: World
) -> None:
    """The record the court package is built from holds the whole negotiation, so that the
    privilege check knows every offered amount and condition (and the filter drops them)."""
    case = await file(settings, world)
    proposal = await propose(world, case, "2450.50")
    await do_refuse(world.consumer, case.number, proposal, "金额太低无法接受", FILED)
    record = await case_record_for_court(await fresh(case), FilingKind.TRANSFER)
    assert [(e.kind, e.amount) for e in record.negotiation] == [
        ("proposal", "2450.50"),
        ("refuse", None),
    ]
    found = privileged_strings(record)
    assert {"2450.50", "原路退回支付账户", "金额太低无法接受"} <= found
    package = filter_for_court(record)
    assert "2450.50" not in str(package)
    assert_privileged_absent(package, record)


async def test_handlers_are_reminded_once_with_one_working_day_left(
    settings: Settings, world: World
) -> None:
    case = await file(settings, world)  # due Monday 2026-11-16

    async def reminders() -> int:
        return await Notice.filter(case_id=case.id, subject__contains="Answer due soon").count()

    assert await do_remind_merchants(shanghai(11, 12)) == 0  # two working days left
    assert await reminders() == 0
    results = await asyncio.gather(
        do_remind_merchants(shanghai(11, 13)), do_remind_merchants(shanghai(11, 13))
    )
    assert sorted(results) == [0, 1]
    assert await reminders() == 1  # the one handler, by email
    assert await do_remind_merchants(shanghai(11, 16)) == 0


async def test_a_handler_names_another_handler(settings: Settings, world: World) -> None:
    handler = await do_create_handler(
        world.handler,
        username="shop2",
        password=STAFF_PASSWORD,
        display_name="客服 二号",
        email=None,
        mobile=None,
        now=FILED,
    )
    second = viewer_of(await User.get(id=handler.user_id))
    assert second.role == "merchant"
    case = await file(settings, world)
    assert (await access_negotiation(second, case.number)).side is NSide.MERCHANT
    assert [u.username for u in await handlers_of(world.merchant.id)] == ["shop", "shop2"]
    with pytest.raises(NegotiationForbidden):
        await do_create_handler(
            world.consumer,
            username="sneaky",
            password=STAFF_PASSWORD,
            display_name="x",
            email=None,
            mobile=None,
            now=FILED,
        )
    with pytest.raises(NegotiationError):
        await do_create_handler(
            world.handler,
            username="shop2",
            password=STAFF_PASSWORD,
            display_name="重复",
            email=None,
            mobile=None,
            now=FILED,
        )


async def test_a_partner_vouches_for_its_merchant(settings: Settings, world: World) -> None:
    partner, _ = await do_create_partner("演示电商平台")
    code = uscc("91310105MA1FL5555")
    merchant = await do_vouch_enrolment(
        partner_id=partner.id,
        uscc=code,
        name="平台入驻商家有限公司",
        answer_days=10,
        handler_username="vouched",
        handler_password=STAFF_PASSWORD,
        handler_name="客服",
        handler_email=None,
        handler_mobile=None,
        now=FILED,
    )
    assert merchant.status == EnrolmentStatus.ENROLLED
    assert merchant.vouched_by_id == partner.id  # type: ignore[attr-defined]
    case = await file(settings, world, respondent_id_number=code)
    assert case.status == Status.AWAITING_MERCHANT
    await PartnerPlatform.filter(id=partner.id).update(is_active=False)
    with pytest.raises(NegotiationForbidden):
        await do_vouch_enrolment(
            partner_id=partner.id,
            uscc=uscc("91310105MA1FL5556"),
            name="另一家",
            answer_days=10,
            handler_username="vouched2",
            handler_password=STAFF_PASSWORD,
            handler_name="客服",
            handler_email=None,
            handler_mobile=None,
            now=FILED,
        )


async def test_an_acceptance_and_a_decline_at_once_one_wins(
    settings: Settings, world: World
) -> None:
    case = await file(settings, world)
    proposal = await propose(world, case)
    results = await asyncio.gather(
        do_accept(world.consumer, case.number, proposal, FILED),
        do_decline(world.handler, case.number, "改变主意", FILED),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], CaseConflict), results
    status = (await fresh(case)).status
    negotiation = await Negotiation.get(case_id=case.id)
    if isinstance(results[0], Settlement):
        assert (status, negotiation.state) == (
            Status.SETTLED_BY_NEGOTIATION,
            NegotiationState.SETTLED,
        )
    else:
        assert negotiation.state == NegotiationState.DECLINED
        assert status == Status.ASSIGNING
        assert not await Settlement.exists()


async def test_the_platforms_limits_bound_a_merchants_time(world: World) -> None:
    """The limits come from the platform's settings (its administrator's to set)."""
    with pytest.raises(NegotiationError):
        await do_set_answer_days(world.handler, 15, (3, 12))
    assert (await do_set_answer_days(world.handler, 12, (3, 12))).answer_days == 12
    assert (await do_set_answer_days(world.handler, 20, (5, 20))).answer_days == 20
