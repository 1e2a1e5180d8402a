"""The order of a court filing's states, and what each court decision does to the case.

Callbacks from the court arrive at least once, possibly late, twice or out of order (a
"docketed" overtaking its "accepted"). So a filing's state only ever moves to a higher rank;
an answer of equal or lower rank is recorded and changes nothing, and a final state is never
left. The order (docs/court-wire.md):

    awaiting_parties < queued < received < accepted < docketed | returned
                                   (a transfer: docketed and returned are final)
    ... < accepted < docketed < confirmed | rejected, and returned is final
                                   (a judicial confirmation)

Pure: no I/O.
"""

from __future__ import annotations

from cases.models import FilingKind, FilingStatus
from cases.status import Status

F = FilingStatus

_COMMON = {F.AWAITING_PARTIES: 0, F.QUEUED: 1, F.RECEIVED: 2, F.ACCEPTED: 3}
_RANKS: dict[FilingKind, dict[FilingStatus, int]] = {
    FilingKind.TRANSFER: {**_COMMON, F.DOCKETED: 4, F.RETURNED: 4},
    FilingKind.CONFIRMATION: {
        **_COMMON,
        F.DOCKETED: 4,
        F.CONFIRMED: 5,
        F.REJECTED: 5,
        F.RETURNED: 5,
    },
}
_FINAL: dict[FilingKind, frozenset[FilingStatus]] = {
    FilingKind.TRANSFER: frozenset({F.DOCKETED, F.RETURNED}),
    FilingKind.CONFIRMATION: frozenset({F.CONFIRMED, F.REJECTED, F.RETURNED}),
}

# The states a court decision (a callback) can report.
DECISIONS = frozenset({F.ACCEPTED, F.RETURNED, F.DOCKETED, F.CONFIRMED, F.REJECTED})


def rank(kind: FilingKind, status: FilingStatus) -> int:
    """The rank of `status` for a filing of `kind`; ValueError for a state that kind never has
    (a transfer is never "confirmed")."""
    try:
        return _RANKS[FilingKind(kind)][FilingStatus(status)]
    except KeyError:
        raise ValueError(f"a {kind} filing is never {status}") from None


def is_final(kind: FilingKind, status: FilingStatus) -> bool:
    return FilingStatus(status) in _FINAL[FilingKind(kind)]


def moves_forward(kind: FilingKind, current: FilingStatus, new: FilingStatus) -> bool:
    """Whether a filing in `current` may move to `new`: strictly up the order, never out of a
    final state. False for a state the kind never has."""
    try:
        new_rank = rank(kind, new)
    except ValueError:
        return False
    return not is_final(kind, current) and new_rank > rank(kind, current)


def earlier_than(kind: FilingKind, status: FilingStatus) -> list[FilingStatus]:
    """The states below `status`: the filings a conditional UPDATE may move to it."""
    target = rank(kind, status)
    return [
        state
        for state, value in _RANKS[FilingKind(kind)].items()
        if value < target and not is_final(kind, state)
    ]


# What a decision does to the case: (the case's state it applies to, the state it moves to).
_CASE_MOVES: dict[tuple[FilingKind, FilingStatus], tuple[Status, Status]] = {
    (FilingKind.TRANSFER, F.DOCKETED): (Status.TRANSFERRED, Status.DOCKETED),
    (FilingKind.TRANSFER, F.RETURNED): (Status.TRANSFERRED, Status.RETURNED_FOR_CORRECTION),
    (FilingKind.CONFIRMATION, F.CONFIRMED): (Status.CONFIRMATION_REQUESTED, Status.CONFIRMED),
    (FilingKind.CONFIRMATION, F.REJECTED): (
        Status.CONFIRMATION_REQUESTED,
        Status.CONFIRMATION_REJECTED,
    ),
    (FilingKind.CONFIRMATION, F.RETURNED): (
        Status.CONFIRMATION_REQUESTED,
        Status.RETURNED_FOR_CORRECTION,
    ),
}


def case_move(kind: FilingKind, status: FilingStatus) -> tuple[Status, Status] | None:
    """The case transition a filing reaching `status` causes, or None (receipt, acceptance
    for review and a confirmation's docketing change only the filing)."""
    return _CASE_MOVES.get((FilingKind(kind), FilingStatus(status)))
