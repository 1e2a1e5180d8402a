"""Table tests of the pure rules of merchants answering first (先行协商)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cases.negotiation.rules import (
    DEFAULT_ANSWER_DAYS,
    MOVE_ENDS,
    MOVE_SIDES,
    Move,
    NegotiationFacts,
    NegotiationState,
    RemedyKind,
    Side,
    check_answer_days,
    check_enrolment,
    check_enrolment_move,
    check_move,
    check_remedy,
    check_text,
    merchant_figures,
    moves_for,
)
from tests.support.factories import uscc

M, C = Side.MERCHANT, Side.CONSUMER
OPEN = NegotiationState.OPEN


@pytest.mark.parametrize(
    ("move", "side", "state", "has_proposal", "overdue", "error"),
    [
        (Move.PROPOSE, M, OPEN, False, False, None),
        (Move.PROPOSE, M, OPEN, True, False, None),  # a new round supersedes the last
        (Move.ASK, M, OPEN, False, False, None),
        (Move.DECLINE, M, OPEN, True, False, None),
        (Move.REPLY, C, OPEN, False, False, None),
        (Move.REPLY, M, OPEN, False, False, None),
        (Move.ACCEPT, C, OPEN, True, False, None),
        (Move.REFUSE, C, OPEN, True, False, None),
        (Move.ACCEPT, C, OPEN, False, False, "negotiation_no_open_proposal"),
        (Move.REFUSE, C, OPEN, False, False, "negotiation_no_open_proposal"),
        (Move.PROPOSE, C, OPEN, False, False, "negotiation_not_your_move"),
        (Move.DECLINE, C, OPEN, False, False, "negotiation_not_your_move"),
        (Move.ACCEPT, M, OPEN, True, False, "negotiation_not_your_move"),
        (Move.ASK, None, OPEN, False, False, "negotiation_not_your_move"),
        (Move.PROPOSE, M, NegotiationState.SETTLED, False, False, "negotiation_closed"),
        (Move.ACCEPT, C, NegotiationState.EXPIRED, True, False, "negotiation_closed"),
        (Move.REPLY, C, NegotiationState.DECLINED, False, False, "negotiation_closed"),
        (Move.PROPOSE, M, OPEN, False, True, "negotiation_deadline_passed"),
        (Move.ACCEPT, C, OPEN, True, True, "negotiation_deadline_passed"),
    ],
)
def test_check_move(
    move: Move, side: Side | None, state: str, has_proposal: bool, overdue: bool, error: str | None
) -> None:
    assert check_move(move, side, state, has_proposal, overdue) == error


def test_moves_for_each_side() -> None:
    assert moves_for(M, OPEN, True, False) == [Move.PROPOSE, Move.ASK, Move.REPLY, Move.DECLINE]
    assert moves_for(C, OPEN, True, False) == [Move.REPLY, Move.ACCEPT, Move.REFUSE]
    assert moves_for(C, OPEN, False, False) == [Move.REPLY]
    assert moves_for(M, NegotiationState.SETTLED, False, False) == []


def test_every_move_has_sides_and_an_outcome() -> None:
    assert set(MOVE_SIDES) == set(Move) == set(MOVE_ENDS)
    assert MOVE_ENDS[Move.ACCEPT] is NegotiationState.SETTLED
    assert {MOVE_ENDS[Move.REFUSE], MOVE_ENDS[Move.DECLINE]} == {
        NegotiationState.REFUSED,
        NegotiationState.DECLINED,
    }


@pytest.mark.parametrize(
    ("days", "error"),
    [
        (DEFAULT_ANSWER_DAYS, None),
        (3, None),
        (15, None),
        (2, "answer_days_out_of_range"),
        (16, "answer_days_out_of_range"),
    ],
)
def test_answer_days_within_the_platform_limits(days: int, error: str | None) -> None:
    assert check_answer_days(days) == error


def test_enrolment_checks_the_credit_code_name_and_days() -> None:
    assert check_enrolment(uscc(), "上海某某旅行社有限公司", 10) == {}
    assert check_enrolment("91310105MA1FL00001", "", 30) == {
        "uscc": "uscc_invalid",
        "name": "merchant_name_invalid",
        "answer_days": "answer_days_out_of_range",
    }


@pytest.mark.parametrize(
    ("source", "target", "role", "error"),
    [
        ("pending", "enrolled", "platform_admin", None),
        ("pending", "enrolled", "merchant", "enrolment_platform_admin_only"),
        ("pending", "enrolled", "org_admin", "enrolment_platform_admin_only"),
        ("enrolled", "suspended", "platform_admin", None),
        ("suspended", "enrolled", "platform_admin", None),
        ("enrolled", "enrolled", "platform_admin", "enrolment_no_such_move"),
        ("pending", "suspended", "platform_admin", "enrolment_no_such_move"),
        ("nonsense", "enrolled", "platform_admin", "enrolment_no_such_move"),
    ],
)
def test_enrolment_moves(source: str, target: str, role: str, error: str | None) -> None:
    assert check_enrolment_move(source, target, role) == error


TODAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("kind", "amount", "conditions", "perform_by", "errors"),
    [
        ("refund", "3680", "", "2026-11-09", {}),
        ("refund", "3680.50", "原路退回", "2026-11-02", {}),
        ("apology", "", "", "2026-11-03", {}),
        ("repair", "", "上门维修", "2026-11-20", {}),
        ("refund", "", "", "2026-11-09", {"amount": "remedy_amount_required"}),
        ("compensation", "0", "", "2026-11-09", {"amount": "remedy_amount_invalid"}),
        ("refund", "-5", "", "2026-11-09", {"amount": "remedy_amount_invalid"}),
        ("refund", "1.005", "", "2026-11-09", {"amount": "remedy_amount_invalid"}),
        ("refund", "NaN", "", "2026-11-09", {"amount": "remedy_amount_invalid"}),
        ("refund", "abc", "", "2026-11-09", {"amount": "remedy_amount_invalid"}),
        ("exchange", "", " ", "2026-11-09", {"conditions": "remedy_conditions_required"}),
        ("refund", "10", "", "2026-11-01", {"perform_by": "remedy_date_out_of_range"}),
        ("refund", "10", "", "2027-03-01", {"perform_by": "remedy_date_out_of_range"}),
        ("refund", "10", "", "soon", {"perform_by": "remedy_date_invalid"}),
        ("bribe", "10", "", "2026-11-09", {"kind": "remedy_kind_invalid"}),
    ],
)
def test_check_remedy(
    kind: str, amount: str, conditions: str, perform_by: str, errors: dict[str, str]
) -> None:
    remedy, found = check_remedy(kind, amount, conditions, perform_by, TODAY)
    assert found == errors
    assert (remedy is None) == bool(errors)


def test_a_good_remedy_is_parsed() -> None:
    remedy, _ = check_remedy("refund", " 3680.00 ", " 原路退回 ", "2026-11-09", TODAY)
    assert remedy is not None
    assert (remedy.kind, remedy.amount, remedy.conditions, remedy.perform_by) == (
        RemedyKind.REFUND,
        Decimal("3680.00"),
        "原路退回",
        date(2026, 11, 9),
    )


@pytest.mark.parametrize(
    ("text", "required", "error"),
    [
        ("请提供订单截图", True, None),
        ("  ", True, "text_required"),
        ("", False, None),
        ("字" * 2001, False, "text_too_long"),
    ],
)
def test_check_text(text: str, required: bool, error: str | None) -> None:
    assert check_text(text, required) == error


T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _facts(answer_hours: float | None, state: str, on_time: bool | None = None) -> NegotiationFacts:
    return NegotiationFacts(
        started_at=T0,
        first_answer_at=None if answer_hours is None else T0 + timedelta(hours=answer_hours),
        state=state,
        performed_on_time=on_time,
    )


def test_merchant_figures() -> None:
    figures = merchant_figures(
        [
            _facts(2, NegotiationState.SETTLED, True),
            _facts(10, NegotiationState.SETTLED, False),
            _facts(4, NegotiationState.SETTLED, None),  # performance not known yet
            _facts(30, NegotiationState.REFUSED),
            _facts(None, NegotiationState.EXPIRED),  # never answered: counts against it
            _facts(None, OPEN),  # still has time: not counted either way
        ]
    )
    assert (figures.disputes, figures.answered, figures.settled) == (6, 4, 3)
    assert figures.response_rate == pytest.approx(4 / 5)
    assert figures.median_hours_to_first_answer == pytest.approx(7.0)
    assert figures.share_settled == pytest.approx(3 / 5)
    assert figures.share_performed_on_time == pytest.approx(1 / 2)


def test_figures_of_a_merchant_with_nothing_yet() -> None:
    figures = merchant_figures([_facts(None, OPEN)])
    assert figures.response_rate is None
    assert figures.median_hours_to_first_answer is None
    assert figures.share_settled is None
    assert figures.share_performed_on_time is None
