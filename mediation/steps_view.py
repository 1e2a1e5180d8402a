"""What the top of a case page shows one viewer: the step bar and one banner saying what to do
now, by when, with the button to do it. The decision is `cases.steps` (pure); this module
gathers its facts from what the case page already loaded and holds the words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cases.access import CaseFacts, Viewer, handles_case
from cases.models import Case
from cases.status import Status
from cases.steps import Action, NextStep, Seat, SessionSlot, Situation, Step, bar, next_step
from mediation.i18n import N_

STEP_LABELS = {
    Step.FILED: N_("Dispute filed"),
    Step.RESPONDENT: N_("Respondent answers"),
    Step.MEDIATOR: N_("Mediator"),
    Step.MEDIATION: N_("Mediation"),
    Step.OUTCOME: N_("Agreement or ending"),
    Step.COURT: N_("Court"),
}

STEP_STATE_LABELS = {
    "done": N_("done"),
    "current": N_("current step"),
    "ended": N_("the case ended here"),
    "ahead": N_("not yet"),
}

# The banner's heading: what this viewer must do now, or who acts meanwhile.
ACTION_LABELS = {
    Action.ANSWER_INVITATION: N_(
        "Answer the invitation to mediation: use the link in the SMS or email we sent you."
    ),
    Action.WAIT_FOR_RESPONDENT: N_("Nothing to do now: we are waiting for the respondent."),
    Action.WAIT_FOR_MERCHANT: N_(
        "The merchant answers first. When it proposes a remedy, accept or refuse it below."
    ),
    Action.CHOOSE_MEDIATOR: N_("Choose a mediator together with the other side."),
    Action.WAIT_FOR_CHOICE: N_(
        "You have chosen a mediator. We are waiting for the other side's choice."
    ),
    Action.WAIT_FOR_ASSIGNMENT: N_("Nothing to do now: a mediator is being assigned."),
    Action.APPOINT_MEDIATOR: N_("Appoint a mediator for this case."),
    Action.ANSWER_ASSIGNMENT: N_("Accept or decline this case, after the disclosure."),
    Action.WAIT_FOR_MEDIATOR: N_("Nothing to do now: the mediator has been asked to accept."),
    Action.SCHEDULE_SESSION: N_("Schedule an online session with the parties."),
    Action.WAIT_FOR_SESSION: N_(
        "Nothing to do now: the mediator will schedule an online session and tell you."
    ),
    Action.ATTEND_SESSION: N_("Attend the online session. The room opens 10 minutes before."),
    Action.JOIN_SESSION: N_("The online session is open: enter the room now."),
    Action.DRAFT_AGREEMENT: N_("An offer was accepted: draft the mediation agreement from it."),
    Action.FINISH_AGREEMENT: N_(
        "Check the draft agreement and open it for the parties' signatures."
    ),
    Action.SIGN_AGREEMENT: N_("Read the mediation agreement and sign it."),
    Action.WAIT_FOR_SIGNATURES: N_("Nothing to do now: waiting for the other signatures."),
    Action.APPLY_FOR_CONFIRMATION: N_(
        "The agreement is in effect. You may apply to the court to confirm it, so that it can "
        "be enforced."
    ),
    Action.WAIT_FOR_OTHER_APPLICATION: N_(
        "You have applied for judicial confirmation. The other party must apply too."
    ),
    Action.COMPLETE_END_RECORD: N_(
        "Complete the record of the ended mediation (the undisputed facts and why it ended)."
    ),
    Action.WAIT_FOR_END_RECORD: N_(
        "Nothing to do now: the mediator must complete the record of the ended mediation."
    ),
    Action.MEDIATION_UNDER_WAY: N_(
        "Nothing to do now: the mediator is conducting the mediation with the parties."
    ),
    Action.PERFORM_TERMS: N_(
        "Perform the terms of the agreement you owe, then mark each one as performed."
    ),
    Action.ANSWER_PERFORMANCE: N_(
        "The other side says a term of the agreement was performed: confirm it, or dispute it."
    ),
    Action.TRANSFER_TO_COURT: N_(
        "Mediation ended without agreement. You may ask for the case to be sent to the court."
    ),
    Action.CORRECT_FILING: N_(
        "The court returned the filing: correct what it asked for and send it again."
    ),
    Action.WAIT_FOR_CORRECTION: N_(
        "The court returned the filing; the applicant must correct it. Nothing for you to do."
    ),
    Action.WAIT_FOR_COURT: N_("Nothing to do now: the court is reviewing the filing."),
    Action.DONE: N_("Nothing more for you to do on this case."),
}

BUTTON_LABELS = {
    Action.CHOOSE_MEDIATOR: N_("Choose a mediator"),
    Action.APPOINT_MEDIATOR: N_("Appoint a mediator"),
    Action.ANSWER_ASSIGNMENT: N_("Answer the assignment"),
    Action.SCHEDULE_SESSION: N_("Schedule a session"),
    Action.ATTEND_SESSION: N_("See the session"),
    Action.JOIN_SESSION: N_("Enter the room"),
    Action.DRAFT_AGREEMENT: N_("Draft the agreement"),
    Action.FINISH_AGREEMENT: N_("Open the draft"),
    Action.SIGN_AGREEMENT: N_("Read and sign"),
    Action.APPLY_FOR_CONFIRMATION: N_("Apply for judicial confirmation"),
    Action.COMPLETE_END_RECORD: N_("Complete the record"),
    Action.PERFORM_TERMS: N_("See the terms to perform"),
    Action.ANSWER_PERFORMANCE: N_("Confirm or dispute"),
    Action.TRANSFER_TO_COURT: N_("Ask for a transfer to the court"),
    Action.CORRECT_FILING: N_("Correct and resubmit"),
}


def _href(action: Action, number: str, session_id: int | None) -> str:
    case = f"/cases/{number}"
    return {
        Action.CHOOSE_MEDIATOR: f"{case}#routing",
        Action.APPOINT_MEDIATOR: f"{case}#routing",
        Action.ANSWER_ASSIGNMENT: f"{case}#routing",
        Action.SCHEDULE_SESSION: f"{case}#sessions",
        Action.ATTEND_SESSION: f"{case}#sessions",
        Action.JOIN_SESSION: f"/sessions/{session_id}",
        Action.DRAFT_AGREEMENT: f"{case}/agreement/edit",
        Action.FINISH_AGREEMENT: f"{case}/agreement",
        Action.SIGN_AGREEMENT: f"{case}/agreement",
        Action.APPLY_FOR_CONFIRMATION: f"{case}/court/confirmation",
        Action.COMPLETE_END_RECORD: f"{case}/end",
        Action.PERFORM_TERMS: f"{case}#performance",
        Action.ANSWER_PERFORMANCE: f"{case}#performance",
        Action.TRANSFER_TO_COURT: f"{case}/court/transfer",
        Action.CORRECT_FILING: f"{case}/court/correction",
    }.get(action, "")


@dataclass(frozen=True)
class StepsView:
    bar: list[tuple[str, str]]  # (step label msgid, state)
    bar_codes: list[tuple[str, str]]  # (step, state), for the page's classes
    action: str
    text: str  # msgid of the banner's sentence
    due_on: date | None
    due_at: datetime | None
    button: str  # msgid, "" when the viewer need do nothing
    href: str
    waiting: bool


def seat_of(case: Case, viewer: Viewer, facts: CaseFacts, viewer_side: str | None) -> Seat:
    if viewer_side in ("applicant", "respondent"):
        return Seat(viewer_side)
    if viewer.role == "mediator" and case.mediator_id == viewer.user_id:
        return Seat.MEDIATOR
    if handles_case(viewer, facts) and viewer.role in ("org_admin", "platform_admin"):
        return Seat.ADMIN
    return Seat.OBSERVER


def steps_view(
    case: Case,
    seat: Seat,
    *,
    routing: Any,
    sessions: list[Any],
    agreement: Any,
    offers: list[Any],
    court: Any,
    outcome: Any = None,
) -> StepsView:
    """The bar and banner from what the case page loaded (routing_view, session_rows,
    agreement_summary, offer_history, court_overview, case_outcome)."""
    side = str(seat)
    awaiting = court.awaiting
    end = court.end_record
    situation = Situation(
        status=Status(case.status),
        seat=seat,
        deadlines={d.regime: d.due_on for d in routing.deadlines},
        respondent_reply_due=case.respondent_reply_due,
        chose_mediator=any(m.chosen_by_you for m in routing.roster),
        sessions=tuple(
            SessionSlot(s.id, s.starts_at, s.is_open, s.status == "scheduled") for s in sessions
        ),
        agreement_status=agreement.status if agreement else None,
        missing_signers=tuple(agreement.missing) if agreement else (),
        accepted_offer=any(o.response == "accept" for o in offers),
        applied_for_confirmation=awaiting is not None and side in awaiting.applicants,
        end_record_complete=end is None
        or bool(end.undisputed_facts.strip() and end.reasons_for_failure.strip()),
        returned_kind=court.returned.kind if court.returned else None,
        terms_to_perform=tuple(
            i.due_on for i in (outcome.items if outcome else ()) if "performed" in i.moves
        ),
        terms_to_answer=sum(1 for i in (outcome.items if outcome else ()) if "confirm" in i.moves),
    )
    result: NextStep = next_step(situation)
    states = bar(result)
    return StepsView(
        bar=[(STEP_LABELS[step], state) for step, state in states],
        bar_codes=[(str(step), state) for step, state in states],
        action=str(result.action),
        text=ACTION_LABELS[result.action],
        due_on=result.due_on,
        due_at=result.due_at,
        button="" if result.waiting else BUTTON_LABELS.get(result.action, ""),
        href="" if result.waiting else _href(result.action, case.number, result.session_id),
        waiting=result.waiting,
    )
