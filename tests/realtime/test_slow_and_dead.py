"""Slow and dead clients never stall the room: a client that does not read is cut off (its
queue is bounded) while the others keep receiving promptly, and it comes back by replay; a
client that sends nothing is closed after the idle timeout, while a quiet listener that
answers the heartbeat stays.

The server runs with a small per-connection queue and short heartbeat and idle timeouts
(environment overrides read by realtime.hub and realtime.endpoint at import).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from tests.support.rooms import (
    LiveRoom,
    RoomClient,
    enter,
    live_room,
    run_scenario,
    ws_url,
)

QUEUE_LIMIT = 16
HEARTBEAT = 0.5
IDLE_TIMEOUT = 2.0
LINGER = 1.0  # a session nobody is in is let go after this long
# A frame of about 12 KB: the most a message carries (4,000 characters, 3 bytes each).
BIG_TEXT = "长" * 3990
# Enough to fill the kernel's socket buffers (several MB on loopback) and then the queue.
FLOOD = 600


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    env = {
        "ROOM_QUEUE_LIMIT": str(QUEUE_LIMIT),
        "ROOM_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "ROOM_IDLE_TIMEOUT_SECONDS": str(IDLE_TIMEOUT),
        "ROOM_LINGER_SECONDS": str(LINGER),
    }
    with live_room(template_database, tmp_path_factory.mktemp("slow"), env) as room:
        yield room


class NonReader:
    """A client that joins and then stops reading (a frozen tab on a choked network): a raw
    socket with a small receive buffer, driven by the websockets sans-I/O protocol, so that
    nothing reads on its behalf. It still sends a heartbeat: it is slow, not dead."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol: ClientProtocol | None = None
        self.close_code: int | None = None

    @classmethod
    async def join(cls, live: LiveRoom, session_id: int, who: str) -> NonReader:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = live.base.removeprefix("http://").split(":")
        raw.connect((host, int(port)))
        raw.setblocking(False)
        # A small stream buffer: asyncio stops reading the socket once it holds 8 KiB.
        reader, writer = await asyncio.open_connection(sock=raw, limit=4096)
        client = cls(reader, writer)
        protocol = client.protocol = ClientProtocol(parse_uri(ws_url(live.base, session_id)))
        request = protocol.connect()
        request.headers["Cookie"] = live.cookies[who]
        protocol.send_request(request)
        client._flush()
        while not any(isinstance(e, Response) for e in protocol.events_received()):
            data = await asyncio.wait_for(reader.read(4096), 10)
            assert data, "the server closed during the handshake"
            protocol.receive_data(data)
        assert protocol.state is State.OPEN, protocol.handshake_exc
        await client.send({"type": "resume", "rooms": {}})
        return client

    def _flush(self) -> None:
        assert self.protocol is not None
        self.writer.write(b"".join(self.protocol.data_to_send()))

    async def send(self, frame: dict[str, object]) -> None:
        assert self.protocol is not None
        self.protocol.send_text(json.dumps(frame).encode())
        self._flush()
        await self.writer.drain()

    async def heartbeat(self) -> None:
        with suppress(OSError, InvalidState):
            while True:
                await self.send({"type": "ping"})
                await asyncio.sleep(HEARTBEAT)

    async def read_until_closed(self, within: float) -> list[int]:
        """Read, at last, everything it had been sent; returns the joint sequences."""
        assert self.protocol is not None
        seqs: list[int] = []
        async with asyncio.timeout(within):
            while self.close_code is None:
                try:
                    data = await self.reader.read(65536)
                except ConnectionResetError:
                    data = b""  # reset: what was not read yet is lost, as with a real drop
                if data:
                    self.protocol.receive_data(data)
                else:
                    self.protocol.receive_eof()
                for event in self.protocol.events_received():
                    if not isinstance(event, Frame):
                        continue
                    if event.opcode is Opcode.TEXT:
                        frame = json.loads(bytes(event.data))
                        if frame["type"] == "message" and frame["room"] == "joint":
                            seqs.append(int(frame["seq"]))
                    elif event.opcode is Opcode.CLOSE:
                        self.close_code = self.protocol.close_code
                if not data and self.close_code is None:
                    self.close_code = 1006  # dropped without a closing handshake
        self.writer.close()
        return seqs


def test_a_client_that_does_not_read_is_cut_off_without_stalling_the_room(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        # Four fast connections (two tabs each) write, so commits batch.
        talkers = [
            await enter(live.base, session_id, live.cookies[who], f"{who}-{tab}")
            for who in ("mediator", "applicant")
            for tab in (1, 2)
        ]
        slow = await NonReader.join(live, session_id, "respondent")
        beating = asyncio.create_task(slow.heartbeat())
        await asyncio.sleep(0.3)

        async def talk(client: RoomClient, count: int) -> None:
            for number in range(count):
                await client.ack(await client.post(f"{number} {BIG_TEXT}"))

        started = time.monotonic()
        per_talker = FLOOD // len(talkers)
        await asyncio.gather(*(talk(client, per_talker) for client in talkers))
        for client in talkers:
            await client.wait_seq(FLOOD, within=30)
        elapsed = time.monotonic() - started
        # Not stalled: everyone else had every message, in order, promptly.
        for client in talkers:
            assert client.seqs() == list(range(1, FLOOD + 1)), client.name
        assert elapsed < 20, f"the room took {elapsed:.1f}s for {FLOOD} messages"

        # The non-reader was cut off: reading at last, it finds a gap-free prefix of the
        # room, then the end of the connection (4409, or dropped).
        beating.cancel()
        got = await slow.read_until_closed(within=20)
        assert slow.close_code in (4409, 1006), slow.close_code
        assert got == list(range(1, len(got) + 1))
        assert len(got) < FLOOD, "never cut off: the flood did not fill its buffers"

        # It comes back by replay from where it was, and gets the rest, then live ones.
        epoch = talkers[0].positions["joint"]["epoch"]
        position = {"joint": {"epoch": epoch, "seq": got[-1] if got else 0}}
        back = await enter(live.base, session_id, live.cookies["respondent"], "back", position)
        assert back.seqs() == list(range(len(got) + 1, FLOOD + 1))
        await talkers[0].ack(await talkers[0].post("欢迎回来"))
        await back.wait_seq(FLOOD + 1)
        assert back.seqs()[-1] == FLOOD + 1 and back.of_type("reset") == []

    run_scenario(scenario)


def test_a_client_that_sends_nothing_is_closed_after_the_idle_timeout(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        dead = await enter(live.base, session_id, live.cookies["applicant"], "dead")
        dead.answer_pings = False  # the tab is frozen: it gets pings, never answers
        started = time.monotonic()
        assert await dead.closed(within=IDLE_TIMEOUT + 5) == 4408
        assert IDLE_TIMEOUT - 0.5 <= time.monotonic() - started <= IDLE_TIMEOUT + 3
        # The others were not disturbed, and saw it go.
        await mediator.wait(lambda f: f["type"] == "presence" and not f["online"])
        assert not mediator.is_closed
        await mediator.ack(await mediator.post("还在吗"))

    run_scenario(scenario)


def test_a_listener_that_answers_the_heartbeat_stays_connected_in_a_busy_room(
    live: LiveRoom,
) -> None:
    """Someone who only reads while others talk sends nothing but heartbeat answers; the
    server's heartbeat must reach them even when the room never goes quiet."""
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        listener = await enter(live.base, session_id, live.cookies["respondent"], "listener")
        quiet = await enter(live.base, session_id, live.cookies["applicant"], "quiet")
        count = 0
        deadline = time.monotonic() + 2 * IDLE_TIMEOUT + 0.5
        while time.monotonic() < deadline:
            # The mediator answers its pings too, but a talker is never idle anyway.
            count += 1
            await mediator.ack(await mediator.post(f"第{count}句"))
            await asyncio.sleep(0.1)
        await listener.wait_seq(count)
        await quiet.wait_seq(count)
        assert not listener.is_closed, listener.close_code
        assert listener.seqs() == list(range(1, count + 1))
        assert not quiet.is_closed

    run_scenario(scenario)


def test_a_session_left_empty_is_let_go_and_set_up_again_when_they_return(
    live: LiveRoom,
) -> None:
    """LINGER seconds after the last participant has gone, the process lets the session go
    (its rooms' state, their recent messages, its broker subscription); whoever comes back
    later gets exactly what they missed, and the sequence carries on."""
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        for number in range(5):
            await mediator.ack(await mediator.post(f"第{number}句"))
        await applicant.wait_seq(5)
        position = {room: dict(p) for room, p in applicant.positions.items()}
        await applicant.close()
        await mediator.close()
        await asyncio.sleep(LINGER + 2 * HEARTBEAT + 0.5)
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator-2")
        assert mediator.seqs() == [1, 2, 3, 4, 5]
        for number in range(3):
            await mediator.ack(await mediator.post(f"又一句{number}"))
        back = await enter(live.base, session_id, live.cookies["applicant"], "back", position)
        assert back.seqs() == [6, 7, 8]
        await back.ack(await back.post("我回来了"))
        await mediator.wait_seq(9)
        assert mediator.seqs() == list(range(1, 10))

    run_scenario(scenario)
