"""A case in mediation with a session open now, and signed-in WebSocket clients for it."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mediation.settings import Settings
from realtime.protocol import JOINT
from tests.support.factories import STAFF_PASSWORD

APPLICANT = ("13812345678", "applicant pass 1")
RESPONDENT = ("13900001111", "respondent pass 1")
MEDIATOR = ("room_mediator", STAFF_PASSWORD)
OUTSIDER = ("13700002222", "outsider pass 1")


@dataclass(frozen=True)
class RoomWorld:
    session_id: int
    case_number: str
    user_ids: dict[str, int]


async def build_room_world(
    settings: Settings, starts_in: timedelta = timedelta(minutes=5)
) -> RoomWorld:
    from cases.accounts.actions import do_create_staff, do_register_disputant
    from cases.accounts.models import Organisation, Role, Track
    from cases.actions import Filer
    from cases.intake import file_dispute
    from cases.models import Case, Invitation
    from cases.routing.assignment import do_respondent_consents
    from cases.sessions.models import MediationSession
    from cases.status import Status
    from tests.support.factories import filing_fields

    now = datetime.now(UTC)
    org = await Organisation.create(
        code="ROOMORG",
        name="调解组织",
        name_en="Org",
        track=Track.PEOPLES,
        categories=["tour_refund"],
        service_areas=["长宁区"],
    )
    mediator = await do_create_staff(
        username=MEDIATOR[0],
        password=MEDIATOR[1],
        role=Role.MEDIATOR,
        display_name="调解员 王",
        organisation_id=org.id,
    )
    applicant = await do_register_disputant(
        identifier=APPLICANT[0], password=APPLICANT[1], display_name="张三"
    )
    respondent = await do_register_disputant(
        identifier=RESPONDENT[0], password=RESPONDENT[1], display_name="某旅行社"
    )
    outsider = await do_register_disputant(
        identifier=OUTSIDER[0], password=OUTSIDER[1], display_name="李四"
    )
    case = await file_dispute(settings, filing_fields(), [], Filer(user_id=applicant.id), now)
    invitation = await Invitation.get(case=case)
    await do_respondent_consents(invitation, respondent.id, now)
    # Straight to mediation: how the mediator got here is the routing tests' business.
    await Case.filter(id=case.id).update(
        status=Status.IN_MEDIATION, mediator_id=mediator.id, organisation_id=org.id
    )
    session = await MediationSession.create(
        case_id=case.id, starts_at=now + starts_in, scheduled_by=mediator, created_at=now
    )
    return RoomWorld(
        session.id,
        case.number,
        {
            "applicant": applicant.id,
            "respondent": respondent.id,
            "mediator": mediator.id,
            "outsider": outsider.id,
        },
    )


def session_cookie(base_url: str, identifier: str, password: str) -> str:
    """Sign in over HTTP and return the session cookie header value."""
    with httpx.Client(base_url=base_url) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        answer = http.post(
            "/signin",
            data={"csrf_token": token.group(1), "identifier": identifier, "password": password},
        )
        assert answer.status_code in (200, 303), answer.text[:500]
        value = http.cookies.get("mediation_session")
        assert value, "not signed in"
        return f"mediation_session={value}"


def ws_url(base_url: str, session_id: int) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/sessions/{session_id}"


async def join(
    base_url: str, session_id: int, cookie: str, rooms: dict[str, Any] | None = None
) -> ClientConnection:
    socket = await connect(ws_url(base_url, session_id), additional_headers={"Cookie": cookie})
    # A refused client is closed right after the handshake, maybe before this resume goes
    # out: the caller then finds the close code on the socket.
    with suppress(ConnectionClosed):
        await socket.send(json.dumps({"type": "resume", "rooms": rooms or {}}))
    return socket


async def frames_until(
    socket: ClientConnection, predicate: Any, limit: int = 200
) -> list[dict[str, Any]]:
    """Read frames (skipping pings) until one satisfies `predicate`; returns all read."""
    seen = []
    for _ in range(limit):
        frame = json.loads(await socket.recv())
        if frame.get("type") == "ping":
            continue
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame in {seen[-5:]}")


# --- Live-session guarantee tests (tests/realtime/test_*.py): one server per module. ---------

OTHER_MEDIATOR = ("other_mediator", STAFF_PASSWORD)
CREDENTIALS = {
    "mediator": MEDIATOR,
    "applicant": APPLICANT,
    "respondent": RESPONDENT,
    "outsider": OUTSIDER,
    "other_mediator": OTHER_MEDIATOR,
}
ANSWERED = {"mediator", "applicant", "respondent"}


@dataclass(frozen=True)
class LiveWorld:
    """The room world plus what the guarantee tests need around it."""

    room: RoomWorld
    case_id: int
    evidence_id: int  # on this case
    evidence_sha256: str
    foreign_evidence_id: int  # on another case (mediated by OTHER_MEDIATOR)


async def build_live_world(settings: Settings) -> LiveWorld:
    import hashlib

    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import Organisation, Role
    from cases.actions import Filer
    from cases.intake import file_dispute
    from cases.models import Case, Evidence, Side
    from cases.status import Status
    from tests.support.factories import filing_fields, party_ids

    room = await build_room_world(settings)
    now = datetime.now(UTC)
    case = await Case.get(number=room.case_number)
    org = await Organisation.get(code="ROOMORG")
    other = await do_create_staff(
        username=OTHER_MEDIATOR[0],
        password=OTHER_MEDIATOR[1],
        role=Role.MEDIATOR,
        display_name="调解员 赵",
        organisation_id=org.id,
    )
    other_case = await file_dispute(
        settings, filing_fields(**party_ids(2)), [], Filer(user_id=None), now
    )
    await Case.filter(id=other_case.id).update(
        status=Status.IN_MEDIATION, mediator_id=other.id, organisation_id=org.id
    )
    content = b"%PDF-1.4 tour contract"
    digest = hashlib.sha256(content).hexdigest()
    evidence = await Evidence.create(
        case=case,
        side=Side.APPLICANT,
        uploaded_by_id=room.user_ids["applicant"],
        filename="旅游合同.pdf",
        media_type="application/pdf",
        size=len(content),
        sha256=digest,
        created_at=now,
    )
    foreign = await Evidence.create(
        case=other_case,
        side=Side.APPLICANT,
        filename="other.pdf",
        media_type="application/pdf",
        size=3,
        sha256=hashlib.sha256(b"abc").hexdigest(),
        created_at=now,
    )
    return LiveWorld(room, case.id, evidence.id, digest, foreign.id)


async def new_session(case_id: int, mediator_id: int, starts_in: timedelta) -> int:
    from cases.sessions.models import MediationSession

    now = datetime.now(UTC)
    session = await MediationSession.create(
        case_id=case_id, starts_at=now + starts_in, scheduled_by_id=mediator_id, created_at=now
    )
    return int(session.id)


@contextmanager
def cheap_hashing() -> Iterator[None]:
    """Seed users with cheap Argon2 hashes: the hash carries its parameters, so the server
    then also verifies them cheaply when they sign in."""
    import pytest

    from tests.support.factories import cheap_password_hashing

    with pytest.MonkeyPatch.context() as patch:
        cheap_password_hashing(patch)
        yield


@contextmanager
def fresh_database(template_database: str, scratch: Path) -> Iterator[str]:
    """A migrated database of its own (as the `database_url` fixture makes, for wider scopes)."""
    import asyncio
    import os
    import shutil
    import uuid

    from tests.support.databases import PostgresAdmin, is_postgres

    base = os.environ.get("DATABASE_URL", "")
    if is_postgres(base):
        admin = PostgresAdmin(base)
        name = f"mediation_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin.create(name, template=template_database))
        try:
            yield admin.url_for(name)
        finally:
            asyncio.run(admin.drop(name))
    else:
        path = scratch / f"live-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(template_database, path)
        yield f"sqlite://{path}"


@dataclass
class LiveRoom:
    """Server process(es) on one database, the world in it, and each user's session cookie."""

    bases: list[str]
    database_url: str
    world: LiveWorld
    cookies: dict[str, str]

    @property
    def base(self) -> str:
        return self.bases[0]

    def new_session(self, starts_in: timedelta = timedelta(minutes=5)) -> int:
        """A fresh session of the same case: tests sharing a server stay apart by session."""
        from tests.support.live_server import run_with_orm

        world = self.world
        return run_with_orm(
            self.database_url,
            lambda: new_session(world.case_id, world.room.user_ids["mediator"], starts_in),
        )


@contextmanager
def live_room(
    template_database: str,
    scratch: Path,
    env: dict[str, str] | None = None,
    processes: int = 1,
) -> Iterator[LiveRoom]:
    """A fresh database with the world in it, served by `processes` server processes (all
    with `env` added to their environment), and everyone signed in. With REDIS_URL set (in
    `env` or inherited), the Redis channels are this call's own: session ids repeat from
    one test database to the next, and other runs may share the Redis."""
    import uuid
    from contextlib import ExitStack

    from tests.support.live_server import run_server, run_with_orm

    env = {"ROOM_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:12]}:session:", **(env or {})}

    with fresh_database(template_database, scratch) as url:
        settings = Settings(
            database_url=url,
            secret_key="live-server-secret-key-not-for-production",
            data_dir=scratch / "seed-data",
        )
        with cheap_hashing():
            world = run_with_orm(url, lambda: build_live_world(settings))
        with ExitStack() as stack:
            bases = [
                stack.enter_context(run_server({"DATABASE_URL": url, **env}))
                for _ in range(processes)
            ]
            cookies = {who: session_cookie(bases[0], *creds) for who, creds in CREDENTIALS.items()}
            yield LiveRoom(bases, url, world, cookies)


@asynccontextmanager
async def orm(database_url: str) -> AsyncIterator[None]:
    """Tortoise in the running loop (the test process's own view of the database)."""
    from tortoise import Tortoise

    from mediation.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


_ids = itertools.count(1)


def new_client_id(prefix: str = "c") -> str:
    return f"{prefix}-{next(_ids):08d}-{uuid4().hex[:8]}"


_OPEN: set[RoomClient] = set()


def _brief(frames: list[dict[str, Any]]) -> str:
    return "; ".join(str(frame)[:300] for frame in frames[-3:])


def run_scenario(scenario: Callable[[], Awaitable[None]]) -> None:
    """asyncio.run(scenario()), closing every RoomClient it left open (even on failure)."""

    async def main() -> None:
        try:
            await scenario()
        finally:
            for client in list(_OPEN):
                await client.close()
                if not client.socket.transport.is_closing():
                    client.socket.transport.abort()

    asyncio.run(main())


class RoomClient:
    """A participant's socket with a background reader that keeps every frame (server pings
    are answered like room.js does, and not kept)."""

    def __init__(self, socket: ClientConnection, name: str, *, answer_pings: bool = True) -> None:
        self.socket = socket
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self.positions: dict[str, dict[str, Any]] = {}
        self.answer_pings = answer_pings
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read(), name=f"reader-{name}")
        _OPEN.add(self)

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                if frame.get("type") == "ping":
                    if self.answer_pings:
                        with suppress(ConnectionClosed):
                            await self.socket.send('{"type":"ping"}')
                    continue
                self._track(frame)
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            async with self._changed:
                self._changed.notify_all()

    def _track(self, frame: dict[str, Any]) -> None:
        kind, room = frame.get("type"), frame.get("room")
        if kind == "welcome":
            for entry in frame["rooms"]:
                self.positions.setdefault(entry["room"], {"epoch": entry["epoch"], "seq": 0})
        elif kind in ("message", "replayed") and room in self.positions:
            position = self.positions[room]
            position["seq"] = max(position["seq"], int(frame["seq"]))

    @property
    def is_closed(self) -> bool:
        return self._reader.done()

    @property
    def close_code(self) -> int | None:
        return self.socket.close_code

    def messages(self, room: str = JOINT) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "message" and f["room"] == room]

    def seqs(self, room: str = JOINT) -> list[int]:
        return [int(f["seq"]) for f in self.messages(room)]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    async def wait(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 10.0, since: int = 0
    ) -> dict[str, Any]:
        """The first frame at index >= `since` satisfying `predicate` (waiting for it)."""

        async def scan() -> dict[str, Any]:
            index = since
            async with self._changed:
                while True:
                    for frame in self.frames[index:]:
                        if predicate(frame):
                            return frame
                    index = max(index, len(self.frames))
                    if self.is_closed:
                        raise AssertionError(
                            f"{self.name}: closed ({self.close_code}) before the frame came; "
                            f"last frames {_brief(self.frames)}"
                        )
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), within)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no matching frame in {within}s; last frames {_brief(self.frames)}"
            ) from None

    async def ready(self, within: float = 10.0, since: int = 0) -> dict[str, Any]:
        """Wait for the welcome and the end of the replay of every room; returns the welcome."""
        welcome = await self.wait(lambda f: f["type"] == "welcome", within, since)
        start = self.frames.index(welcome)
        for room in [entry["room"] for entry in welcome["rooms"]]:

            def replayed(frame: dict[str, Any], room: str = room) -> bool:
                return bool(frame["type"] == "replayed" and frame["room"] == room)

            await self.wait(replayed, within, start)
        return welcome

    async def wait_seq(self, seq: int, room: str = JOINT, within: float = 10.0) -> None:
        await self.wait(
            lambda f: f["type"] == "message" and f["room"] == room and f["seq"] >= seq, within
        )

    async def delivered(self, client_id: str, within: float = 10.0) -> dict[str, Any]:
        """The message frame of `client_id` (its sender's ack is another frame)."""
        return await self.wait(
            lambda f: f["type"] == "message" and f["client_id"] == client_id, within
        )

    async def send(self, frame: dict[str, Any] | str) -> None:
        # Like JSON.stringify in a browser: UTF-8, no \u escapes.
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        await self.socket.send(text)

    async def post(
        self,
        text: str,
        room: str = JOINT,
        *,
        kind: str = "message",
        client_id: str | None = None,
        **fields: Any,
    ) -> str:
        client_id = client_id or new_client_id(self.name)
        frame = {"type": kind, "room": room, "client_id": client_id, **fields}
        if kind in ("message", "note") or text:
            frame["text"] = text
        await self.send(frame)
        return client_id

    async def control(self, action: str, **fields: Any) -> str:
        client_id = new_client_id(self.name)
        await self.send({"type": "control", "client_id": client_id, "action": action, **fields})
        return client_id

    async def ack(self, client_id: str, within: float = 10.0) -> dict[str, Any]:
        """The ack of `client_id` (an error frame about it fails the test)."""
        frame = await self.wait(
            lambda f: (
                (f["type"] == "ack" and f.get("client_id") == client_id)
                or (f["type"] == "error" and f.get("ref") == client_id)
            ),
            within,
        )
        assert frame["type"] == "ack", f"{self.name}: {frame}"
        return frame

    async def error(self, ref: str | None = None, within: float = 10.0, since: int = 0) -> str:
        frame = await self.wait(
            lambda f: f["type"] == "error" and (ref is None or f.get("ref") == ref),
            within,
            since,
        )
        return str(frame["code"])

    async def closed(self, within: float = 10.0) -> int | None:
        """Wait until the server closes the socket; returns the close code."""
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), within)
        except TimeoutError:
            raise AssertionError(f"{self.name}: still open after {within}s") from None
        return self.close_code

    async def drop(self) -> None:
        """Vanish without a closing handshake (a dead network, a closed laptop)."""
        _OPEN.discard(self)
        transport = self.socket.transport
        transport.abort()
        with suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._reader), 5)

    async def close(self) -> None:
        _OPEN.discard(self)
        with suppress(Exception):
            await asyncio.wait_for(self.socket.close(), 5)
        with suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._reader), 5)


async def enter(
    base_url: str,
    session_id: int,
    cookie: str,
    name: str,
    rooms: dict[str, Any] | None = None,
    *,
    ready: bool = True,
) -> RoomClient:
    """Connect, resume from `rooms` (room -> {epoch, seq}), and wait for the replay to end."""
    socket = await connect(ws_url(base_url, session_id), additional_headers={"Cookie": cookie})
    client = RoomClient(socket, name)
    await client.send({"type": "resume", "rooms": rooms or {}})
    if ready:
        await client.ready()
    return client


async def refused(base_url: str, session_id: int, cookie: str | None) -> int | None:
    """Try to join; returns the close code the server answers with (fails if admitted)."""
    headers = {"Cookie": cookie} if cookie else {}
    socket = await connect(ws_url(base_url, session_id), additional_headers=headers)
    with suppress(ConnectionClosed):
        await socket.send(json.dumps({"type": "resume", "rooms": {}}))
    try:
        async with asyncio.timeout(10):
            async for raw in socket:
                frame = json.loads(raw)
                assert frame.get("type") not in ("welcome", "message"), f"admitted: {frame}"
    except ConnectionClosed:
        pass
    return socket.close_code


async def stored_rows(session_id: int, room: str | None = None) -> list[Any]:
    from realtime.models import RoomMessage

    query = RoomMessage.filter(session_id=session_id)
    if room is not None:
        query = query.filter(room=room)
    return list(await query.order_by("room", "seq"))
