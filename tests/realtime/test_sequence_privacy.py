"""Privacy by sequence number: what a reader is not allowed to see must not leave a hole in
the numbers of a room it reads, or the hole tells it that something was said. So each room's
messages are visible to all of that room's readers, and a party's concession (the
mediator's and its author's only) is kept in the author's caucus, never in the joint room.

The property test runs random mixes of joint, caucus and concession messages from the three
roles and checks, for every reader, live and after a replay, that each room it reads is
numbered 1, 2, 3... up to the room's last stored message, and that nothing it may not see
reached it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.rooms import (
    LiveRoom,
    RoomClient,
    enter,
    live_room,
    orm,
    run_scenario,
    stored_rows,
)

ROLES = ("mediator", "applicant", "respondent")
READS = {
    "mediator": ("joint", "caucus:applicant", "caucus:respondent"),
    "applicant": ("joint", "caucus:applicant"),
    "respondent": ("joint", "caucus:respondent"),
}


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("sequence-privacy")) as room:
        yield room


async def _everyone(live: LiveRoom, session_id: int) -> dict[str, RoomClient]:
    return {who: await enter(live.base, session_id, live.cookies[who], who) for who in ROLES}


def _seqs(client: RoomClient, room: str) -> list[int]:
    return sorted(
        int(f["seq"]) for f in client.frames if f["type"] == "message" and f["room"] == room
    )


def _unseen(client: RoomClient, who: str) -> list[dict[str, Any]]:
    """Frames `who` may not have: another party's caucus, or another party's concession."""
    if who == "mediator":
        return []
    return [
        f
        for f in client.frames
        if (f.get("room", "joint") not in READS[who])
        or (f["type"] == "message" and f["concession"] and f["sender"]["side"] != who)
    ]


async def _check_views(live: LiveRoom, session_id: int, clients: dict[str, RoomClient]) -> None:
    """Every reader's view of every room it reads is 1..last stored, with nothing hidden."""
    lasts: dict[str, int] = {}
    for row in await stored_rows(session_id):
        lasts[row.room] = max(lasts.get(row.room, 0), int(row.seq))
    for who, client in clients.items():
        for room in READS[who]:
            if lasts.get(room):
                await client.wait_seq(lasts[room], room)
            assert _seqs(client, room) == list(range(1, lasts.get(room, 0) + 1)), (who, room)
        assert _unseen(client, who) == [], who


def test_a_concession_leaves_no_gap_in_the_other_partys_numbers(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            clients = await _everyone(live, session_id)
            applicant, respondent = clients["applicant"], clients["respondent"]
            await applicant.ack(await applicant.post("我们先谈谈"))
            kept = await applicant.ack(await applicant.post("其实可以让一半", concession=True))
            assert kept["room"] == "caucus:applicant"
            offer = await applicant.post("", kind="offer", amount="1500", concession=True)
            assert (await applicant.ack(offer))["room"] == "caucus:applicant"
            await respondent.ack(await respondent.post("请说"))
            await applicant.ack(await applicant.post("就这样"))
            await _check_views(live, session_id, clients)
            assert _seqs(respondent, "joint") == [1, 2, 3]
            # The author sees its concessions, marked, in its caucus.
            marked = [m["concession"] for m in applicant.messages("caucus:applicant")]
            assert marked == [True, True]
            # Replayed from nothing, and from the middle, the same.
            await respondent.close()
            again = await enter(live.base, session_id, live.cookies["respondent"], "again")
            assert _seqs(again, "joint") == [1, 2, 3]
            epoch = again.positions["joint"]["epoch"]
            await again.close()
            middle = {"joint": {"epoch": epoch, "seq": 1}}
            resumed = await enter(live.base, session_id, live.cookies["respondent"], "r", middle)
            assert _seqs(resumed, "joint") == [2, 3]
            assert _unseen(resumed, "respondent") == []

    run_scenario(scenario)


def test_the_mediator_cannot_mark_a_concession(live: LiveRoom) -> None:
    """A message only the mediator could read would be a hole in every party's numbers."""
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            for room in READS["mediator"]:
                refused = await mediator.post("只有我看得到", room, concession=True)
                assert await mediator.error(refused) == "concession_party_only"
            assert await stored_rows(session_id) == []

    run_scenario(scenario)


# A step: who speaks, where (0: the joint room, 1: their own caucus or, for the mediator, the
# applicant's, 2: the respondent's caucus for the mediator), and whether it is a concession.
Step = tuple[str, int, bool]
steps = st.lists(
    st.tuples(st.sampled_from(ROLES), st.integers(0, 2), st.booleans()), min_size=1, max_size=12
)


def _room_of(who: str, where: int) -> str:
    if where == 0:
        return "joint"
    if who == "mediator":
        return "caucus:applicant" if where == 1 else "caucus:respondent"
    return f"caucus:{who}"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(script=steps)
def test_every_reader_sees_each_room_gap_free_and_nothing_hidden(
    live: LiveRoom, script: list[Step]
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            clients = await _everyone(live, session_id)
            for number, (who, where, concession) in enumerate(script):
                client = clients[who]
                sent = await client.post(
                    f"{who} {number}", _room_of(who, where), concession=concession
                )
                if who == "mediator" and concession:
                    assert await client.error(sent) == "concession_party_only"
                else:
                    await client.ack(sent)
            await _check_views(live, session_id, clients)
            for who, client in clients.items():
                await client.close()
                again = await enter(live.base, session_id, live.cookies[who], f"{who}-again")
                for room in READS[who]:
                    assert _seqs(again, room) == _seqs(client, room), (who, room)
                assert _unseen(again, who) == [], who
                await again.close()

    run_scenario(scenario)
