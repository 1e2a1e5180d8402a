"""Where a case stands and what one viewer must do next: the case page's step bar and banner.

Pure: no database, no clock. The caller gathers the case's situation (status, open time
limits, sessions, agreement, court filing) for one viewer into a `Situation`; `next_step`
answers with the step of the case's life it is at and the one thing this viewer must do now,
by when, so the page can show it first. The words are the shell's (mediation/steps_view.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from cases.status import Status


class Step(StrEnum):
    """The steps of the bar, in order."""

    FILED = "filed"
    RESPONDENT = "respondent"
    MEDIATOR = "mediator"
    MEDIATION = "mediation"
    OUTCOME = "outcome"  # an agreement, or mediation ended without one
    COURT = "court"


STEPS: tuple[Step, ...] = tuple(Step)


class Seat(StrEnum):
    """Where the viewer sits on this case."""

    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    MEDIATOR = "mediator"  # the case's own mediator
    ADMIN = "admin"  # an administrator who handles the case
    OBSERVER = "observer"  # anyone else allowed to read it


class Action(StrEnum):
    """What the viewer must do now (`wait_*`: nothing, someone else acts)."""

    ANSWER_INVITATION = "answer_invitation"
    WAIT_FOR_RESPONDENT = "wait_for_respondent"
    WAIT_FOR_MERCHANT = "wait_for_merchant"  # an enrolled merchant answers first
    CHOOSE_MEDIATOR = "choose_mediator"
    WAIT_FOR_CHOICE = "wait_for_choice"
    WAIT_FOR_ASSIGNMENT = "wait_for_assignment"
    APPOINT_MEDIATOR = "appoint_mediator"
    ANSWER_ASSIGNMENT = "answer_assignment"
    WAIT_FOR_MEDIATOR = "wait_for_mediator"
    SCHEDULE_SESSION = "schedule_session"
    WAIT_FOR_SESSION = "wait_for_session"
    ATTEND_SESSION = "attend_session"
    JOIN_SESSION = "join_session"
    DRAFT_AGREEMENT = "draft_agreement"
    FINISH_AGREEMENT = "finish_agreement"
    SIGN_AGREEMENT = "sign_agreement"
    WAIT_FOR_SIGNATURES = "wait_for_signatures"
    APPLY_FOR_CONFIRMATION = "apply_for_confirmation"
    WAIT_FOR_OTHER_APPLICATION = "wait_for_other_application"
    COMPLETE_END_RECORD = "complete_end_record"
    WAIT_FOR_END_RECORD = "wait_for_end_record"
    MEDIATION_UNDER_WAY = "mediation_under_way"
    PERFORM_TERMS = "perform_terms"
    ANSWER_PERFORMANCE = "answer_performance"
    TRANSFER_TO_COURT = "transfer_to_court"
    CORRECT_FILING = "correct_filing"
    WAIT_FOR_CORRECTION = "wait_for_correction"
    WAIT_FOR_COURT = "wait_for_court"
    DONE = "done"


# Actions that need nothing of the viewer: the banner says who acts, with no button.
WAITING = frozenset(
    {
        Action.WAIT_FOR_RESPONDENT,
        Action.WAIT_FOR_MERCHANT,
        Action.WAIT_FOR_CHOICE,
        Action.WAIT_FOR_ASSIGNMENT,
        Action.WAIT_FOR_MEDIATOR,
        Action.WAIT_FOR_SESSION,
        Action.WAIT_FOR_SIGNATURES,
        Action.WAIT_FOR_OTHER_APPLICATION,
        Action.WAIT_FOR_CORRECTION,
        Action.WAIT_FOR_COURT,
        Action.WAIT_FOR_END_RECORD,
        Action.MEDIATION_UNDER_WAY,
        Action.DONE,
    }
)

# The time limit (deadline regime, cases.deadlines.rules.Regime) that bounds mediation.
MEDIATION_REGIMES = ("online_mediation", "consumer_mediation")


@dataclass(frozen=True)
class SessionSlot:
    id: int
    starts_at: datetime
    is_open: bool  # the room can be entered now
    scheduled: bool  # not yet held or cancelled


@dataclass(frozen=True)
class Situation:
    status: Status
    seat: Seat
    # Open time limits by regime: the last day (None while a pause freezes it).
    deadlines: Mapping[str, date | None] = field(default_factory=dict)
    respondent_reply_due: datetime | None = None
    chose_mediator: bool = False  # this party has already named a mediator
    sessions: tuple[SessionSlot, ...] = ()
    agreement_status: str | None = None  # draft, signing, effective, superseded, withdrawn
    missing_signers: tuple[str, ...] = ()  # applicant, respondent, mediator
    accepted_offer: bool = False  # an offer was accepted in a room
    applied_for_confirmation: bool = False  # this party has applied already
    end_record_complete: bool = True
    returned_kind: str | None = None  # the returned filing's kind: transfer, confirmation
    # The effective agreement's terms: the due days of those this party still has to perform,
    # and how many the other side marked performed that this party has not yet answered.
    terms_to_perform: tuple[date, ...] = ()
    terms_to_answer: int = 0


@dataclass(frozen=True)
class NextStep:
    step: Step
    halted: bool  # the case ended at this step (refused, withdrawn, ...)
    action: Action
    due_on: date | None = None  # the last day (a period ends at 24:00 of it)
    due_at: datetime | None = None  # an exact time (an answer's deadline, a session's start)
    session_id: int | None = None  # the session to attend or join

    @property
    def waiting(self) -> bool:
        return self.action in WAITING


_STEP_OF: dict[Status, Step] = {
    Status.SUBMITTED: Step.FILED,
    Status.AWAITING_CONSENT: Step.RESPONDENT,
    Status.AWAITING_MERCHANT: Step.RESPONDENT,  # the merchant answers first (cases.negotiation)
    Status.REFUSED: Step.RESPONDENT,
    Status.NO_RESPONSE: Step.RESPONDENT,
    Status.ACCEPTED: Step.MEDIATOR,
    Status.ASSIGNING: Step.MEDIATOR,
    Status.AWAITING_MEDIATOR: Step.MEDIATOR,
    Status.IN_MEDIATION: Step.MEDIATION,
    Status.SETTLED: Step.OUTCOME,
    Status.SETTLED_BY_NEGOTIATION: Step.OUTCOME,
    Status.FAILED: Step.OUTCOME,
    Status.WITHDRAWN: Step.OUTCOME,
    Status.TIMED_OUT: Step.OUTCOME,
    Status.CONFIRMATION_REQUESTED: Step.COURT,
    Status.CONFIRMED: Step.COURT,
    Status.CONFIRMATION_REJECTED: Step.COURT,
    Status.TRANSFERRED: Step.COURT,
    Status.RETURNED_FOR_CORRECTION: Step.COURT,
    Status.DOCKETED: Step.COURT,
}

# Ended before reaching the court: the bar stops at its step.
_HALTED = frozenset({Status.REFUSED, Status.NO_RESPONSE, Status.WITHDRAWN})

_PARTIES = (Seat.APPLICANT, Seat.RESPONDENT)


def step_of(status: Status) -> Step:
    return _STEP_OF[status]


def _mediation_due(s: Situation) -> date | None:
    return next((s.deadlines[r] for r in MEDIATION_REGIMES if s.deadlines.get(r)), None)


def _session_now(s: Situation) -> SessionSlot | None:
    return next((x for x in s.sessions if x.is_open), None)


def _next_session(s: Situation) -> SessionSlot | None:
    upcoming = sorted((x for x in s.sessions if x.scheduled), key=lambda x: x.starts_at)
    return upcoming[0] if upcoming else None


def _in_mediation(s: Situation) -> tuple[Action, date | None, datetime | None, int | None]:
    due = _mediation_due(s)
    open_now = _session_now(s)
    if open_now is not None and s.seat in (*_PARTIES, Seat.MEDIATOR):
        return Action.JOIN_SESSION, None, open_now.starts_at, open_now.id
    if s.agreement_status == "signing" and str(s.seat) in s.missing_signers:
        return Action.SIGN_AGREEMENT, due, None, None
    if s.seat is Seat.MEDIATOR:
        if s.agreement_status == "draft":
            return Action.FINISH_AGREEMENT, due, None, None
        if s.agreement_status in (None, "withdrawn", "superseded") and s.accepted_offer:
            return Action.DRAFT_AGREEMENT, due, None, None
    if s.agreement_status == "signing" and s.seat in (*_PARTIES, Seat.MEDIATOR):
        return Action.WAIT_FOR_SIGNATURES, due, None, None
    upcoming = _next_session(s)
    if upcoming is not None and s.seat in (*_PARTIES, Seat.MEDIATOR):
        return Action.ATTEND_SESSION, None, upcoming.starts_at, upcoming.id
    if s.seat is Seat.MEDIATOR:
        return Action.SCHEDULE_SESSION, due, None, None
    if s.seat in _PARTIES:
        return Action.WAIT_FOR_SESSION, due, None, None
    return Action.MEDIATION_UNDER_WAY, due, None, None


# After the agreement took effect (before the court, or while and after it confirms it), the
# parties perform its terms.
_PERFORMING = frozenset({Status.SETTLED, Status.CONFIRMATION_REQUESTED, Status.CONFIRMED})


def _performance(s: Situation) -> tuple[Action, date | None] | None:
    if s.seat not in _PARTIES or s.status not in _PERFORMING:
        return None
    if s.terms_to_answer:
        return Action.ANSWER_PERFORMANCE, None
    if s.terms_to_perform:
        return Action.PERFORM_TERMS, min(s.terms_to_perform)
    return None


def next_step(s: Situation) -> NextStep:
    """The step the case is at and the one thing this viewer must do now."""
    status, seat = s.status, s.seat
    step = step_of(status)
    halted = status in _HALTED
    party = seat in _PARTIES
    due_on: date | None = None
    due_at: datetime | None = None
    session_id: int | None = None
    action = Action.DONE

    if status in (Status.SUBMITTED, Status.AWAITING_CONSENT):
        due_at = s.respondent_reply_due
        action = Action.ANSWER_INVITATION if seat is Seat.RESPONDENT else Action.WAIT_FOR_RESPONDENT
    elif status is Status.AWAITING_MERCHANT:
        # The merchant's proposals are answered in the negotiation part of the case page.
        due_on = s.deadlines.get("merchant_answer")
        action = Action.WAIT_FOR_MERCHANT if party else Action.DONE
    elif status in (Status.ACCEPTED, Status.ASSIGNING):
        choosing = "party_choice" in s.deadlines
        if party and choosing and not s.chose_mediator:
            action, due_on = Action.CHOOSE_MEDIATOR, s.deadlines["party_choice"]
        elif party and choosing:
            action, due_on = Action.WAIT_FOR_CHOICE, s.deadlines["party_choice"]
        elif seat is Seat.ADMIN and status is Status.ASSIGNING:
            action, due_on = Action.APPOINT_MEDIATOR, s.deadlines.get("appointment")
        else:
            action, due_on = Action.WAIT_FOR_ASSIGNMENT, s.deadlines.get("appointment")
    elif status is Status.AWAITING_MEDIATOR:
        due_on = s.deadlines.get("mediator_answer")
        action = Action.ANSWER_ASSIGNMENT if seat is Seat.MEDIATOR else Action.WAIT_FOR_MEDIATOR
    elif status is Status.IN_MEDIATION:
        action, due_on, due_at, session_id = _in_mediation(s)
    elif (performing := _performance(s)) is not None:
        action, due_on = performing
    elif status is Status.SETTLED:
        due_on = s.deadlines.get("judicial_confirmation")
        if party and not s.applied_for_confirmation:
            action = Action.APPLY_FOR_CONFIRMATION
        elif party:
            action = Action.WAIT_FOR_OTHER_APPLICATION
    elif status in (Status.FAILED, Status.TIMED_OUT):
        if seat is Seat.MEDIATOR and not s.end_record_complete:
            action = Action.COMPLETE_END_RECORD
        elif seat is Seat.ADMIN and not s.end_record_complete:
            action = Action.WAIT_FOR_END_RECORD
        elif seat is Seat.APPLICANT:
            action = Action.TRANSFER_TO_COURT
    elif status is Status.WITHDRAWN:
        if seat is Seat.MEDIATOR and not s.end_record_complete:
            action = Action.COMPLETE_END_RECORD
        elif seat is Seat.ADMIN and not s.end_record_complete:
            action = Action.WAIT_FOR_END_RECORD
    elif status in (Status.CONFIRMATION_REQUESTED, Status.TRANSFERRED):
        action = Action.WAIT_FOR_COURT
    elif status is Status.RETURNED_FOR_CORRECTION:
        may_correct = seat is Seat.APPLICANT or (
            seat is Seat.RESPONDENT and s.returned_kind == "confirmation"
        )
        if may_correct:
            action = Action.CORRECT_FILING
        elif seat is Seat.MEDIATOR and not s.end_record_complete:
            action = Action.COMPLETE_END_RECORD
        else:
            action = Action.WAIT_FOR_CORRECTION
    if action is Action.DONE:  # no time limit binds a viewer who has nothing to do
        due_on = due_at = None
    return NextStep(step, halted, action, due_on, due_at, session_id)


def bar(next_: NextStep) -> list[tuple[Step, str]]:
    """Each step of the bar with its state: done, current, ended (the case stopped there),
    or ahead."""
    index = STEPS.index(next_.step)
    states = []
    for i, step in enumerate(STEPS):
        if i < index:
            states.append((step, "done"))
        elif i == index:
            states.append((step, "ended" if next_.halted else "current"))
        else:
            states.append((step, "ahead"))
    return states
