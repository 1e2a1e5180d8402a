"""Merchants answer first (先行协商): the pure rules, table-tested.

A dispute whose respondent is an enrolled first-response enterprise goes to that merchant
before any mediator. The merchant proposes a remedy, asks the consumer a question, or
declines; the consumer accepts a remedy (settled by negotiation) or refuses it. A refusal, a
decline or the time limit passing sends the case on to routing as any accepted case.

Pure: no I/O, no ORM, no clock. Codes only; the shell holds the words
(`mediation/negotiation_view.py`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from cases.identity import is_valid_uscc, normalise_uscc

# The time a merchant has to answer, in working days: 10 by default (as 12315's ODR
# enterprises); a merchant may set its own within the platform's limits.
DEFAULT_ANSWER_DAYS = 10
MIN_ANSWER_DAYS = 3
MAX_ANSWER_DAYS = 15

MAX_TEXT_CHARS = 2000
MAX_CONDITIONS_CHARS = 1000
MAX_REMEDY_AMOUNT = Decimal("10000000")
# A remedy is performed within this many days of its acceptance at the latest.
MAX_PERFORM_DAYS = 90


class EnrolmentStatus(StrEnum):
    PENDING = "pending"  # asked for, waiting for a platform admin
    ENROLLED = "enrolled"  # confirmed: its disputes come to it first
    SUSPENDED = "suspended"  # no longer answers first


class RemedyKind(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    COMPENSATION = "compensation"
    APOLOGY = "apology"


# The kinds that are an amount of money (the others may name one, e.g. a repair's cost).
MONEY_REMEDIES = frozenset({RemedyKind.REFUND, RemedyKind.COMPENSATION})


class NegotiationState(StrEnum):
    OPEN = "open"  # waiting for the merchant, or for the consumer's answer
    SETTLED = "settled"  # the consumer accepted a remedy
    REFUSED = "refused"  # the consumer refused: on to mediation
    DECLINED = "declined"  # the merchant declined: on to mediation
    EXPIRED = "expired"  # the time limit passed: on to mediation
    WITHDRAWN = "withdrawn"  # the consumer withdrew the dispute


ENDED_TO_MEDIATION = frozenset(
    {NegotiationState.REFUSED, NegotiationState.DECLINED, NegotiationState.EXPIRED}
)


class MessageKind(StrEnum):
    PROPOSAL = "proposal"  # a remedy, by the merchant
    QUESTION = "question"  # by the merchant, opens a thread
    REPLY = "reply"  # in a question's thread, by either side
    DECLINE = "decline"  # the merchant declines, with a reason
    ACCEPT = "accept"  # the consumer accepts a proposal
    REFUSE = "refuse"  # the consumer refuses, with an optional reason


class ProposalState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SUPERSEDED = "superseded"  # the merchant proposed something else since
    LAPSED = "lapsed"  # the negotiation ended without it


class Side(StrEnum):
    MERCHANT = "merchant"
    CONSUMER = "consumer"


class Move(StrEnum):
    PROPOSE = "propose"
    ASK = "ask"
    REPLY = "reply"
    DECLINE = "decline"
    ACCEPT = "accept"
    REFUSE = "refuse"


MOVE_SIDES: dict[Move, frozenset[Side]] = {
    Move.PROPOSE: frozenset({Side.MERCHANT}),
    Move.ASK: frozenset({Side.MERCHANT}),
    Move.REPLY: frozenset({Side.MERCHANT, Side.CONSUMER}),
    Move.DECLINE: frozenset({Side.MERCHANT}),
    Move.ACCEPT: frozenset({Side.CONSUMER}),
    Move.REFUSE: frozenset({Side.CONSUMER}),
}

# What a move does to the negotiation (None: it stays open).
MOVE_ENDS: dict[Move, NegotiationState | None] = {
    Move.PROPOSE: None,
    Move.ASK: None,
    Move.REPLY: None,
    Move.DECLINE: NegotiationState.DECLINED,
    Move.ACCEPT: NegotiationState.SETTLED,
    Move.REFUSE: NegotiationState.REFUSED,
}


def check_move(
    move: Move, side: Side | None, state: str, has_open_proposal: bool, overdue: bool
) -> str | None:
    """None when `side` may make `move` now; otherwise the error code."""
    if side is None or side not in MOVE_SIDES[move]:
        return "negotiation_not_your_move"
    if state != NegotiationState.OPEN:
        return "negotiation_closed"
    if overdue:
        return "negotiation_deadline_passed"
    if move in (Move.ACCEPT, Move.REFUSE) and not has_open_proposal:
        return "negotiation_no_open_proposal"
    return None


def moves_for(side: Side | None, state: str, has_open_proposal: bool, overdue: bool) -> list[Move]:
    return [m for m in Move if check_move(m, side, state, has_open_proposal, overdue) is None]


# --- enrolment -----------------------------------------------------------------------------


def check_answer_days(
    days: int, low: int = MIN_ANSWER_DAYS, high: int = MAX_ANSWER_DAYS
) -> str | None:
    if days < low or days > high:
        return "answer_days_out_of_range"
    return None


def check_enrolment(
    uscc: str,
    name: str,
    answer_days: int,
    limits: tuple[int, int] = (MIN_ANSWER_DAYS, MAX_ANSWER_DAYS),
) -> dict[str, str]:
    """Field errors of a request to enrol as a first-response enterprise."""
    errors: dict[str, str] = {}
    if not is_valid_uscc(normalise_uscc(uscc)):
        errors["uscc"] = "uscc_invalid"
    if not name.strip() or len(name) > 200:
        errors["name"] = "merchant_name_invalid"
    if (error := check_answer_days(answer_days, *limits)) is not None:
        errors["answer_days"] = error
    return errors


ENROLMENT_MOVES: dict[tuple[EnrolmentStatus, EnrolmentStatus], str] = {
    (EnrolmentStatus.PENDING, EnrolmentStatus.ENROLLED): "platform_admin",
    (EnrolmentStatus.ENROLLED, EnrolmentStatus.SUSPENDED): "platform_admin",
    (EnrolmentStatus.SUSPENDED, EnrolmentStatus.ENROLLED): "platform_admin",
}


def check_enrolment_move(source: str, target: str, role: str) -> str | None:
    """Only a platform admin confirms, suspends or restores an enrolment."""
    try:
        edge = (EnrolmentStatus(source), EnrolmentStatus(target))
    except ValueError:
        return "enrolment_no_such_move"
    allowed = ENROLMENT_MOVES.get(edge)
    if allowed is None:
        return "enrolment_no_such_move"
    if role != allowed:
        return "enrolment_platform_admin_only"
    return None


# --- a proposal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Remedy:
    kind: RemedyKind
    amount: Decimal | None
    conditions: str
    perform_by: date


def check_remedy(
    kind: str, amount: str, conditions: str, perform_by: str, today: date
) -> tuple[Remedy | None, dict[str, str]]:
    """A proposed remedy from form values, or its field errors."""
    errors: dict[str, str] = {}
    try:
        remedy_kind = RemedyKind(kind)
    except ValueError:
        errors["kind"] = "remedy_kind_invalid"
        remedy_kind = None
    value: Decimal | None = None
    if amount.strip():
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            errors["amount"] = "remedy_amount_invalid"
        else:
            if (
                not value.is_finite()
                or value <= 0
                or value > MAX_REMEDY_AMOUNT
                or value != value.quantize(Decimal("0.01"))
            ):
                errors["amount"] = "remedy_amount_invalid"
    elif remedy_kind in MONEY_REMEDIES:
        errors["amount"] = "remedy_amount_required"
    if len(conditions) > MAX_CONDITIONS_CHARS:
        errors["conditions"] = "text_too_long"
    if remedy_kind in (RemedyKind.EXCHANGE, RemedyKind.REPAIR) and not conditions.strip():
        errors["conditions"] = "remedy_conditions_required"
    due: date | None = None
    try:
        due = date.fromisoformat(perform_by.strip())
    except ValueError:
        errors["perform_by"] = "remedy_date_invalid"
    else:
        if due < today or due > today + timedelta(days=MAX_PERFORM_DAYS):
            errors["perform_by"] = "remedy_date_out_of_range"
    if errors or remedy_kind is None or due is None:
        return None, errors
    return Remedy(remedy_kind, value, conditions.strip(), due), {}


def check_text(text: str, required: bool = True) -> str | None:
    if required and not text.strip():
        return "text_required"
    if len(text) > MAX_TEXT_CHARS:
        return "text_too_long"
    return None


# --- figures per merchant --------------------------------------------------------------------


@dataclass(frozen=True)
class NegotiationFacts:
    """What the figures need of one negotiation."""

    started_at: datetime
    first_answer_at: datetime | None  # the merchant's first proposal, question or decline
    state: str
    # Of a settlement: was the remedy performed (confirmed or marked), and on time?
    performed_on_time: bool | None = None


@dataclass(frozen=True)
class MerchantFigures:
    disputes: int
    answered: int
    settled: int
    response_rate: float | None  # answered / disputes whose answer is due or given
    median_hours_to_first_answer: float | None
    share_settled: float | None  # settled / ended
    share_performed_on_time: float | None  # of settlements whose performance is known


def merchant_figures(items: Sequence[NegotiationFacts]) -> MerchantFigures:
    answered = [i for i in items if i.first_answer_at is not None]
    hours = [
        (i.first_answer_at - i.started_at).total_seconds() / 3600
        for i in answered
        if i.first_answer_at is not None
    ]
    ended = [i for i in items if i.state != NegotiationState.OPEN]
    # An open negotiation not answered yet still has time: it does not count against the
    # merchant; an ended one never answered does.
    counted = [
        i for i in items if i.first_answer_at is not None or i.state != NegotiationState.OPEN
    ]
    settled = [i for i in ended if i.state == NegotiationState.SETTLED]
    known = [i for i in settled if i.performed_on_time is not None]
    return MerchantFigures(
        disputes=len(items),
        answered=len(answered),
        settled=len(settled),
        response_rate=len(answered) / len(counted) if counted else None,
        median_hours_to_first_answer=statistics.median(hours) if hours else None,
        share_settled=len(settled) / len(ended) if ended else None,
        share_performed_on_time=(
            sum(1 for i in known if i.performed_on_time) / len(known) if known else None
        ),
    )
