"""Ordering: a message is acknowledged only once stored; each room has one gap-free sequence;
every participant sees the same order, each message exactly once.

Real WebSocket clients against a real server process; three participants send at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.rooms import (
    LiveRoom,
    RoomClient,
    enter,
    live_room,
    new_client_id,
    orm,
    run_scenario,
    stored_rows,
)

PER_SENDER = 50
CAUCUS_MESSAGES = 20
SENDERS = ("mediator", "applicant", "respondent")


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("ordering")) as room:
        yield room


async def _send_and_check_acks(
    client: RoomClient, session_id: int, room: str, count: int
) -> dict[str, int]:
    """Send `count` messages back to back (not waiting for acks), and as each ack arrives
    check with a fresh SELECT that its row is already stored. Returns client_id -> seq."""
    from realtime.models import RoomMessage

    ids = [new_client_id(f"{client.name}-{room}") for _ in range(count)]

    async def send() -> None:
        for number, client_id in enumerate(ids):
            await client.post(f"{client.name} {room} #{number}", room, client_id=client_id)

    async def check() -> dict[str, int]:
        acked = {}
        for client_id in ids:
            ack = await client.ack(client_id, within=30)
            assert ack["room"] == room
            row = await RoomMessage.get_or_none(session_id=session_id, room=room, seq=ack["seq"])
            assert row is not None, f"acked {client_id} as {room}#{ack['seq']} before storing it"
            assert row.client_id == client_id and row.sender_name
            acked[client_id] = int(ack["seq"])
        return acked

    _, acked = await asyncio.gather(send(), check())
    return acked


def test_concurrent_senders_get_one_gap_free_order_seen_identically_by_all(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()
    total = PER_SENDER * len(SENDERS)

    async def scenario() -> None:
        async with orm(live.database_url):
            clients = [await enter(live.base, session_id, live.cookies[w], w) for w in SENDERS]
            mediator, applicant, respondent = clients
            jobs = [_send_and_check_acks(c, session_id, "joint", PER_SENDER) for c in clients]
            # The applicant's caucus has a sequence of its own, running at the same time.
            jobs.append(
                _send_and_check_acks(applicant, session_id, "caucus:applicant", CAUCUS_MESSAGES)
            )
            results = await asyncio.gather(*jobs)
            acked = {cid: seq for result in results[:3] for cid, seq in result.items()}
            caucus_acked = results[3]

            for client in clients:
                await client.wait_seq(total, within=20)
            await mediator.wait_seq(CAUCUS_MESSAGES, "caucus:applicant", within=20)
            await applicant.wait_seq(CAUCUS_MESSAGES, "caucus:applicant", within=20)

            orders = []
            for client in clients:
                messages = client.messages("joint")
                seqs = [m["seq"] for m in messages]
                assert seqs == list(range(1, total + 1)), f"{client.name}: {seqs}"
                orders.append([(m["seq"], m["client_id"], m["body"]["text"]) for m in messages])
                # Every sender's ack names the sequence its message was delivered with.
                for message in messages:
                    assert acked[message["client_id"]] == message["seq"]
            assert orders[0] == orders[1] == orders[2]
            assert {cid for _, cid, _ in orders[0]} == set(acked)
            # Each sender's messages keep the order they were sent in.
            for who in SENDERS:
                numbers = [
                    int(text.rsplit("#", 1)[1])
                    for _, _, text in orders[0]
                    if text.startswith(f"{who} joint")
                ]
                assert numbers == list(range(PER_SENDER)), who

            for client in (mediator, applicant):
                caucus = client.messages("caucus:applicant")
                assert [m["seq"] for m in caucus] == list(range(1, CAUCUS_MESSAGES + 1))
                assert all(caucus_acked[m["client_id"]] == m["seq"] for m in caucus)
            assert respondent.messages("caucus:applicant") == []

            rows = await stored_rows(session_id)
            joint = [r.seq for r in rows if r.room == "joint"]
            caucus = [r.seq for r in rows if r.room == "caucus:applicant"]
            assert joint == list(range(1, total + 1))
            assert caucus == list(range(1, CAUCUS_MESSAGES + 1))
            from realtime.models import RoomState

            last = dict(
                await RoomState.filter(session_id=session_id).values_list("room", "last_seq")
            )
            assert last == {
                "joint": total,
                "caucus:applicant": CAUCUS_MESSAGES,
                "caucus:respondent": 0,
            }
            for client in clients:
                await client.close()

    run_scenario(scenario)


def test_a_late_joiner_sees_the_same_history_in_the_same_order(live: LiveRoom) -> None:
    """Someone who joins after the talking sees exactly what the others saw, in order."""
    session_id = live.new_session()

    async def scenario() -> None:
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        ids = []
        for number in range(20):
            speaker = applicant if number % 2 else mediator
            ids.append(await speaker.post(f"line {number}"))
        for number, client_id in enumerate(ids):
            await (applicant if number % 2 else mediator).ack(client_id)
        await applicant.wait_seq(20)
        late = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        seen = [(m["seq"], m["client_id"]) for m in late.messages()]
        assert seen == [(m["seq"], m["client_id"]) for m in applicant.messages()]
        assert [seq for seq, _ in seen] == list(range(1, 21))
        for client in (applicant, mediator, late):
            await client.close()

    run_scenario(scenario)
