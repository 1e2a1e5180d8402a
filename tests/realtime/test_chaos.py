"""Chaos over real processes: a live session keeps going while its servers, its broker and
its database fail under it.

Processes: two web servers (uvicorn, fanning out through a Redis of this test's own), the
background jobs (`mediation jobs`, delivering notices and court filings), a stand-in court
desk, and this test: three participants (the mediator and both parties) on real WebSocket
clients that send all the time (joint, caucus and concession messages), resume after every
drop like room.js does (resending what was not acknowledged), and try the other server
when theirs is gone. The web servers and the jobs reach PostgreSQL through a TCP proxy
that can cut them off.

Faults, one after the other, mid-session: the first web server is killed with SIGKILL (its
clients move to the other; it is started again); Redis is stopped and started again (every
event published meanwhile is lost; then nobody speaks for 2.5 s, so only the servers' own
check of the rooms can deliver what those events carried); the database connections are
cut and refused for 3 s.
Notices and court filings are queued before, between and during the faults.

Afterwards: every message sent was acknowledged and is stored exactly once; each
participant's view of each room it may read equals the database's, number for number, and
holds nothing it may not see; every message reached every reader within 2 s of when it was
stored, of the reader's (re)connection, or of the end of the fault it was stored under;
every notice was sent once and every court filing received once. One line of figures is
printed (`chaos sent=... acknowledged=... stored=... max_catch_up_s=...`).

Needs PostgreSQL: two web servers and a jobs process cannot share one SQLite database
through a TCP proxy, so on SQLite (DATABASE_URL unset or sqlite) this test is deselected
(marker `postgres_only`; the run says how many) and runs in the PostgreSQL run of the
suite. On PostgreSQL it needs `redis-server` on the PATH (it starts
its own, so the machine's Redis is untouched); under CI, a missing redis-server fails it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from mediation.settings import Settings
from tests.support.fake_desk import FakeDesk, run_fake_desk
from tests.support.live_server import free_port, run_with_orm, stop_process, wait_until_healthy
from tests.support.rooms import (
    CREDENTIALS,
    LiveWorld,
    build_live_world,
    cheap_hashing,
    fresh_database,
    new_session,
    session_cookie,
    ws_url,
)
from tests.support.tcp_proxy import TcpProxy, run_tcp_proxy

# The chaos test needs PostgreSQL (two web servers and a jobs process share it).
pytestmark = pytest.mark.postgres_only

SEND_EVERY = 0.1  # seconds between one participant's messages
CATCH_UP_LIMIT = 2.0  # seconds
DB_CUT_SECONDS = 3.0
FILING_SECRET = "whsec_Y2hhb3MtZmlsaW5nLXNlY3JldC1mb3ItdGVzdHM="
MEDIATION = [sys.executable, "-c", "import sys; from mediation.cli import main; sys.exit(main())"]
READS = {
    "mediator": ("joint", "caucus:applicant", "caucus:respondent"),
    "applicant": ("joint", "caucus:applicant"),
    "respondent": ("joint", "caucus:respondent"),
}


# --- the processes -------------------------------------------------------------------------------


class Redis:
    """A redis-server of this test's own on a free port, to stop and start again."""

    def __init__(self, scratch: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is needed for the chaos test")
            pytest.skip("no redis-server on the PATH")
        self.binary, self.port, self.scratch = server, free_port(), scratch
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.scratch)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Web:
    """One uvicorn web server process on a fixed port, to kill and start again."""

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BASE_URL": self.base, **env}
        self.log = scratch / f"web-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "--factory", "mediation.app:create_app"),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                ],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until_healthy(self.process, self.base, self.log, "web server")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)


@contextmanager
def running(*things: Any) -> Iterator[None]:
    with ExitStack() as stack:
        for thing in things:
            thing.start()
            stack.callback(thing.stop)
        yield


@contextmanager
def jobs_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*MEDIATION, "jobs", "--interval", "0.3"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        stop_process(process)


class Mailbox:
    """An SMTP server keeping the subject of every message it is given."""

    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.startswith("Subject: "):
                self.subjects.append(line.removeprefix("Subject: "))
        return "250 OK"


def via_proxy(database_url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(database_url)
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    return urlunsplit(parts._replace(netloc=netloc))


# --- the participants ----------------------------------------------------------------------------


@dataclass
class Arrival:
    client_id: str
    stored_at: float  # the message's time (the server's clock: this machine's)
    arrived: float


@dataclass
class Participant:
    """A participant's client, like room.js: a position per room, resume after any drop,
    resend what was not acknowledged; and it tries the other server when its own is gone."""

    who: str
    cookie: str
    bases: list[str]
    session_id: int
    first: int  # which server it starts on
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[int, Arrival]] = field(default_factory=lambda: defaultdict(dict))
    unacked: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    acked: dict[str, tuple[str, int]] = field(default_factory=dict)
    ready_at: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    reconnects: int = 0
    socket: ClientConnection | None = None
    live: bool = False
    number: int = 0

    async def run(self, done: asyncio.Event) -> None:
        attempt = self.first
        while not done.is_set():
            base = self.bases[attempt % len(self.bases)]
            headers = {"Cookie": self.cookie, "Origin": base}
            try:
                async with connect(
                    ws_url(base, self.session_id),
                    additional_headers=headers,
                    open_timeout=3,
                    ping_interval=None,
                ) as socket:
                    self.socket = socket
                    await socket.send(json.dumps({"type": "resume", "rooms": self.positions}))
                    async for raw in socket:
                        await self._on(json.loads(raw), socket)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                pass
            self.socket, self.live = None, False
            if done.is_set():
                return
            self.reconnects += 1
            attempt += 1
            await asyncio.sleep(0.2)

    async def _on(self, frame: dict[str, Any], socket: ClientConnection) -> None:
        kind, now = frame.get("type"), time.time()
        if kind == "welcome":
            self.ready_at.append(now)
            for entry in frame["rooms"]:
                self.positions.setdefault(entry["room"], {"epoch": entry["epoch"], "seq": 0})
            self.live = True
        elif kind == "message":
            room, seq = frame["room"], int(frame["seq"])
            stored_at = datetime.fromisoformat(frame["at"]).timestamp()
            known = self.views[room].get(seq)
            if known is not None:
                self.problems.append(f"{room} #{seq} came twice")
            self.views[room][seq] = Arrival(frame["client_id"], stored_at, now)
            position = self.positions[room]
            position["seq"] = max(position["seq"], seq)
        elif kind == "replayed":
            for frame_id, unacked in list(self.unacked.items()):
                if unacked["room"] == frame["room"] and frame_id in self.unacked:
                    await socket.send(json.dumps(unacked))
        elif kind == "ack":
            self.acked[frame["client_id"]] = (frame["room"], int(frame["seq"]))
            self.unacked.pop(frame["client_id"], None)
        elif kind == "error" and frame.get("code") == "not_stored":
            pass  # resent by `resend` (like room.js, a moment later)
        elif kind == "ping":
            await socket.send('{"type":"ping"}')
        elif kind in ("error", "reset", "history_truncated"):
            self.problems.append(str(frame))

    def _next_frame(self) -> dict[str, Any]:
        self.number += 1
        rooms = READS[self.who]
        room = rooms[self.number % len(rooms)]
        frame = {
            "type": "message",
            "room": room,
            "client_id": f"{self.who}-{self.number:06d}-{uuid.uuid4().hex[:6]}",
            "text": f"{self.who} 第{self.number}句",
        }
        if self.who != "mediator" and self.number % 5 == 0:
            frame["concession"] = True  # kept in the party's caucus
        return frame

    async def talk(self, stop: asyncio.Event, quiet: asyncio.Event) -> None:
        while not stop.is_set():
            socket = self.socket
            if socket is not None and self.live and not quiet.is_set():
                frame = self._next_frame()
                self.sent.add(frame["client_id"])
                self.unacked[frame["client_id"]] = frame
                with suppress(ConnectionClosed):
                    await socket.send(json.dumps(frame))
            await asyncio.sleep(SEND_EVERY)

    def bounce(self) -> None:
        """Lose the connection (a network blip): the client comes back on the next server."""
        if self.socket is not None:
            self.socket.transport.abort()

    async def resend(self) -> None:
        """What is still unacknowledged, again (after a `not_stored`, or at the end)."""
        socket = self.socket
        if socket is not None and self.live:
            for frame in list(self.unacked.values()):
                with suppress(ConnectionClosed):
                    await socket.send(json.dumps(frame))


# --- the test --------------------------------------------------------------------------------


@dataclass
class Faults:
    windows: list[tuple[str, float, float]] = field(default_factory=list)

    def since(self, stored: float, arrived: float) -> float:
        """Whence a message's delivery is timed: when it was stored, or the end of the last
        fault that came between its storing and its arrival (a fault may hold up what was
        stored before it; it must be caught up within the limit of the fault's end)."""
        ends = [end for _, start, end in self.windows if start <= arrived and end >= stored]
        return max([stored, *ends])


async def _queue_outgoing(n: int) -> None:
    """A notice and a court filing, as an action queues them (a row each, delivered by the
    jobs process)."""
    from cases.court.handoff import DESTINATION, FILINGS_PATH
    from cases.models import Notice, NoticeChannel, OutboxMessage

    now = datetime.now(UTC)
    await Notice.create(
        channel=NoticeChannel.EMAIL,
        recipient=f"party{n}@example.com",
        subject=f"chaos-notice-{n}",
        body="您的调解会议已安排。",
        next_attempt_at=now,
        created_at=now,
    )
    await OutboxMessage.create(
        msg_id=f"chaos-filing-{n}-{uuid.uuid4().hex[:8]}",
        destination=DESTINATION,
        path=FILINGS_PATH,
        content_type="application/json",
        body=json.dumps({"chaos": n}),
        next_attempt_at=now,
        created_at=now,
    )


async def _stored(session_id: int) -> list[tuple[str, int, str]]:
    from realtime.models import RoomMessage

    rows = await RoomMessage.filter(session_id=session_id).order_by("room", "seq")
    return [(r.room, int(r.seq), r.client_id) for r in rows]


async def _outgoing() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from cases.models import Notice, OutboxMessage

    notices = [(n.subject, str(n.status)) for n in await Notice.filter(subject__startswith="chaos")]
    filings = [(o.msg_id, str(o.status)) for o in await OutboxMessage.all()]
    return notices, filings


def test_a_live_session_survives_killed_servers_a_restarted_redis_and_a_cut_database(
    template_database: str, tmp_path: Path
) -> None:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    redis = Redis(tmp_path)
    with ExitStack() as stack:
        stack.callback(smtp.stop)
        database_url = stack.enter_context(fresh_database(template_database, tmp_path))
        settings = Settings(
            database_url=database_url,
            secret_key="live-server-secret-key-not-for-production",
            data_dir=tmp_path / "seed-data",
        )
        with cheap_hashing():
            world: LiveWorld = run_with_orm(database_url, lambda: build_live_world(settings))
        session_id = run_with_orm(
            database_url,
            lambda: new_session(
                world.case_id, world.room.user_ids["mediator"], timedelta(minutes=5)
            ),
        )
        pg = urlsplit(database_url)
        proxy = stack.enter_context(run_tcp_proxy(pg.hostname or "127.0.0.1", pg.port or 5432))
        desk: FakeDesk = stack.enter_context(run_fake_desk(FILING_SECRET))
        stack.callback(redis.stop)
        redis.start()
        env = {
            "DATABASE_URL": via_proxy(database_url, proxy),
            "REDIS_URL": redis.url,
            "ROOM_REDIS_PREFIX": f"chaos-{uuid.uuid4().hex[:8]}:session:",
            "MEDIATION_BACKGROUND_JOBS": "0",  # the jobs process does them
            "MEDIATION_DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "live-server-secret-key-not-for-production",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "COURT_DESK_URL": desk.base_url,
            "COURT_FILING_SECRET": FILING_SECRET,
            "COURT_RELAY_TIMEOUT": "2",
            "COURT_RELAY_LEASE_SECONDS": "5",
            "COURT_RELAY_RETRY_BASE_SECONDS": "0.5",
        }
        webs = [Web(env, tmp_path), Web(env, tmp_path)]
        stack.enter_context(running(*webs))
        stack.enter_context(jobs_process(env, tmp_path / "jobs.log"))
        bases = [web.base for web in webs]
        cookies = {who: session_cookie(bases[1], *CREDENTIALS[who]) for who in READS}
        people = [
            Participant("mediator", cookies["mediator"], bases, session_id, first=0),
            Participant("applicant", cookies["applicant"], bases, session_id, first=1),
            Participant("respondent", cookies["respondent"], bases, session_id, first=0),
        ]
        faults = Faults()
        queued = 0

        async def queue_outgoing() -> None:
            nonlocal queued
            queued += 1
            await _queue_outgoing(queued)

        async def scenario() -> None:
            from tests.support.rooms import orm

            async with orm(database_url):  # the test's own view: straight to PostgreSQL
                done, stop, quiet = asyncio.Event(), asyncio.Event(), asyncio.Event()
                tasks = [asyncio.create_task(p.run(done)) for p in people]
                tasks += [asyncio.create_task(p.talk(stop, quiet)) for p in people]
                await queue_outgoing()
                await asyncio.sleep(4)
                # 1. SIGKILL the first web server; its clients move to the other.
                start = time.time()
                await asyncio.to_thread(webs[0].kill)
                await queue_outgoing()
                await asyncio.sleep(2)
                await asyncio.to_thread(webs[0].start)
                faults.windows.append(("kill", start, time.time()))
                # Everyone is on the second server now: the respondent's network blips, and
                # it comes back on the first, so the session is on both servers again.
                await asyncio.sleep(1)
                people[2].bounce()
                await asyncio.sleep(3)
                assert people[2].socket is not None, "the respondent did not come back"
                # 2. Redis goes away and comes back (its pub/sub events meanwhile are lost).
                start = time.time()
                await asyncio.to_thread(redis.stop)
                await queue_outgoing()
                await asyncio.sleep(1)
                await asyncio.to_thread(redis.start)
                faults.windows.append(("redis", start, time.time()))
                # Nobody speaks for a while: what was stored while Redis was away (its events
                # lost) must reach the other server's participants without a next message.
                quiet.set()
                await asyncio.sleep(2.5)
                quiet.clear()
                await asyncio.sleep(3)
                # 3. The database is cut off from the servers and the jobs for 3 s.
                start = time.time()
                proxy.cut(DB_CUT_SECONDS)
                await queue_outgoing()
                await asyncio.sleep(DB_CUT_SECONDS)
                faults.windows.append(("database", start, time.time()))
                await asyncio.sleep(4)
                await queue_outgoing()
                # Quiet: stop talking, let what is unacknowledged through, compare.
                stop.set()
                deadline = time.monotonic() + 30
                while any(p.unacked for p in people) and time.monotonic() < deadline:
                    for person in people:
                        await person.resend()
                    await asyncio.sleep(1)
                stored = await _stored(session_id)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    if all(_view_matches(p, stored) for p in people):
                        break
                    await asyncio.sleep(0.2)
                deadline = time.monotonic() + 20
                while True:
                    notices, filings = await _outgoing()
                    if time.monotonic() > deadline or (
                        all(s == "sent" for _, s in notices)
                        and all(s == "delivered" for _, s in filings)
                    ):
                        break
                    await asyncio.sleep(0.3)
                done.set()
                for person in people:
                    if person.socket is not None:
                        await person.socket.close()
                await asyncio.gather(*tasks)
                return_values.update(stored=stored, notices=notices, filings=filings)
                return_values["received"] = await desk.received()
                return_values["posted"] = len(await desk.log())

        return_values: dict[str, Any] = {}
        asyncio.run(scenario())

    stored: list[tuple[str, int, str]] = return_values["stored"]
    sent = sum(len(p.sent) for p in people)
    acknowledged = sum(len(p.acked) for p in people)
    catch_up, worst = max(
        (
            arrival.arrived
            - max(
                faults.since(arrival.stored_at, arrival.arrived), _ready_before(p, arrival.arrived)
            ),
            f"{p.who} {room}#{seq}",
        )
        for p in people
        for room, seen in p.views.items()
        for seq, arrival in seen.items()
    )
    received_ids = [entry["msg_id"] for entry in return_values["received"]]
    ours = [subject for subject in mailbox.subjects if subject.startswith("chaos-")]
    print(
        f"\nchaos sent={sent} acknowledged={acknowledged} stored={len(stored)}"
        f" max_catch_up_s={catch_up:.2f}"
        f" reconnects={sum(p.reconnects for p in people)}"
        f" notices={len(ours)}/{queued} filings={len(set(received_ids))}/{queued}"
        f" filing_posts={return_values['posted']}"
        f" faults={','.join(f'{name}:{end - start:.1f}s' for name, start, end in faults.windows)}"
    )
    for person in people:
        assert person.problems == [], (person.who, person.problems[:5])
        assert person.unacked == {}, (person.who, list(person.unacked)[:5])
        assert set(person.acked) == person.sent, person.who
    # Every acknowledged message stored, once, where its ack said.
    by_id = {client_id: (room, seq) for room, seq, client_id in stored}
    assert len(by_id) == len(stored), "a message stored twice"
    for person in people:
        for client_id, place in person.acked.items():
            assert by_id.get(client_id) == place, (person.who, client_id)
    assert sent == acknowledged == len(stored)
    for person in people:
        assert _view_matches(person, stored), (person.who, _differences(person, stored))
    assert catch_up <= CATCH_UP_LIMIT, f"{worst} caught up only after {catch_up:.2f}s"
    # Every notice sent once, every filing received once.
    assert sorted(ours) == sorted(f"chaos-notice-{n}" for n in range(1, queued + 1))
    assert sorted(s for _, s in return_values["notices"]) == ["sent"] * queued
    assert sorted(s for _, s in return_values["filings"]) == ["delivered"] * queued
    assert sorted(received_ids) == sorted(msg_id for msg_id, _ in return_values["filings"])


def _ready_before(person: Participant, moment: float) -> float:
    return max([t for t in person.ready_at if t <= moment], default=0.0)


def _view_matches(person: Participant, stored: list[tuple[str, int, str]]) -> bool:
    """The participant holds exactly the stored messages of each room it reads (none of
    another's), under the stored numbers."""
    expected: dict[str, dict[int, str]] = {room: {} for room in READS[person.who]}
    for room, seq, client_id in stored:
        if room in expected:
            expected[room][seq] = client_id
    held = {
        room: {seq: a.client_id for seq, a in seen.items()} for room, seen in person.views.items()
    }
    return all(held.get(room, {}) == messages for room, messages in expected.items()) and set(
        held
    ) <= set(expected)


def _differences(person: Participant, stored: list[tuple[str, int, str]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for room in READS[person.who]:
        expected = {seq: cid for r, seq, cid in stored if r == room}
        held = {seq: a.client_id for seq, a in person.views.get(room, {}).items()}
        missing = sorted(set(expected) - set(held))
        wrong = sorted(seq for seq in held if expected.get(seq) != held[seq])
        if missing or wrong:
            found[room] = {
                "missing": missing[:10],
                "wrong": wrong[:10],
                "last": max(expected, default=0),
            }
    return found
