"""Baseline A of benchmarks/realtime.py: a bare broadcast room on Starlette's WebSocket.

Served by the same uvicorn command line as the platform. No storage, no authentication, no
per-connection queue: each text frame received on /ws/{room} gets a room sequence number and
is sent, in the platform's message envelope, to every connection of the room (the sender
too), after an ack to the sender. It answers the client's resume with a welcome and a
`replayed` marker, as the platform does, so the load generator treats both alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class Room:
    seq: int = 0
    members: set[WebSocket] = field(default_factory=set)


ROOMS: dict[str, Room] = {}


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def room_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    name = websocket.path_params["room"]
    room = ROOMS.setdefault(name, Room())
    room.members.add(websocket)
    try:
        while True:
            data = json.loads(await websocket.receive_text())
            kind = data.get("type")
            if kind == "message":
                room.seq += 1
                client_id = data.get("client_id")
                await websocket.send_text(
                    json.dumps(
                        {"type": "ack", "client_id": client_id, "room": "joint", "seq": room.seq}
                    )
                )
                frame = json.dumps(
                    {
                        "type": "message",
                        "room": "joint",
                        "seq": room.seq,
                        "kind": "message",
                        "sender": {"id": 0, "name": "bench", "side": None},
                        "body": {"text": data.get("text", "")},
                        "concession": False,
                        "client_id": client_id,
                        "at": datetime.now(UTC).isoformat(),
                    },
                    ensure_ascii=False,
                )
                for member in list(room.members):
                    try:
                        await member.send_text(frame)
                    except Exception:
                        room.members.discard(member)
            elif kind == "resume":
                await websocket.send_text(
                    json.dumps({"type": "welcome", "rooms": [{"room": "joint", "epoch": "bare"}]})
                )
                await websocket.send_text(
                    json.dumps({"type": "replayed", "room": "joint", "seq": room.seq})
                )
            elif kind == "ping":
                await websocket.send_text('{"type":"pong"}')
    except WebSocketDisconnect:
        pass
    finally:
        room.members.discard(websocket)


app = Starlette(routes=[Route("/healthz", healthz), WebSocketRoute("/ws/{room}", room_socket)])
