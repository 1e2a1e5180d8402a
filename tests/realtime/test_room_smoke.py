"""A real server, real WebSocket clients: the basic round trip works end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from mediation.settings import Settings
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    OUTSIDER,
    RESPONDENT,
    build_room_world,
    frames_until,
    join,
    session_cookie,
)


def test_message_is_acknowledged_after_storing_and_reaches_everyone(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        cookies = {
            "mediator": session_cookie(base, *MEDIATOR),
            "applicant": session_cookie(base, *APPLICANT),
            "respondent": session_cookie(base, *RESPONDENT),
            "outsider": session_cookie(base, *OUTSIDER),
        }

        async def scenario() -> None:
            mediator = await join(base, world.session_id, cookies["mediator"])
            applicant = await join(base, world.session_id, cookies["applicant"])
            respondent = await join(base, world.session_id, cookies["respondent"])
            for socket in (mediator, applicant, respondent):
                await frames_until(
                    socket, lambda f: f["type"] == "replayed" and f["room"] == "joint"
                )
            await applicant.send(
                json.dumps(
                    {"type": "message", "room": "joint", "client_id": "a-000000001", "text": "您好"}
                )
            )
            got = await frames_until(applicant, lambda f: f["type"] == "ack")
            assert got[-1]["seq"] == 1
            for socket in (mediator, respondent):
                frame = (await frames_until(socket, lambda f: f["type"] == "message"))[-1]
                assert frame["body"] == {"text": "您好"} and frame["seq"] == 1
            # The applicant's caucus is private to the applicant and the mediator.
            await applicant.send(
                json.dumps(
                    {
                        "type": "message",
                        "room": "caucus:applicant",
                        "client_id": "a-000000002",
                        "text": "底线是三千",
                    }
                )
            )
            private = (await frames_until(mediator, lambda f: f["type"] == "message"))[-1]
            assert private["room"] == "caucus:applicant"
            await respondent.send(
                json.dumps(
                    {
                        "type": "message",
                        "room": "caucus:applicant",
                        "client_id": "r-000000001",
                        "text": "x",
                    }
                )
            )
            error = (await frames_until(respondent, lambda f: f["type"] == "error"))[-1]
            assert error["code"] == "room_forbidden"
            outsider = await join(base, world.session_id, cookies["outsider"])
            await asyncio.wait_for(outsider.wait_closed(), 5)
            assert outsider.close_code == 4403
            for socket in (mediator, applicant, respondent):
                await socket.close()

        asyncio.run(scenario())

    async def stored() -> list[tuple[str, int, str]]:
        from realtime.models import RoomMessage

        return [
            (m.room, m.seq, m.body["text"])
            for m in await RoomMessage.filter(session_id=world.session_id).order_by("id")
        ]

    assert run_with_orm(database_url, stored) == [
        ("joint", 1, "您好"),
        ("caucus:applicant", 1, "底线是三千"),
    ]
