"""The same guarantees with participants on different server processes: two uvicorn
processes on one database, fanning out through Redis.

Redis: REDIS_URL when set; otherwise a throwaway redis-server started for this module. Each
run uses channels of its own (ROOM_REDIS_PREFIX), so runs sharing a Redis do not mix.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from realtime.broker import RedisBroker
from realtime.hub import Hub
from realtime.protocol import Kind, Participant, Post
from tests.realtime.test_presence import closing_one_of_two_tabs
from tests.support.live_server import free_port
from tests.support.required import missing
from tests.support.rooms import (
    LiveRoom,
    RoomClient,
    enter,
    live_room,
    new_client_id,
    orm,
    refused,
    run_scenario,
    stored_rows,
)

PER_SENDER = 50
JOIN_ATTEMPTS = 10
# This module's Redis channels (the servers' and the announcing test's own hub's).
PREFIX = f"test-{uuid.uuid4().hex[:12]}:session:"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        missing("no REDIS_URL and no redis-server to start")  # under CI: a failure
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            ping = subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def live(
    template_database: str, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[LiveRoom]:
    env = {"REDIS_URL": redis_url, "ROOM_REDIS_PREFIX": PREFIX}  # channels of this run's own
    scratch = tmp_path_factory.mktemp("two-processes")
    with live_room(template_database, scratch, env, processes=2) as room:
        yield room


@pytest.fixture(scope="module")
def unlingering(
    template_database: str, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[LiveRoom]:
    """Two processes that let a session go as soon as its last participant leaves."""
    env = {"REDIS_URL": redis_url, "ROOM_LINGER_SECONDS": "0"}
    scratch = tmp_path_factory.mktemp("two-processes-unlingering")
    with live_room(template_database, scratch, env, processes=2) as room:
        yield room


async def _join(
    live: LiveRoom, process: int, session_id: int, who: str, rooms: dict[str, Any] | None = None
) -> RoomClient:
    """`who` joins through server process 0 or 1."""
    name = f"{who}@{process}"
    return await enter(live.bases[process], session_id, live.cookies[who], name, rooms)


def test_participants_on_two_processes_share_one_gap_free_order(live: LiveRoom) -> None:
    session_id = live.new_session()
    total = PER_SENDER * 4

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await _join(live, 0, session_id, "mediator")
            applicant = await _join(live, 1, session_id, "applicant")
            respondent = await _join(live, 0, session_id, "respondent")
            # A second tab of the respondent, on the other process.
            respondent_b = await _join(live, 1, session_id, "respondent")
            clients = [mediator, applicant, respondent, respondent_b]
            acked: dict[str, int] = {}

            async def talk(client: RoomClient) -> None:
                ids = [new_client_id(client.name) for _ in range(PER_SENDER)]
                for number, client_id in enumerate(ids):
                    await client.post(f"{client.name} #{number}", client_id=client_id)
                for client_id in ids:
                    ack = await client.ack(client_id, within=30)
                    acked[client_id] = ack["seq"]

            await asyncio.gather(*(talk(c) for c in clients))
            orders = []
            for client in clients:
                await client.wait_seq(total, within=30)
                messages = client.messages()
                assert [m["seq"] for m in messages] == list(range(1, total + 1)), client.name
                orders.append([(m["seq"], m["client_id"]) for m in messages])
                assert all(acked[m["client_id"]] == m["seq"] for m in messages)
            assert all(order == orders[0] for order in orders)
            assert {cid for _, cid in orders[0]} == set(acked)
            rows = await stored_rows(session_id, "joint")
            assert [r.seq for r in rows] == list(range(1, total + 1))

    run_scenario(scenario)


def test_caucus_privacy_and_controls_hold_across_processes(live: LiveRoom) -> None:
    session_id = live.new_session()
    applicant_id = live.world.room.user_ids["applicant"]
    respondent_id = live.world.room.user_ids["respondent"]

    async def scenario() -> None:
        mediator = await _join(live, 0, session_id, "mediator")
        applicant = await _join(live, 1, session_id, "applicant")
        respondent_a = await _join(live, 0, session_id, "respondent")
        respondent_b = await _join(live, 1, session_id, "respondent")
        secret = await applicant.post("底线两千八", "caucus:applicant")
        await applicant.ack(secret)
        concession = await applicant.post("可以让一半", concession=True)
        await applicant.ack(concession)
        public = await applicant.post("公开发言")
        await applicant.ack(public)
        for client in (mediator, respondent_a, respondent_b):
            await client.delivered(public)
        caucus = await mediator.delivered(secret)
        assert caucus["room"] == "caucus:applicant"
        await mediator.delivered(concession)
        for respondent in (respondent_a, respondent_b):
            leaked = [
                f
                for f in respondent.frames
                if f.get("room") == "caucus:applicant" or f.get("client_id") in (secret, concession)
            ]
            assert leaked == []
        # A mute given on one process binds the party on the other.
        await mediator.ack(await mediator.control("mute", user_id=applicant_id))
        await applicant.wait(lambda f: f["type"] == "message" and f["kind"] == "control")
        assert await applicant.error(await applicant.post("我还要说")) == "muted"
        await mediator.ack(await mediator.control("unmute", user_id=applicant_id))
        await applicant.wait(
            lambda f: f["type"] == "message" and f["body"].get("action") == "unmute"
        )
        await applicant.ack(await applicant.post("谢谢"))
        # A removal closes the party's sockets on both processes, and keeps it out of both.
        await mediator.ack(await mediator.control("remove", user_id=respondent_id))
        for respondent in (respondent_a, respondent_b):
            assert await respondent.closed() == 4404, respondent.name
        for base in live.bases:
            assert await refused(base, session_id, live.cookies["respondent"]) in (4403, 4404)
        # The end, given on one process, closes every socket on both.
        end = await mediator.control("end")
        for client in (mediator, applicant):
            await client.delivered(end)
            assert await client.closed() == 4410, client.name

    run_scenario(scenario)


def test_replay_after_reconnecting_to_the_other_process(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await _join(live, 0, session_id, "mediator")
        applicant = await _join(live, 1, session_id, "applicant")
        respondent = await _join(live, 0, session_id, "respondent")

        async def talk(count: int, pause: float) -> None:
            for number in range(count):
                speaker = (mediator, applicant)[number % 2]
                await speaker.ack(await speaker.post(f"第{number}句"))
                await asyncio.sleep(pause)

        await talk(6, 0)
        await respondent.wait_seq(6)
        talking = asyncio.create_task(talk(PER_SENDER, 0.02))
        await respondent.wait_seq(10)
        position = {room: dict(p) for room, p in respondent.positions.items()}
        before = respondent.seqs()
        await respondent.drop()
        await asyncio.sleep(0.2)
        # Back on the other process, mid-stream.
        back = await _join(live, 1, session_id, "respondent", rooms=position)
        assert not talking.done(), "the reconnect should happen while messages still flow"
        await talking
        await talk(4, 0)
        total = 6 + PER_SENDER + 4
        await back.wait_seq(total)
        assert back.seqs() == list(range(before[-1] + 1, total + 1))
        assert back.of_type("reset") == []
        # The same session's caucus replays on the other process as well.
        await mediator.ack(await mediator.post("私下说", "caucus:respondent"))
        await back.wait_seq(1, "caucus:respondent")
        assert back.seqs("caucus:respondent") == [1]

    run_scenario(scenario)


@pytest.mark.parametrize("lingering", [False, True])
def test_joining_a_process_new_to_a_busy_session_gives_no_duplicate(
    live: LiveRoom, unlingering: LiveRoom, lingering: bool
) -> None:
    """The second process sets the session up while messages from the first keep coming
    (some arrive before it is ready, and are filled in from the database later): whatever
    it replays and then receives live, nothing comes twice and nothing is missing. With
    `lingering`, the second process keeps the session between the joins (and keeps
    receiving its messages meanwhile), so the later joins are replayed from its memory."""
    live = live if lingering else unlingering
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await _join(live, 0, session_id, "mediator")
        stop = asyncio.Event()

        async def talk() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                await mediator.ack(await mediator.post(f"第{number}句"))
                await asyncio.sleep(0.03)

        talking = asyncio.create_task(talk())
        for attempt in range(JOIN_ATTEMPTS):
            # Alone on process 1, so (unlingering) each join sets the session up afresh.
            client = await _join(live, 1, session_id, "respondent")
            await asyncio.sleep(0.1)
            await client.wait_seq(mediator.seqs()[-1])
            seqs = client.seqs()
            assert seqs == list(range(1, len(seqs) + 1)), f"attempt {attempt}: {seqs[-10:]}"
            await client.close()
        stop.set()
        await talking

    run_scenario(scenario)


def test_a_late_joiner_sees_who_is_already_there_on_either_process(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await _join(live, 0, session_id, "mediator")
        applicant = await _join(live, 1, session_id, "applicant")
        respondent = await _join(live, 1, session_id, "respondent")
        ids = live.world.room.user_ids

        def online(client: RoomClient) -> set[int]:
            seen: dict[int, bool] = {}
            for frame in client.of_type("presence"):
                seen[frame["user"]["id"]] = frame["online"]
            return {user for user, on in seen.items() if on}

        expected = {ids["mediator"], ids["applicant"]}
        await respondent.wait(lambda f: online(respondent) >= expected)
        assert online(respondent) >= expected
        for client in (mediator, applicant, respondent):
            await client.socket.close()

    run_scenario(scenario)


def test_an_announcement_from_a_third_process_reaches_both(live: LiveRoom, redis_url: str) -> None:
    """The platform announces (an agreement version) from a process where none of the
    session's participants is connected: stored in the room's sequence, live on both."""
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await _join(live, 0, session_id, "mediator")
            applicant = await _join(live, 1, session_id, "applicant")
            await mediator.ack(await mediator.post("开始"))
            hub = Hub(RedisBroker(redis_url, prefix=PREFIX))
            await hub.start()
            try:
                stored = await hub.announce(session_id, Kind.AGREEMENT, {"version": 1})
            finally:
                await hub.stop()
            assert stored.seq == 2
            for client in (mediator, applicant):
                await client.wait_seq(2)
                frame = client.messages()[-1]
                assert (frame["kind"], frame["body"], frame["sender"]["id"]) == (
                    "agreement",
                    {"version": 1},
                    None,
                )
                assert client.seqs() == [1, 2]
            await applicant.ack(await applicant.post("收到"))
            await mediator.wait_seq(3)
            assert mediator.seqs() == [1, 2, 3]

    run_scenario(scenario)


class _LosingBroker(RedisBroker):
    """A Redis broker that loses the events of stored messages (as a publish lost in a
    network fault or a Redis restart would be)."""

    async def publish(self, session_id: int, event: dict[str, Any]) -> None:
        if event.get("type") != "stored":
            await super().publish(session_id, event)


def test_a_message_whose_event_is_lost_arrives_within_two_seconds(
    live: LiveRoom, redis_url: str
) -> None:
    """Stored by a process whose event never reaches the others (the test's own hub, with a
    broker that loses it), and nothing said after it: each process finds it in the database
    by itself and delivers it, within 2 s, to its participants."""
    session_id = live.new_session()
    applicant_id = live.world.room.user_ids["applicant"]

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await _join(live, 0, session_id, "mediator")
            respondent = await _join(live, 1, session_id, "respondent")
            await mediator.ack(await mediator.post("开始"))
            await respondent.wait_seq(1)
            hub = Hub(_LosingBroker(redis_url, prefix=PREFIX))
            await hub.start()
            try:
                speaker = Participant(applicant_id, "张三", False, "applicant")
                post = Post("joint", new_client_id("lost"), Kind.MESSAGE, {"text": "无人转发"})
                stored = await hub.writer.append(session_id, speaker, post)
                committed = time.monotonic()
                for client in (mediator, respondent):
                    await client.wait_seq(stored.seq, within=5)
                    took = time.monotonic() - committed
                    assert took <= 2.0, f"{client.name} caught up after {took:.2f}s"
                    assert client.seqs() == [1, 2]
            finally:
                await hub.stop()

    run_scenario(scenario)


def test_a_user_on_both_processes_stays_online_until_the_last_tab_closes(
    live: LiveRoom,
) -> None:
    """One tab on each process: closing the one on the mediator's process leaves the user
    online there (its other process still has them), until the other closes too."""
    session_id = live.new_session()
    respondent_id = live.world.room.user_ids["respondent"]
    run_scenario(
        lambda: closing_one_of_two_tabs(live.bases, live.cookies, session_id, respondent_id)
    )


def test_a_process_that_dies_without_a_word_is_forgotten_in_presence(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hubs (as two processes would run them) on one Redis: the applicant is connected
    to the first, the mediator to the second. The first dies without a word (no leave, no
    offline event): after three silent presence rounds, the second shows the applicant
    offline; while the first lived and repeated its list, the applicant stayed online."""
    import json

    import realtime.hub
    from realtime.hub import Connection

    monkeypatch.setattr(realtime.hub, "PRESENCE_SECONDS", 0.5)
    prefix = f"test-{uuid.uuid4().hex[:12]}:session:"
    applicant, mediator = (
        Participant(2, "张三", False, "applicant"),
        Participant(1, "王", True, None),
    )
    seen: list[dict[str, Any]] = []

    async def keep(frame: str) -> None:
        seen.append(json.loads(frame))

    async def drop(frame: str) -> None:
        return None

    async def no_close(code: int) -> None:
        return None

    def shown_online() -> bool | None:
        states = [f["online"] for f in seen if f["type"] == "presence" and f["user"]["id"] == 2]
        return states[-1] if states else None

    async def until(condition: Any, within: float) -> float:
        start = time.monotonic()
        while not condition():
            assert time.monotonic() - start < within, f"not within {within}s: {seen[-3:]}"
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    async def scenario() -> None:
        async with orm(database_url):
            first, second = Hub(RedisBroker(redis_url, prefix)), Hub(RedisBroker(redis_url, prefix))
            await first.start()
            await second.start()
            try:
                await first.join(Connection(1, applicant, drop, no_close), {})
                await second.join(Connection(1, mediator, keep, no_close), {})
                await until(lambda: shown_online() is True, 5)
                await asyncio.sleep(2.0)  # four rounds: the first keeps saying who it has
                assert shown_online() is True
                # The first process dies: its timers and its Redis connection just stop.
                for task in (first._beat, first._watch):
                    assert task is not None
                    task.cancel()
                await first.broker.stop()
                took = await until(lambda: shown_online() is False, 5)
                assert took >= 1.0, "forgotten before three rounds of silence"
            finally:
                await second.stop()

    run_scenario(scenario)
