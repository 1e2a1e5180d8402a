"""The case status machine: the one table that says which transitions exist and who may fire them.

Pure: no I/O. `cases.actions` is the only code that writes a case's status, and it asks
`check_transition` first. The states follow the case's life in DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_CONSENT = "awaiting_consent"
    # The respondent is an enrolled first-response enterprise: it answers first (先行协商).
    AWAITING_MERCHANT = "awaiting_merchant"
    SETTLED_BY_NEGOTIATION = "settled_by_negotiation"
    REFUSED = "refused"  # the respondent declined mediation (voluntariness, Art. 4 / PML Art. 17)
    NO_RESPONSE = "no_response"  # the respondent could not be reached in time (Art. 15, 25)
    ACCEPTED = "accepted"
    ASSIGNING = "assigning"
    AWAITING_MEDIATOR = "awaiting_mediator"
    IN_MEDIATION = "in_mediation"
    SETTLED = "settled"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"
    TIMED_OUT = "timed_out"
    CONFIRMATION_REQUESTED = "confirmation_requested"
    CONFIRMED = "confirmed"
    CONFIRMATION_REJECTED = "confirmation_rejected"
    TRANSFERRED = "transferred"
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    DOCKETED = "docketed"


class Actor(StrEnum):
    """Who fires a transition: a party, staff by role, the court, or the platform itself."""

    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    MERCHANT = "merchant"  # a handler of an enrolled merchant, answering first
    MEDIATOR = "mediator"
    ORG_ADMIN = "org_admin"
    PLATFORM_ADMIN = "platform_admin"
    COURT = "court"
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    actors: frozenset[Actor]


def _t(source: Status, target: Status, *actors: Actor) -> Transition:
    return Transition(source, target, frozenset(actors))


S, A = Status, Actor
TRANSITIONS: tuple[Transition, ...] = (
    _t(S.SUBMITTED, S.AWAITING_CONSENT, A.SYSTEM),
    _t(S.SUBMITTED, S.WITHDRAWN, A.APPLICANT),
    _t(S.AWAITING_CONSENT, S.ACCEPTED, A.RESPONDENT),
    # Merchants answer first: an enrolled merchant has agreed, by enrolling, to go on to
    # mediation when its answer does not settle the dispute, so the case is then accepted
    # without asking again: the consumer refuses the remedy, the merchant declines, or the
    # merchant's time limit passes (the job).
    _t(S.SUBMITTED, S.AWAITING_MERCHANT, A.SYSTEM),
    _t(S.AWAITING_MERCHANT, S.SETTLED_BY_NEGOTIATION, A.APPLICANT),
    _t(S.AWAITING_MERCHANT, S.ACCEPTED, A.APPLICANT, A.MERCHANT, A.SYSTEM),
    _t(S.AWAITING_MERCHANT, S.WITHDRAWN, A.APPLICANT),
    # The remedy agreed in negotiation was not performed: the consumer re-opens the dispute
    # to mediation.
    _t(S.SETTLED_BY_NEGOTIATION, S.ACCEPTED, A.APPLICANT),
    _t(S.AWAITING_CONSENT, S.REFUSED, A.RESPONDENT),
    _t(S.AWAITING_CONSENT, S.NO_RESPONSE, A.SYSTEM),
    _t(S.AWAITING_CONSENT, S.WITHDRAWN, A.APPLICANT),
    _t(S.ACCEPTED, S.ASSIGNING, A.SYSTEM, A.ORG_ADMIN, A.PLATFORM_ADMIN),
    _t(S.ACCEPTED, S.WITHDRAWN, A.APPLICANT),
    _t(S.ASSIGNING, S.AWAITING_MEDIATOR, A.SYSTEM, A.ORG_ADMIN, A.PLATFORM_ADMIN),
    _t(S.ASSIGNING, S.WITHDRAWN, A.APPLICANT),
    # Declined, recused, unanswered, or a party asked for a change: back to assigning
    # (online mediation rules Art. 12-14).
    _t(
        S.AWAITING_MEDIATOR,
        S.ASSIGNING,
        A.MEDIATOR,
        A.ORG_ADMIN,
        A.PLATFORM_ADMIN,
        A.SYSTEM,
        A.APPLICANT,
        A.RESPONDENT,
    ),
    _t(S.AWAITING_MEDIATOR, S.IN_MEDIATION, A.MEDIATOR),
    _t(S.AWAITING_MEDIATOR, S.WITHDRAWN, A.APPLICANT),
    # A change of mediator (Art. 14), asked by a party or made by an admin.
    _t(S.IN_MEDIATION, S.ASSIGNING, A.ORG_ADMIN, A.PLATFORM_ADMIN, A.APPLICANT, A.RESPONDENT),
    _t(S.IN_MEDIATION, S.SETTLED, A.SYSTEM),  # the last required signature (Art. 19)
    _t(S.IN_MEDIATION, S.FAILED, A.MEDIATOR),
    # A party withdraws (Art. 25); the mediator may record a withdrawal a party declared in
    # the session or by phone, with the Art. 21 record.
    _t(S.IN_MEDIATION, S.WITHDRAWN, A.APPLICANT, A.RESPONDENT, A.MEDIATOR),
    _t(S.IN_MEDIATION, S.TIMED_OUT, A.SYSTEM, A.MEDIATOR),
    _t(S.SETTLED, S.CONFIRMATION_REQUESTED, A.APPLICANT, A.RESPONDENT),
    _t(S.CONFIRMATION_REQUESTED, S.CONFIRMED, A.COURT),
    _t(S.CONFIRMATION_REQUESTED, S.CONFIRMATION_REJECTED, A.COURT),
    _t(S.CONFIRMATION_REQUESTED, S.RETURNED_FOR_CORRECTION, A.COURT),
    _t(S.FAILED, S.TRANSFERRED, A.APPLICANT),
    _t(S.TIMED_OUT, S.TRANSFERRED, A.APPLICANT),
    _t(S.TRANSFERRED, S.RETURNED_FOR_CORRECTION, A.COURT),
    _t(S.TRANSFERRED, S.DOCKETED, A.COURT),
    # A corrected filing goes back as a new filing linked to the returned one.
    _t(S.RETURNED_FOR_CORRECTION, S.TRANSFERRED, A.APPLICANT),
    _t(S.RETURNED_FOR_CORRECTION, S.CONFIRMATION_REQUESTED, A.APPLICANT, A.RESPONDENT),
)

_BY_EDGE: dict[tuple[Status, Status], Transition] = {(t.source, t.target): t for t in TRANSITIONS}

# Cases in these states are over as far as the platform's own work goes.
CLOSED = frozenset(
    {S.REFUSED, S.NO_RESPONSE, S.WITHDRAWN, S.CONFIRMED, S.CONFIRMATION_REJECTED, S.DOCKETED}
)


class TransitionError(Exception):
    """An illegal transition, raised at once (the caller maps it to 409 Conflict)."""

    def __init__(self, source: Status, target: Status, actor: Actor, reason: str) -> None:
        super().__init__(f"{source} -> {target} by {actor}: {reason}")
        self.source, self.target, self.actor, self.reason = source, target, actor, reason


def check_transition(source: Status, target: Status, actor: Actor) -> Transition:
    transition = _BY_EDGE.get((source, target))
    if transition is None:
        raise TransitionError(source, target, actor, "no_such_transition")
    if actor not in transition.actors:
        raise TransitionError(source, target, actor, "actor_not_allowed")
    return transition


def allowed_targets(source: Status, actor: Actor) -> tuple[Status, ...]:
    return tuple(t.target for t in TRANSITIONS if t.source is source and actor in t.actors)
