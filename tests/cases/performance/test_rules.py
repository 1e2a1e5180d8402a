"""The pure core of performance tracking: an item's state on a day, who may do what, and
which reminder is due."""

from __future__ import annotations

from datetime import date

import pytest

from cases.performance.actions import (
    ItemState,
    Move,
    Reminder,
    check_move,
    item_state,
    moves_for,
    reminder_for,
)
from cases.performance.models import PerformanceStatus

DUE = date(2026, 12, 10)
OPEN = PerformanceStatus.OPEN.value
PERFORMED = PerformanceStatus.PERFORMED.value
CONFIRMED = PerformanceStatus.CONFIRMED.value
DISPUTED = PerformanceStatus.DISPUTED.value


@pytest.mark.parametrize(
    ("status", "today", "state"),
    [
        (OPEN, date(2026, 12, 1), ItemState.OPEN),
        (OPEN, date(2026, 12, 7), ItemState.OPEN),  # three days left
        (OPEN, date(2026, 12, 8), ItemState.DUE_SOON),  # two days left
        (OPEN, date(2026, 12, 10), ItemState.DUE_SOON),  # the last day still counts
        (OPEN, date(2026, 12, 11), ItemState.OVERDUE),
        (OPEN, date(2027, 3, 1), ItemState.OVERDUE),
        (PERFORMED, date(2026, 12, 1), ItemState.PERFORMED),
        (PERFORMED, date(2026, 12, 20), ItemState.PERFORMED),  # marked: no longer overdue
        (CONFIRMED, date(2026, 12, 20), ItemState.CONFIRMED),
        (DISPUTED, date(2026, 12, 5), ItemState.DISPUTED),
        (DISPUTED, date(2026, 12, 20), ItemState.DISPUTED),
    ],
)
def test_item_state_on_a_day(status: str, today: date, state: ItemState) -> None:
    assert item_state(status, DUE, today) is state


A, R = "applicant", "respondent"


@pytest.mark.parametrize(
    ("move", "status", "obligor", "actor", "error"),
    [
        # The obliged side marks performed, from open or after a dispute.
        (Move.MARK_PERFORMED, OPEN, R, R, None),
        (Move.MARK_PERFORMED, DISPUTED, R, R, None),
        (Move.MARK_PERFORMED, OPEN, A, A, None),
        (Move.MARK_PERFORMED, OPEN, R, A, "performance_obligor_only"),
        (Move.MARK_PERFORMED, PERFORMED, R, R, "performance_changed_meanwhile"),
        (Move.MARK_PERFORMED, CONFIRMED, R, R, "performance_changed_meanwhile"),
        # The other side answers a claim of performance.
        (Move.CONFIRM, PERFORMED, R, A, None),
        (Move.DISPUTE, PERFORMED, R, A, None),
        (Move.CONFIRM, PERFORMED, A, R, None),
        (Move.CONFIRM, PERFORMED, R, R, "performance_other_side_only"),
        (Move.DISPUTE, PERFORMED, R, R, "performance_other_side_only"),
        (Move.CONFIRM, OPEN, R, A, "performance_changed_meanwhile"),
        (Move.DISPUTE, CONFIRMED, R, A, "performance_changed_meanwhile"),
        (Move.CONFIRM, DISPUTED, R, A, "performance_changed_meanwhile"),
        # The mediator and staff watch; they are not a side.
        (Move.MARK_PERFORMED, OPEN, R, None, "performance_parties_only"),
        (Move.CONFIRM, PERFORMED, R, None, "performance_parties_only"),
        (Move.DISPUTE, PERFORMED, R, None, "performance_parties_only"),
    ],
)
def test_who_may_do_what(
    move: Move, status: str, obligor: str, actor: str | None, error: str | None
) -> None:
    assert check_move(move, status, obligor, actor) == error


def test_moves_offered_follow_the_check() -> None:
    assert moves_for(OPEN, R, R) == [Move.MARK_PERFORMED]
    assert moves_for(OPEN, R, A) == []
    assert moves_for(PERFORMED, R, A) == [Move.CONFIRM, Move.DISPUTE]
    assert moves_for(PERFORMED, R, R) == []
    assert moves_for(CONFIRMED, R, A) == [] and moves_for(CONFIRMED, R, R) == []
    assert moves_for(OPEN, R, None) == []


@pytest.mark.parametrize(
    ("status", "reminded_on", "today", "reminder"),
    [
        (OPEN, None, date(2026, 12, 7), None),  # three days left: not yet
        (OPEN, None, date(2026, 12, 8), Reminder.DUE_SOON),
        (OPEN, None, date(2026, 12, 10), Reminder.DUE_SOON),
        (OPEN, date(2026, 12, 8), date(2026, 12, 9), None),  # reminded already
        (OPEN, date(2026, 12, 8), date(2026, 12, 11), Reminder.OVERDUE),
        (OPEN, date(2026, 12, 10), date(2026, 12, 11), Reminder.OVERDUE),  # due-day reminder
        (OPEN, None, date(2026, 12, 15), Reminder.OVERDUE),  # never reminded, now overdue
        (OPEN, date(2026, 12, 11), date(2026, 12, 12), None),  # overdue reminder was sent
        (OPEN, date(2026, 12, 11), date(2027, 1, 30), None),
        (PERFORMED, None, date(2026, 12, 9), None),
        (PERFORMED, None, date(2026, 12, 15), None),
        (DISPUTED, None, date(2026, 12, 15), None),
        (CONFIRMED, None, date(2026, 12, 15), None),
    ],
)
def test_which_reminder_is_due(
    status: str, reminded_on: date | None, today: date, reminder: Reminder | None
) -> None:
    assert reminder_for(status, DUE, reminded_on, today) == reminder
