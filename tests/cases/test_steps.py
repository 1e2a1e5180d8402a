"""Table tests of what each viewer must do next (cases.steps)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cases.status import Status
from cases.steps import (
    STEPS,
    WAITING,
    Action,
    NextStep,
    Seat,
    SessionSlot,
    Situation,
    Step,
    bar,
    next_step,
    step_of,
)

S, P, A = Status, Seat, Action
REPLY = datetime(2026, 12, 8, 12, 28, tzinfo=UTC)
DAY = date(2026, 12, 20)
LATER = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
OPEN = SessionSlot(7, datetime(2026, 12, 3, 2, 0, tzinfo=UTC), is_open=True, scheduled=True)
UPCOMING = SessionSlot(8, LATER, is_open=False, scheduled=True)
HELD = SessionSlot(6, datetime(2026, 12, 1, 2, 0, tzinfo=UTC), is_open=False, scheduled=False)
MEDIATING = {"online_mediation": DAY}


def situation(status: Status, seat: Seat, **kw: object) -> Situation:
    return Situation(status=status, seat=seat, **kw)  # type: ignore[arg-type]


# (status, seat, extra facts, expected action, expected due_on, expected due_at)
CASES: list[tuple[Status, Seat, dict[str, object], Action, date | None, datetime | None]] = [
    (S.SUBMITTED, P.APPLICANT, {}, A.WAIT_FOR_RESPONDENT, None, None),
    (
        S.AWAITING_CONSENT,
        P.APPLICANT,
        {"respondent_reply_due": REPLY},
        A.WAIT_FOR_RESPONDENT,
        None,
        REPLY,
    ),
    (
        S.AWAITING_CONSENT,
        P.RESPONDENT,
        {"respondent_reply_due": REPLY},
        A.ANSWER_INVITATION,
        None,
        REPLY,
    ),
    (S.AWAITING_CONSENT, P.ADMIN, {}, A.WAIT_FOR_RESPONDENT, None, None),
    (S.REFUSED, P.APPLICANT, {}, A.DONE, None, None),
    (S.NO_RESPONSE, P.APPLICANT, {}, A.DONE, None, None),
    (S.ACCEPTED, P.APPLICANT, {}, A.WAIT_FOR_ASSIGNMENT, None, None),
    (S.ASSIGNING, P.APPLICANT, {"deadlines": {"party_choice": DAY}}, A.CHOOSE_MEDIATOR, DAY, None),
    (S.ASSIGNING, P.RESPONDENT, {"deadlines": {"party_choice": DAY}}, A.CHOOSE_MEDIATOR, DAY, None),
    (
        S.ASSIGNING,
        P.RESPONDENT,
        {"deadlines": {"party_choice": DAY}, "chose_mediator": True},
        A.WAIT_FOR_CHOICE,
        DAY,
        None,
    ),
    (
        S.ASSIGNING,
        P.APPLICANT,
        {"deadlines": {"appointment": DAY}},
        A.WAIT_FOR_ASSIGNMENT,
        DAY,
        None,
    ),
    (S.ASSIGNING, P.ADMIN, {"deadlines": {"appointment": DAY}}, A.APPOINT_MEDIATOR, DAY, None),
    (S.ASSIGNING, P.ADMIN, {"deadlines": {"party_choice": DAY}}, A.APPOINT_MEDIATOR, None, None),
    (
        S.AWAITING_MEDIATOR,
        P.MEDIATOR,
        {"deadlines": {"mediator_answer": DAY}},
        A.ANSWER_ASSIGNMENT,
        DAY,
        None,
    ),
    (
        S.AWAITING_MEDIATOR,
        P.APPLICANT,
        {"deadlines": {"mediator_answer": DAY}},
        A.WAIT_FOR_MEDIATOR,
        DAY,
        None,
    ),
    # In mediation: an open room first, then a signature owed, then the mediator's drafting.
    (S.IN_MEDIATION, P.MEDIATOR, {"deadlines": MEDIATING}, A.SCHEDULE_SESSION, DAY, None),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"deadlines": {"consumer_mediation": DAY}},
        A.SCHEDULE_SESSION,
        DAY,
        None,
    ),
    (S.IN_MEDIATION, P.APPLICANT, {"deadlines": MEDIATING}, A.WAIT_FOR_SESSION, DAY, None),
    (
        S.IN_MEDIATION,
        P.APPLICANT,
        {"deadlines": MEDIATING, "sessions": (HELD,)},
        A.WAIT_FOR_SESSION,
        DAY,
        None,
    ),
    (S.IN_MEDIATION, P.RESPONDENT, {"sessions": (HELD, UPCOMING)}, A.ATTEND_SESSION, None, LATER),
    (S.IN_MEDIATION, P.MEDIATOR, {"sessions": (UPCOMING,)}, A.ATTEND_SESSION, None, LATER),
    (
        S.IN_MEDIATION,
        P.APPLICANT,
        {"sessions": (OPEN, UPCOMING)},
        A.JOIN_SESSION,
        None,
        OPEN.starts_at,
    ),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"deadlines": MEDIATING, "accepted_offer": True},
        A.DRAFT_AGREEMENT,
        DAY,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"accepted_offer": True, "sessions": (OPEN,)},
        A.JOIN_SESSION,
        None,
        OPEN.starts_at,
    ),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"deadlines": MEDIATING, "agreement_status": "draft"},
        A.FINISH_AGREEMENT,
        DAY,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.APPLICANT,
        {"agreement_status": "draft", "accepted_offer": True},
        A.WAIT_FOR_SESSION,
        None,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.APPLICANT,
        {
            "deadlines": MEDIATING,
            "agreement_status": "signing",
            "missing_signers": ("applicant", "mediator"),
        },
        A.SIGN_AGREEMENT,
        DAY,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.RESPONDENT,
        {"agreement_status": "signing", "missing_signers": ("applicant",)},
        A.WAIT_FOR_SIGNATURES,
        None,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"agreement_status": "signing", "missing_signers": ("mediator",), "sessions": (UPCOMING,)},
        A.SIGN_AGREEMENT,
        None,
        None,
    ),
    (
        S.IN_MEDIATION,
        P.MEDIATOR,
        {"agreement_status": "withdrawn", "accepted_offer": True},
        A.DRAFT_AGREEMENT,
        None,
        None,
    ),
    # Settled: each party may apply for judicial confirmation within 30 days.
    (
        S.SETTLED,
        P.APPLICANT,
        {"deadlines": {"judicial_confirmation": DAY}},
        A.APPLY_FOR_CONFIRMATION,
        DAY,
        None,
    ),
    (
        S.SETTLED,
        P.RESPONDENT,
        {"deadlines": {"judicial_confirmation": DAY}, "applied_for_confirmation": True},
        A.WAIT_FOR_OTHER_APPLICATION,
        DAY,
        None,
    ),
    (S.SETTLED, P.MEDIATOR, {"deadlines": {"judicial_confirmation": DAY}}, A.DONE, None, None),
    (S.FAILED, P.APPLICANT, {}, A.TRANSFER_TO_COURT, None, None),
    (S.TIMED_OUT, P.APPLICANT, {}, A.TRANSFER_TO_COURT, None, None),
    (S.FAILED, P.RESPONDENT, {}, A.DONE, None, None),
    (S.FAILED, P.MEDIATOR, {"end_record_complete": False}, A.COMPLETE_END_RECORD, None, None),
    (S.FAILED, P.MEDIATOR, {}, A.DONE, None, None),
    (S.WITHDRAWN, P.MEDIATOR, {"end_record_complete": False}, A.COMPLETE_END_RECORD, None, None),
    (S.WITHDRAWN, P.APPLICANT, {}, A.DONE, None, None),
    (S.TRANSFERRED, P.APPLICANT, {}, A.WAIT_FOR_COURT, None, None),
    (S.CONFIRMATION_REQUESTED, P.RESPONDENT, {}, A.WAIT_FOR_COURT, None, None),
    (
        S.RETURNED_FOR_CORRECTION,
        P.APPLICANT,
        {"returned_kind": "transfer"},
        A.CORRECT_FILING,
        None,
        None,
    ),
    (
        S.RETURNED_FOR_CORRECTION,
        P.RESPONDENT,
        {"returned_kind": "transfer"},
        A.WAIT_FOR_CORRECTION,
        None,
        None,
    ),
    (
        S.RETURNED_FOR_CORRECTION,
        P.RESPONDENT,
        {"returned_kind": "confirmation"},
        A.CORRECT_FILING,
        None,
        None,
    ),
    (
        S.RETURNED_FOR_CORRECTION,
        P.MEDIATOR,
        {"returned_kind": "transfer", "end_record_complete": False},
        A.COMPLETE_END_RECORD,
        None,
        None,
    ),
    # After settlement, the terms: the party who owes a term marks it performed by its day
    # (the earliest first); the other side confirms or disputes what was marked. Answering
    # comes first (the other side waits on it), then performing, then the court.
    (
        S.SETTLED,
        P.RESPONDENT,
        {
            "deadlines": {"judicial_confirmation": DAY},
            "terms_to_perform": (date(2026, 12, 31), date(2026, 12, 10)),
        },
        A.PERFORM_TERMS,
        date(2026, 12, 10),
        None,
    ),
    (
        S.SETTLED,
        P.APPLICANT,
        {"deadlines": {"judicial_confirmation": DAY}, "terms_to_answer": 1},
        A.ANSWER_PERFORMANCE,
        None,
        None,
    ),
    (
        S.SETTLED,
        P.APPLICANT,
        {"terms_to_answer": 1, "terms_to_perform": (DAY,)},
        A.ANSWER_PERFORMANCE,
        None,
        None,
    ),
    (
        S.SETTLED,
        P.RESPONDENT,
        {"applied_for_confirmation": True, "terms_to_perform": (DAY,)},
        A.PERFORM_TERMS,
        DAY,
        None,
    ),
    (S.CONFIRMED, P.RESPONDENT, {"terms_to_perform": (DAY,)}, A.PERFORM_TERMS, DAY, None),
    (
        S.CONFIRMATION_REQUESTED,
        P.APPLICANT,
        {"terms_to_answer": 2},
        A.ANSWER_PERFORMANCE,
        None,
        None,
    ),
    (S.SETTLED, P.MEDIATOR, {"terms_to_perform": (DAY,)}, A.DONE, None, None),
    # An administrator: appoints while the case is being assigned; otherwise told who acts.
    (S.ASSIGNING, P.ADMIN, {"deadlines": {"appointment": DAY}}, A.APPOINT_MEDIATOR, DAY, None),
    (S.AWAITING_MEDIATOR, P.ADMIN, {}, A.WAIT_FOR_MEDIATOR, None, None),
    (
        S.IN_MEDIATION,
        P.ADMIN,
        {"deadlines": MEDIATING, "sessions": (OPEN,)},
        A.MEDIATION_UNDER_WAY,
        DAY,
        None,
    ),
    (S.IN_MEDIATION, P.OBSERVER, {"deadlines": MEDIATING}, A.MEDIATION_UNDER_WAY, DAY, None),
    (S.SETTLED, P.ADMIN, {"terms_to_answer": 1}, A.DONE, None, None),
    (S.FAILED, P.ADMIN, {"end_record_complete": False}, A.WAIT_FOR_END_RECORD, None, None),
    (
        S.RETURNED_FOR_CORRECTION,
        P.ADMIN,
        {"returned_kind": "transfer"},
        A.WAIT_FOR_CORRECTION,
        None,
        None,
    ),
    (S.DOCKETED, P.APPLICANT, {}, A.DONE, None, None),
    (S.CONFIRMED, P.RESPONDENT, {}, A.DONE, None, None),
    (S.CONFIRMATION_REJECTED, P.APPLICANT, {}, A.DONE, None, None),
]


@pytest.mark.parametrize(
    ("status", "seat", "extra", "action", "due_on", "due_at"),
    CASES,
    ids=[f"{c[0].value}-{c[1].value}-{c[3].value}" for c in CASES],
)
def test_next_action(
    status: Status,
    seat: Seat,
    extra: dict[str, object],
    action: Action,
    due_on: date | None,
    due_at: datetime | None,
) -> None:
    got = next_step(situation(status, seat, **extra))
    assert (got.action, got.due_on, got.due_at) == (action, due_on, due_at)


def test_the_session_to_join_or_attend_is_named() -> None:
    assert next_step(situation(S.IN_MEDIATION, P.APPLICANT, sessions=(OPEN,))).session_id == 7
    assert next_step(situation(S.IN_MEDIATION, P.MEDIATOR, sessions=(UPCOMING,))).session_id == 8


def test_every_status_has_a_step_and_an_answer_for_every_seat() -> None:
    for status in Status:
        for seat in Seat:
            got = next_step(situation(status, seat))
            assert got.step is step_of(status)


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (S.SUBMITTED, Step.FILED),
        (S.AWAITING_CONSENT, Step.RESPONDENT),
        (S.AWAITING_MERCHANT, Step.RESPONDENT),
        (S.ASSIGNING, Step.MEDIATOR),
        (S.AWAITING_MEDIATOR, Step.MEDIATOR),
        (S.IN_MEDIATION, Step.MEDIATION),
        (S.SETTLED, Step.OUTCOME),
        (S.SETTLED_BY_NEGOTIATION, Step.OUTCOME),
        (S.FAILED, Step.OUTCOME),
        (S.TRANSFERRED, Step.COURT),
        (S.DOCKETED, Step.COURT),
    ],
)
def test_step_of_status(status: Status, step: Step) -> None:
    assert step_of(status) is step


def test_bar_marks_steps_done_current_and_ahead() -> None:
    states = dict(bar(next_step(situation(S.IN_MEDIATION, P.APPLICANT))))
    assert [states[s] for s in STEPS] == ["done", "done", "done", "current", "ahead", "ahead"]


def test_bar_stops_where_a_case_ended() -> None:
    states = dict(bar(next_step(situation(S.REFUSED, P.APPLICANT))))
    assert [states[s] for s in STEPS] == ["done", "ended", "ahead", "ahead", "ahead", "ahead"]


def test_waiting_actions_have_no_button() -> None:
    assert next_step(situation(S.TRANSFERRED, P.APPLICANT)).waiting
    assert not next_step(situation(S.FAILED, P.APPLICANT)).waiting
    assert A.SIGN_AGREEMENT not in WAITING
    assert isinstance(next_step(situation(S.FAILED, P.APPLICANT)), NextStep)


@pytest.mark.parametrize(
    ("seat", "action"),
    [(P.APPLICANT, A.WAIT_FOR_MERCHANT), (P.RESPONDENT, A.WAIT_FOR_MERCHANT), (P.ADMIN, A.DONE)],
)
def test_the_merchant_answers_first(seat: Seat, action: Action) -> None:
    got = next_step(
        situation(S.AWAITING_MERCHANT, seat, deadlines={"merchant_answer": date(2030, 1, 15)})
    )
    assert (got.step, got.action) == (Step.RESPONDENT, action)
    assert got.due_on == (date(2030, 1, 15) if action is not A.DONE else None)
