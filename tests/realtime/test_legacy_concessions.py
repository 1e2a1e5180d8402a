"""Concessions stored in the joint room before they were kept in their author's caucus are
moved there by migration 0009 (realtime.store.move_joint_concessions): the joint room is
numbered again without a hole, each concession follows what its author's caucus held, an
answer to an offer follows its offer, and the rooms get new epochs (open pages reload)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from realtime.models import RoomMessage, RoomState
from realtime.store import ensure_rooms, move_joint_concessions

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


async def _say(room: str, seq: int, side: str | None, text: str, **extra: Any) -> None:
    kind = extra.pop("kind", "message")
    body = extra.pop("body", {"text": text})
    await RoomMessage.create(
        session_id=1,
        room=room,
        seq=seq,
        sender_id={"applicant": 2, "respondent": 3, None: 1}[side],
        sender_name=side or "调解员",
        sender_side=side,
        kind=kind,
        body=body,
        client_id=f"legacy-{room}-{seq}",
        created_at=NOW,
        **extra,
    )


async def _layout() -> dict[str, list[tuple[int, str, Any]]]:
    rows = await RoomMessage.filter(session_id=1).order_by("room", "seq")
    found: dict[str, list[tuple[int, str, Any]]] = {}
    for row in rows:
        found.setdefault(row.room, []).append((row.seq, row.client_id, row.body.get("offer_seq")))
    return found


async def test_joint_concessions_move_to_their_authors_caucus(db: None) -> None:
    await ensure_rooms(1)
    # The old layout: concessions among the joint room's numbers.
    await _say("joint", 1, None, "开始")
    await _say("joint", 2, "applicant", "可以让一半", concession=True)
    await _say("joint", 3, "respondent", "", kind="offer", body={"amount": "1000.00"})
    await _say("joint", 4, "respondent", "底线", concession=True)
    await _say(
        "joint",
        5,
        "applicant",
        "",
        kind="offer_response",
        body={"offer_seq": 3, "response": "reject"},
    )
    await _say("joint", 6, None, "只有我", concession=True)  # a mediator's: stays
    await _say("joint", 7, "respondent", "", kind="offer", body={"amount": "9.00"}, concession=True)
    await _say(
        "joint", 8, None, "", kind="offer_response", body={"offer_seq": 7, "response": "reject"}
    )
    await _say("caucus:applicant", 1, "applicant", "私下")
    await RoomState.filter(session_id=1, room="joint").update(last_seq=8)
    await RoomState.filter(session_id=1, room="caucus:applicant").update(last_seq=1)
    epochs = dict(await RoomState.filter(session_id=1).values_list("room", "epoch"))

    assert await move_joint_concessions(connections.get("default")) == 3

    assert await _layout() == {
        "joint": [
            (1, "legacy-joint-1", None),
            (2, "legacy-joint-3", None),
            (3, "legacy-joint-5", 2),  # its offer is number 2 now
            (4, "legacy-joint-6", None),
            (5, "legacy-joint-8", 0),  # its offer moved: it points at none
        ],
        "caucus:applicant": [(1, "legacy-caucus:applicant-1", None), (2, "legacy-joint-2", None)],
        "caucus:respondent": [(1, "legacy-joint-4", None), (2, "legacy-joint-7", None)],
    }
    states = {r.room: r for r in await RoomState.filter(session_id=1)}
    assert {room: s.last_seq for room, s in states.items()} == {
        "joint": 5,
        "caucus:applicant": 2,
        "caucus:respondent": 2,
    }
    assert all(states[room].epoch != epochs[room] for room in states)
    # Run again: nothing left to move, nothing changes.
    assert await move_joint_concessions(connections.get("default")) == 0
    assert [s for s, _, _ in (await _layout())["joint"]] == [1, 2, 3, 4, 5]
