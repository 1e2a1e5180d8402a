"""What the pages show of a merchant's negotiation (先行协商): its labels (the one catalogue
for remedies, negotiation states and thread steps, read by the case page, the merchant's
portal and the settlement record) and the view each viewer gets. No rule lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cases.access import Viewer
from cases.clock import local_date, utcnow
from cases.errors import CaseNotFound
from cases.models import Case
from cases.negotiation.actions import (
    Seat,
    access_negotiation,
    may_reopen,
    remedy_moves,
    settlement_of,
    thread_of,
)
from cases.negotiation.models import NegotiationMessage, Settlement
from cases.negotiation.rules import (
    MAX_ANSWER_DAYS,
    MIN_ANSWER_DAYS,
    Move,
    ProposalState,
    RemedyKind,
    moves_for,
)
from cases.negotiation.rules import Side as NegotiationSide
from cases.performance.actions import item_state
from mediation.i18n import N_

REMEDY_LABELS: dict[str, str] = {
    RemedyKind.REFUND: N_("Refund"),
    RemedyKind.EXCHANGE: N_("Exchange"),
    RemedyKind.REPAIR: N_("Repair"),
    RemedyKind.COMPENSATION: N_("Compensation"),
    RemedyKind.APOLOGY: N_("Apology"),
}

NEGOTIATION_STATE_LABELS: dict[str, str] = {
    "open": N_("Waiting for an answer"),
    "settled": N_("Settled by negotiation"),
    "refused": N_("The consumer refused: gone on to mediation"),
    "declined": N_("The merchant declined: gone on to mediation"),
    "expired": N_("No settlement in time: gone on to mediation"),
    "withdrawn": N_("Withdrawn"),
}

PROPOSAL_STATE_LABELS: dict[str, str] = {
    ProposalState.OPEN: N_("waiting for the consumer's answer"),
    ProposalState.ACCEPTED: N_("accepted"),
    ProposalState.REFUSED: N_("refused"),
    ProposalState.SUPERSEDED: N_("replaced by a later proposal"),
    ProposalState.LAPSED: N_("lapsed when the negotiation ended"),
}

ENROLMENT_STATE_LABELS: dict[str, str] = {
    "pending": N_("Waiting for the platform's confirmation"),
    "enrolled": N_("Enrolled: disputes come to it first"),
    "suspended": N_("Suspended"),
}

SIDE_LABELS: dict[str, str] = {
    NegotiationSide.MERCHANT: N_("Merchant"),
    NegotiationSide.CONSUMER: N_("Consumer"),
}


@dataclass(frozen=True)
class Step:
    id: int
    kind: str
    side: str
    at: datetime
    text: str
    remedy_kind: str = ""
    amount: Decimal | None = None
    conditions: str = ""
    perform_by: date | None = None
    proposal_state: str | None = None
    replies: list[Step] = field(default_factory=list)
    # The partner platform that wrote it for the merchant (its delegate), if one did.
    by_partner: str = ""


@dataclass(frozen=True)
class NegotiationView:
    number: str
    merchant_name: str
    state: str
    due_on: date | None
    overdue: bool
    side: str | None  # merchant | consumer | None (staff, read only)
    moves: list[str]
    steps: list[Step]  # top-level steps, questions with their replies
    open_proposal: Step | None
    settlement: Settlement | None
    settlement_state: str | None
    remedy_moves: list[str]
    may_reopen: bool


def _step(m: NegotiationMessage) -> Step:
    return Step(
        id=m.id,
        kind=str(m.kind),
        side=m.side,
        at=m.created_at,
        text=m.text,
        remedy_kind=m.remedy_kind,
        amount=m.amount,
        conditions=m.conditions,
        perform_by=m.perform_by,
        proposal_state=str(m.proposal_state) if m.proposal_state else None,
        by_partner=m.author_partner.name if m.author_partner_id and m.author_partner else "",
    )


async def view_of(seat: Seat, today: date) -> NegotiationView:
    messages = await thread_of(seat.negotiation)
    steps: list[Step] = []
    by_id: dict[int, Step] = {}
    for m in messages:
        step = _step(m)
        by_id[m.id] = step
        if m.thread_id is not None and m.thread_id in by_id:
            by_id[m.thread_id].replies.append(step)
        else:
            steps.append(step)
    open_proposal = next(
        (s for s in steps if s.kind == "proposal" and s.proposal_state == ProposalState.OPEN),
        None,
    )
    negotiation = seat.negotiation
    overdue = negotiation.due_on is not None and today > negotiation.due_on
    settlement = await settlement_of(seat.case)
    return NegotiationView(
        number=seat.case.number,
        merchant_name=negotiation.merchant.name,
        state=str(negotiation.state),
        due_on=negotiation.due_on,
        overdue=overdue,
        side=seat.side.value if seat.side else None,
        moves=[
            m.value
            for m in moves_for(seat.side, negotiation.state, open_proposal is not None, overdue)
        ],
        steps=steps,
        open_proposal=open_proposal,
        settlement=settlement,
        settlement_state=(
            item_state(settlement.status, settlement.perform_by, today).value
            if settlement
            else None
        ),
        remedy_moves=(
            [m.value for m in remedy_moves(settlement.status, seat.side)]
            if settlement and settlement.reopened_at is None
            else []
        ),
        may_reopen=bool(
            settlement and seat.side is NegotiationSide.CONSUMER and may_reopen(settlement, today)
        ),
    )


async def negotiation_context(case: Case, viewer: Viewer) -> NegotiationView | None:
    """The negotiation part of a case page, or None when the case had none."""
    try:
        seat = await access_negotiation(viewer, case.number)
    except CaseNotFound:
        return None
    return await view_of(seat, local_date(utcnow()))


def label_context() -> dict[str, object]:
    return {
        "remedy_labels": REMEDY_LABELS,
        "negotiation_state_labels": NEGOTIATION_STATE_LABELS,
        "proposal_state_labels": PROPOSAL_STATE_LABELS,
        "enrolment_state_labels": ENROLMENT_STATE_LABELS,
        "side_labels": SIDE_LABELS,
        "remedy_kinds": [k.value for k in RemedyKind],
        "min_answer_days": MIN_ANSWER_DAYS,
        "max_answer_days": MAX_ANSWER_DAYS,
        "move_names": {m.value for m in Move},
    }
