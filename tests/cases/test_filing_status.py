"""The order of a court filing's states: callbacks only ever move a filing forward."""

from __future__ import annotations

import itertools

import pytest

from cases.court.filing_status import (
    DECISIONS,
    case_move,
    earlier_than,
    is_final,
    moves_forward,
    rank,
)
from cases.models import FilingKind, FilingStatus
from cases.status import Actor, Status, check_transition

T, C = FilingKind.TRANSFER, FilingKind.CONFIRMATION
F = FilingStatus


@pytest.mark.parametrize(
    ("kind", "current", "new", "forward"),
    [
        # The ordinary way.
        (T, F.AWAITING_PARTIES, F.QUEUED, True),
        (T, F.QUEUED, F.RECEIVED, True),
        (T, F.RECEIVED, F.ACCEPTED, True),
        (T, F.ACCEPTED, F.DOCKETED, True),
        (T, F.ACCEPTED, F.RETURNED, True),
        (C, F.ACCEPTED, F.DOCKETED, True),
        (C, F.DOCKETED, F.CONFIRMED, True),
        (C, F.DOCKETED, F.REJECTED, True),
        # Overtaken: a later decision arrives before an earlier one (or before the receipt).
        (T, F.QUEUED, F.DOCKETED, True),
        (T, F.RECEIVED, F.RETURNED, True),
        (C, F.RECEIVED, F.CONFIRMED, True),
        (C, F.QUEUED, F.RETURNED, True),
        # ... and then the earlier one arrives late: nothing moves back.
        (T, F.DOCKETED, F.ACCEPTED, False),
        (T, F.DOCKETED, F.RECEIVED, False),
        (T, F.ACCEPTED, F.RECEIVED, False),
        (C, F.CONFIRMED, F.DOCKETED, False),
        (C, F.REJECTED, F.ACCEPTED, False),
        # Twice: the same state again changes nothing.
        (T, F.ACCEPTED, F.ACCEPTED, False),
        (T, F.DOCKETED, F.DOCKETED, False),
        (C, F.CONFIRMED, F.CONFIRMED, False),
        # Final states are never left, even for one of the same rank.
        (T, F.DOCKETED, F.RETURNED, False),
        (T, F.RETURNED, F.DOCKETED, False),
        (C, F.CONFIRMED, F.REJECTED, False),
        (C, F.REJECTED, F.CONFIRMED, False),
        (C, F.RETURNED, F.CONFIRMED, False),
        (C, F.CONFIRMED, F.RETURNED, False),
        # A transfer's docketing is final; a confirmation's docketing is not.
        (C, F.DOCKETED, F.RETURNED, True),
        # A transfer is never confirmed or rejected.
        (T, F.ACCEPTED, F.CONFIRMED, False),
        (T, F.DOCKETED, F.REJECTED, False),
    ],
)
def test_moves_forward(kind: FilingKind, current: F, new: F, forward: bool) -> None:
    assert moves_forward(kind, current, new) is forward


@pytest.mark.parametrize(
    ("kind", "final"),
    [
        (T, {F.DOCKETED, F.RETURNED}),
        (C, {F.CONFIRMED, F.REJECTED, F.RETURNED}),
    ],
)
def test_final_states(kind: FilingKind, final: set[F]) -> None:
    assert {s for s in F if s in _states(kind) and is_final(kind, s)} == final


def _states(kind: FilingKind) -> set[F]:
    states = set()
    for status in F:
        try:
            rank(kind, status)
        except ValueError:
            continue
        states.add(status)
    return states


def test_every_order_of_decisions_ends_in_the_same_state() -> None:
    """However the callbacks of one history are shuffled or repeated, the filing ends where
    the history ends."""
    histories = {
        T: [F.RECEIVED, F.ACCEPTED, F.DOCKETED],
        C: [F.RECEIVED, F.ACCEPTED, F.DOCKETED, F.CONFIRMED],
    }
    for kind, history in histories.items():
        for order in itertools.permutations(history + history[:2]):
            state = F.QUEUED
            for status in order:
                if moves_forward(kind, state, status):
                    state = status
            assert state == history[-1], (kind, order)


@pytest.mark.parametrize(
    ("kind", "status", "earlier"),
    [
        (T, F.RECEIVED, {F.AWAITING_PARTIES, F.QUEUED}),
        (T, F.DOCKETED, {F.AWAITING_PARTIES, F.QUEUED, F.RECEIVED, F.ACCEPTED}),
        (C, F.CONFIRMED, {F.AWAITING_PARTIES, F.QUEUED, F.RECEIVED, F.ACCEPTED, F.DOCKETED}),
    ],
)
def test_earlier_than(kind: FilingKind, status: F, earlier: set[F]) -> None:
    assert set(earlier_than(kind, status)) == earlier


@pytest.mark.parametrize(
    ("kind", "status", "move"),
    [
        (T, F.RECEIVED, None),
        (T, F.ACCEPTED, None),
        (T, F.DOCKETED, (Status.TRANSFERRED, Status.DOCKETED)),
        (T, F.RETURNED, (Status.TRANSFERRED, Status.RETURNED_FOR_CORRECTION)),
        (C, F.ACCEPTED, None),
        (C, F.DOCKETED, None),
        (C, F.CONFIRMED, (Status.CONFIRMATION_REQUESTED, Status.CONFIRMED)),
        (C, F.REJECTED, (Status.CONFIRMATION_REQUESTED, Status.CONFIRMATION_REJECTED)),
        (C, F.RETURNED, (Status.CONFIRMATION_REQUESTED, Status.RETURNED_FOR_CORRECTION)),
    ],
)
def test_case_move(kind: FilingKind, status: F, move: tuple[Status, Status] | None) -> None:
    assert case_move(kind, status) == move
    if move is not None:
        # Every move is one the status machine lets the court make.
        check_transition(move[0], move[1], Actor.COURT)


def test_decisions_are_the_callback_states() -> None:
    assert {s.value for s in DECISIONS} == {
        "accepted",
        "returned",
        "docketed",
        "confirmed",
        "rejected",
    }
