"""Baseline B of benchmarks/realtime.py: a broadcast room written directly on `websockets`.

The reference limit: the `websockets` library's own server and `websockets.broadcast()`,
which writes a frame to every connection without awaiting any of them. Same envelope, ack
and resume answers as the bare Starlette room; no storage, no authentication.

    python benchmarks/_bare_websockets.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response


@dataclass
class Room:
    seq: int = 0
    members: set[ServerConnection] = field(default_factory=set)


ROOMS: dict[str, Room] = {}


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/healthz":
        return connection.respond(HTTPStatus.OK, "ok\n")
    if not request.path.startswith("/ws/"):
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
    return None


async def handler(websocket: ServerConnection) -> None:
    assert websocket.request is not None
    name = websocket.request.path.split("?")[0][len("/ws/") :]
    room = ROOMS.setdefault(name, Room())
    room.members.add(websocket)
    try:
        async for raw in websocket:
            data = json.loads(raw)
            kind = data.get("type")
            if kind == "message":
                room.seq += 1
                client_id = data.get("client_id")
                await websocket.send(
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
                websockets.broadcast(room.members, frame)
            elif kind == "resume":
                await websocket.send(
                    json.dumps({"type": "welcome", "rooms": [{"room": "joint", "epoch": "bare"}]})
                )
                await websocket.send(
                    json.dumps({"type": "replayed", "room": "joint", "seq": room.seq})
                )
            elif kind == "ping":
                await websocket.send('{"type":"pong"}')
    except websockets.ConnectionClosed:
        pass
    finally:
        room.members.discard(websocket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=health, backlog=2048) as server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(int(sys.argv[1])))
    else:
        uvloop.run(main(int(sys.argv[1])))
