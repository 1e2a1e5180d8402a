"""The platform's own announcements (an agreement version): stored in the joint room's
sequence like any message, delivered live to whoever is connected, replayed to whoever comes
back, and never accepted from a client (see test_bad_frames for that refusal).

The announcing hub is the serving process's own, so the server runs in this test's event
loop here (the real server's app, on the world's database); the cross-process case is in
test_two_processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from mediation.app import create_app
from mediation.settings import Settings
from realtime.hub import Hub
from realtime.protocol import Kind
from tests.support.live_server import free_port
from tests.support.rooms import LiveRoom, enter, live_room, run_scenario, stored_rows

AGREEMENT = {"version": 1, "title": "调解协议（第一版）", "sha256": "ab" * 32}
NO_SENDER = {"id": None, "name": "", "side": None}


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    """The world and everyone's cookie (the subprocess server signs them in)."""
    with live_room(template_database, tmp_path_factory.mktemp("announce")) as room:
        yield room


@asynccontextmanager
async def served_here(live: LiveRoom, data_dir: Path) -> AsyncIterator[tuple[str, Hub]]:
    """The platform's app served by uvicorn in this loop, on the world's database and with
    the live server's secret (so its cookies hold); yields the base URL and its hub."""
    settings = Settings(
        database_url=live.database_url,
        secret_key="live-server-secret-key-not-for-production",
        data_dir=data_dir,
    )
    app: Starlette = create_app(settings, background_jobs=False)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # raises why it did not start
            raise AssertionError("the in-process server stopped before starting")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.hub
    finally:
        server.should_exit = True
        await serving


def _agreement(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["kind"] == Kind.AGREEMENT.value


def test_an_announcement_reaches_the_room_live_and_by_replay(
    live: LiveRoom, tmp_path: Path
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with served_here(live, tmp_path) as (base, hub):
            mediator = await enter(base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(base, session_id, live.cookies["respondent"], "respondent")
            first = await applicant.ack(await applicant.post("我同意这个方案"))
            assert first["seq"] == 1
            await respondent.wait_seq(1)
            position = {room: dict(p) for room, p in respondent.positions.items()}
            await respondent.drop()

            stored = await hub.announce(session_id, Kind.AGREEMENT, AGREEMENT)
            assert (stored.room, stored.seq, stored.kind) == ("joint", 2, "agreement")
            assert (stored.sender_id, stored.sender_name, stored.sender_side) == (None, "", None)
            # Connected participants get it live, in the room's one sequence.
            for client in (mediator, applicant):
                frame = await client.wait(_agreement)
                assert frame["seq"] == 2
                assert frame["sender"] == NO_SENDER
                assert frame["body"] == AGREEMENT
                assert frame["client_id"] == stored.client_id
                assert not frame["concession"]
                assert client.seqs() == [1, 2]
            # What is said next follows it with no gap.
            after = await mediator.ack(await mediator.post("请双方阅读协议"))
            assert after["seq"] == 3
            await applicant.wait_seq(3)
            assert applicant.seqs() == [1, 2, 3]

            # The one who dropped gets it by replay, and a fresh page load too.
            back = await enter(base, session_id, live.cookies["respondent"], "back", position)
            await back.wait_seq(3)
            assert back.seqs() == [2, 3]
            assert next(f for f in back.frames if _agreement(f))["body"] == AGREEMENT
            fresh = await enter(base, session_id, live.cookies["applicant"], "fresh")
            await fresh.wait_seq(3)
            assert fresh.seqs() == [1, 2, 3]

            rows = await stored_rows(session_id)
            assert [(r.room, r.seq, r.kind, r.sender_id, r.sender_name) for r in rows] == [
                ("joint", 1, "message", live.world.room.user_ids["applicant"], "张三"),
                (
                    "joint",
                    2,
                    "agreement",
                    None,
                    "",
                ),
                ("joint", 3, "message", live.world.room.user_ids["mediator"], "调解员 王"),
            ]
            assert rows[1].body == AGREEMENT
            for client in (mediator, applicant, back, fresh):
                await client.close()

    run_scenario(scenario)


def test_an_announcement_to_a_session_nobody_has_joined_is_replayed_on_arrival(
    live: LiveRoom, tmp_path: Path
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with served_here(live, tmp_path) as (base, hub):
            one = await hub.announce(session_id, Kind.AGREEMENT, AGREEMENT)
            two = await hub.announce(session_id, Kind.AGREEMENT, {**AGREEMENT, "version": 2})
            assert (one.seq, two.seq) == (1, 2)
            assert one.client_id != two.client_id
            applicant = await enter(base, session_id, live.cookies["applicant"], "applicant")
            await applicant.wait_seq(2)
            versions = [f["body"]["version"] for f in applicant.messages()]
            assert versions == [1, 2]
            said = await applicant.ack(await applicant.post("收到"))
            assert said["seq"] == 3
            await applicant.close()

    run_scenario(scenario)
