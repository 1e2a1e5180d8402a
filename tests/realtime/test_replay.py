"""Replay: a client that reconnects with its last sequence gets exactly what it missed, then
live messages, with no gap and no duplicate; when that cannot be done it is told (reset)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

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

MISSED = 50
# Each room keeps this many recent messages in memory (ROOM_RECENT_LIMIT): MISSED is more,
# so those tests replay from the database, while FEW is replayed from memory.
RECENT = 20
FEW = 6


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    env = {"ROOM_RECENT_LIMIT": str(RECENT)}
    with live_room(template_database, tmp_path_factory.mktemp("replay"), env) as room:
        yield room


async def _talk(speakers: list[RoomClient], count: int, label: str, pause: float = 0.0) -> None:
    """`count` messages from the speakers in turn, each acknowledged before the next."""
    for number in range(count):
        speaker = speakers[number % len(speakers)]
        await speaker.ack(await speaker.post(f"{label} {number}"))
        if pause:
            await asyncio.sleep(pause)


def _resume_from(client: RoomClient) -> dict[str, Any]:
    return {room: dict(position) for room, position in client.positions.items()}


def test_a_dropped_client_gets_exactly_what_it_missed_then_live_messages(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await _talk([mediator, applicant], 10, "before")
        await respondent.wait_seq(10)
        # Mid-stream: the others keep talking while the respondent's network dies.
        talking = asyncio.create_task(_talk([mediator, applicant], MISSED, "during", 0.02))
        await respondent.wait_seq(14)
        await respondent.drop()
        seen_before = respondent.seqs()
        position = _resume_from(respondent)
        assert position["joint"]["seq"] == seen_before[-1]
        assert seen_before == list(range(1, seen_before[-1] + 1))
        await asyncio.sleep(0.3)  # the talk goes on without it

        # Reconnect while messages are still arriving: replay, then the held live ones.
        back = await enter(
            live.base, session_id, live.cookies["respondent"], "respondent-2", position
        )
        assert not talking.done(), "the reconnect should happen while messages still flow"
        await talking
        await _talk([mediator, applicant], 5, "after")
        total = 10 + MISSED + 5
        await back.wait_seq(total)
        got = back.seqs()
        assert got == list(range(seen_before[-1] + 1, total + 1)), got
        assert back.of_type("reset") == []
        # The replay's end is marked, and what came after it is live.
        replayed = next(f for f in back.frames if f["type"] == "replayed" and f["room"] == "joint")
        assert replayed["seq"] >= seen_before[-1]
        assert sorted(seen_before + got) == list(range(1, total + 1))
        # Same content as the others saw.
        await mediator.wait_seq(total)
        expected = {m["seq"]: m["body"]["text"] for m in mediator.messages()}
        assert {m["seq"]: m["body"]["text"] for m in back.messages()} == {
            seq: expected[seq] for seq in got
        }
        for client in (mediator, applicant, back):
            await client.close()

    run_scenario(scenario)


def test_a_client_that_missed_a_few_gets_exactly_those_mid_stream(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await _talk([mediator], 30, "before")  # more than the room keeps in memory
        await respondent.wait_seq(30)
        position = _resume_from(respondent)
        await respondent.drop()
        await _talk([mediator], FEW, "missed")
        talking = asyncio.create_task(_talk([mediator], 10, "during", 0.02))
        back = await enter(live.base, session_id, live.cookies["respondent"], "back", position)
        await talking
        await back.wait_seq(30 + FEW + 10)
        assert back.seqs() == list(range(31, 30 + FEW + 10 + 1))
        assert back.of_type("reset") == []
        for client in (mediator, back):
            await client.close()

    run_scenario(scenario)


def test_everyone_leaves_and_comes_back_from_where_each_was(live: LiveRoom) -> None:
    """The session lingers a while after its last participant has gone (ROOM_LINGER_SECONDS):
    whoever comes back then resumes exactly, from memory or, further back, from the
    database."""
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await _talk([mediator, applicant], 3, "before")
        for client in (applicant, respondent):
            await client.wait_seq(3)
        applicant_at, respondent_at = _resume_from(applicant), _resume_from(respondent)
        await applicant.close()
        await respondent.drop()
        await mediator.close()
        # The mediator comes back from nothing, and talks on alone.
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator-2")
        assert mediator.seqs() == [1, 2, 3]
        await _talk([mediator], FEW, "alone")
        applicant = await enter(
            live.base, session_id, live.cookies["applicant"], "applicant-2", applicant_at
        )
        assert applicant.seqs() == list(range(4, 4 + FEW))
        await _talk([mediator], RECENT + 5, "more")
        total = 3 + FEW + RECENT + 5
        # Further back than the room keeps in memory: from the database.
        respondent = await enter(
            live.base, session_id, live.cookies["respondent"], "respondent-2", respondent_at
        )
        assert respondent.seqs() == list(range(4, total + 1))
        fresh = await enter(live.base, session_id, live.cookies["respondent"], "respondent-3")
        assert fresh.seqs() == list(range(1, total + 1))
        await applicant.wait_seq(total)
        assert applicant.seqs() == list(range(4, total + 1))
        for client in (mediator, applicant, respondent, fresh):
            assert client.of_type("reset") == []
            await client.close()

    run_scenario(scenario)


def test_a_cleanly_closed_client_resumes_from_its_last_sequence(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await _talk([mediator], 3, "before")
        await respondent.wait_seq(3)
        position = _resume_from(respondent)
        await respondent.close()
        await _talk([mediator], MISSED, "missed")
        # The caucus moved on too, in its own sequence.
        for number in range(4):
            await mediator.ack(await mediator.post(f"caucus {number}", "caucus:respondent"))
        back = await enter(live.base, session_id, live.cookies["respondent"], "back", position)
        assert back.seqs() == list(range(4, 4 + MISSED))
        assert back.seqs("caucus:respondent") == [1, 2, 3, 4]
        frames = [f["type"] for f in back.frames]
        # welcome, then each room's replay closed by its "replayed" marker
        assert frames[0] == "welcome" and frames.count("replayed") == 2
        await mediator.ack(await mediator.post("live again"))
        await back.wait_seq(3 + MISSED + 1)
        assert back.seqs()[-1] == 3 + MISSED + 1 and len(set(back.seqs())) == len(back.seqs())
        for client in (mediator, back):
            await client.close()

    run_scenario(scenario)


def test_a_wrong_epoch_is_told_to_reset(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        await _talk([mediator], 3, "x")
        applicant = await enter(
            live.base,
            session_id,
            live.cookies["applicant"],
            "applicant",
            {"joint": {"epoch": "deadbeef", "seq": 2}},
        )
        reset = applicant.of_type("reset")
        assert [(f["room"], f["reason"]) for f in reset] == [("joint", "epoch_changed")]
        # The other room, resumed without an epoch, is not reset.
        welcome = applicant.of_type("welcome")[0]
        assert {r["room"] for r in welcome["rooms"]} == {"joint", "caucus:applicant"}
        assert "deadbeef" not in {r["epoch"] for r in welcome["rooms"]}
        for client in (mediator, applicant):
            await client.close()

    run_scenario(scenario)


def test_a_sequence_from_the_future_is_an_error_and_a_reset_and_changes_nothing(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            await _talk([mediator], 3, "x")
            epoch = mediator.positions["joint"]["epoch"]
            before = [(r.room, r.seq, r.client_id) for r in await stored_rows(session_id)]
            applicant = await enter(
                live.base,
                session_id,
                live.cookies["applicant"],
                "applicant",
                {"joint": {"epoch": epoch, "seq": 1000}},
            )
            errors = applicant.of_type("error")
            assert [(f["code"], f["room"]) for f in errors] == [("seq_from_future", "joint")]
            resets = applicant.of_type("reset")
            assert [(f["room"], f["reason"]) for f in resets] == [("joint", "seq_from_future")]
            after = [(r.room, r.seq, r.client_id) for r in await stored_rows(session_id)]
            assert after == before
            from realtime.models import RoomState

            state = await RoomState.get(session_id=session_id, room="joint")
            assert (state.epoch, state.last_seq) == (epoch, 3)
            # The room goes on as before for everyone.
            await mediator.ack(await mediator.post("still here"))
            await applicant.wait_seq(4)
            await mediator.wait_seq(4)
            assert mediator.seqs() == [1, 2, 3, 4]
            for client in (mediator, applicant):
                await client.close()

    run_scenario(scenario)


def test_a_message_resent_after_reconnecting_is_stored_once(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            await _talk([mediator], 2, "x")
            await applicant.wait_seq(2)
            # Sent, then the network dies before the ack is read.
            lost = new_client_id("applicant")
            await applicant.post("我同意退一半", client_id=lost)
            position = _resume_from(applicant)
            await applicant.drop()
            await mediator.delivered(lost)
            back = await enter(
                live.base, session_id, live.cookies["applicant"], "applicant-2", position
            )
            # The replay brings it back (it was stored); resending it is acknowledged with
            # the same sequence, and nobody receives it twice.
            replayed = [m for m in back.messages() if m["client_id"] == lost]
            assert [m["seq"] for m in replayed] == [3]
            await back.post("我同意退一半", client_id=lost)
            assert (await back.ack(lost))["seq"] == 3
            # A resend of an acknowledged message, twice more, still maps to the same one.
            answered = await back.post("first", client_id=new_client_id("applicant"))
            first_seq = (await back.ack(answered))["seq"]
            for _ in range(2):
                await back.post("first", client_id=answered)
                assert (await back.ack(answered))["seq"] == first_seq
            await mediator.ack(await mediator.post("after"))
            # (an ack can come before the sender's own copy: wait for both copies)
            await back.wait_seq(first_seq + 1)
            await mediator.wait_seq(first_seq + 1)
            for client in (mediator, back):
                assert client.seqs() == sorted(set(client.seqs())), client.name
            assert mediator.seqs() == [1, 2, 3, 4, 5]
            rows = await stored_rows(session_id, "joint")
            assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
            assert [r.client_id for r in rows].count(lost) == 1
            assert [r.client_id for r in rows].count(answered) == 1
            for client in (mediator, back):
                await client.close()

    run_scenario(scenario)


def test_a_long_history_is_replayed_in_full_to_a_client_joining_from_nothing(
    live: LiveRoom,
) -> None:
    """More missed messages than a connection's live queue holds (512) is still a replay
    the client can take at its own pace, not a reason to cut it off as too slow."""
    session_id = live.new_session()
    count = 700

    async def seed() -> None:
        from datetime import UTC, datetime

        from realtime.models import RoomMessage, RoomState
        from realtime.store import ensure_rooms

        async with orm(live.database_url):
            await ensure_rooms(session_id)
            now = datetime.now(UTC)
            await RoomMessage.bulk_create(
                [
                    RoomMessage(
                        session_id=session_id,
                        room="joint",
                        seq=seq,
                        sender_id=live.world.room.user_ids["applicant"],
                        sender_name="张三",
                        sender_side="applicant",
                        kind="message",
                        body={"text": f"第{seq}条"},
                        client_id=f"seeded-{seq:06d}",
                        created_at=now,
                    )
                    for seq in range(1, count + 1)
                ]
            )
            await RoomState.filter(session_id=session_id, room="joint").update(last_seq=count)

    run_scenario(seed)

    async def scenario() -> None:
        client = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        assert client.seqs() == list(range(1, count + 1))
        assert not client.is_closed and client.of_type("reset") == []
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        await mediator.ack(await mediator.post("继续"))
        await client.wait_seq(count + 1)
        assert client.seqs()[-2:] == [count, count + 1]

    run_scenario(scenario)
