"""The WebSocket endpoint of a live session, served by the same ASGI app as the pages.

The web shell supplies `authenticate` (who is this, and are they a participant of that
session?) and `enrich` (checks that need the case, such as evidence shown in the room).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime.hub import Connection, Hub
from realtime.models import RoomMessage
from realtime.protocol import (
    JOINT,
    ControlRequest,
    FrameError,
    Kind,
    Participant,
    Ping,
    Post,
    Resume,
    Typing,
    may_see,
    parse_frame,
)

log = logging.getLogger("realtime.endpoint")

Authenticate = Callable[[WebSocket], Awaitable[tuple[int, Participant] | int]]
Enrich = Callable[[int, Participant, Post], Awaitable[Post]]
OnControl = Callable[[int, str], Awaitable[None]]

# The heartbeat and the idle timeout are the hub's (one timer for every connection).
RESUME_WAIT_SECONDS = 10.0


async def _no_enrich(session_id: int, participant: Participant, post: Post) -> Post:
    return post


async def _no_control(session_id: int, action: str) -> None:
    return None


def room_endpoint(
    hub_of: Callable[[WebSocket], Hub],
    authenticate: Authenticate,
    enrich: Enrich = _no_enrich,
    on_control: OnControl = _no_control,
) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        identity = await authenticate(websocket)
        await websocket.accept()
        if isinstance(identity, int):
            await websocket.close(code=identity)
            return
        session_id, participant = identity
        hub = hub_of(websocket)
        connection = Connection(
            session_id=session_id,
            participant=participant,
            send=websocket.send_text,
            close=lambda code: _close(websocket, code),
        )
        try:
            try:
                async with asyncio.timeout(RESUME_WAIT_SECONDS):
                    first: str | bytes | None = await _receive(websocket)
            except TimeoutError:
                first = None
            positions: dict[str, tuple[str, int]] = {}
            pending_first: str | bytes | None = first
            if first is not None:
                try:
                    frame = parse_frame(first, participant)
                except FrameError:
                    frame = None
                if isinstance(frame, Resume):
                    positions, pending_first = frame.positions, None
            await hub.join(connection, positions)
            if connection.closed:
                return
            if pending_first is not None:
                await _handle(hub, connection, pending_first, enrich, on_control)
            while not connection.closed:
                # No timeout per frame: the hub's heartbeat closes a connection gone quiet.
                raw = await _receive(websocket)
                connection.last_seen = time.monotonic()
                await _handle(hub, connection, raw, enrich, on_control)
        except WebSocketDisconnect:
            pass
        finally:
            # Like Starlette's WebSocketEndpoint: leaving always runs, however we got here.
            await hub.leave(connection)
            await connection.stop()

    return endpoint


async def _receive(websocket: WebSocket) -> str | bytes:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is not None:
        return str(text)
    return bytes(message.get("bytes") or b"")


async def _close(websocket: WebSocket, code: int) -> None:
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=code)


def _error(connection: Connection, code: str, ref: str | None = None) -> None:
    connection.offer(json.dumps({"type": "error", "code": code, "ref": ref}))


async def _handle(
    hub: Hub, connection: Connection, raw: str | bytes, enrich: Enrich, on_control: OnControl
) -> None:
    participant = connection.participant
    try:
        frame = parse_frame(raw, participant)
    except FrameError as error:
        _error(connection, error.code, error.ref)
        return
    if isinstance(frame, Ping):
        connection.offer('{"type":"pong"}')
    elif isinstance(frame, Resume):
        _error(connection, "already_resumed")
    elif isinstance(frame, Typing):
        await hub.ephemeral(connection, {"type": "typing", "room": frame.room})
    elif isinstance(frame, ControlRequest):
        body = {"action": frame.action.value, "side": frame.side, "user_id": frame.user_id}
        post = Post(room=JOINT, client_id=frame.client_id, kind=Kind.CONTROL, body=body)
        if await _store(hub, connection, post):
            await on_control(connection.session_id, frame.action.value)
    else:
        if problem := hub.may_post(connection):
            _error(connection, problem, frame.client_id)
            return
        try:
            if frame.kind is Kind.OFFER_RESPONSE:
                await _check_offer(connection.session_id, participant, frame)
            frame = await enrich(connection.session_id, participant, frame)
        except FrameError as error:
            _error(connection, error.code, frame.client_id)
            return
        await _store(hub, connection, frame)


async def _store(hub: Hub, connection: Connection, post: Post) -> bool:
    try:
        stored = await hub.post(connection, post)
    except Exception:
        log.exception("a room message could not be stored")
        _error(connection, "not_stored", post.client_id)  # no ack: the client resends
        return False
    connection.offer(
        json.dumps(
            {"type": "ack", "client_id": post.client_id, "room": stored.room, "seq": stored.seq}
        )
    )
    return True


async def _check_offer(session_id: int, participant: Participant, post: Post) -> None:
    """An answer must refer to an offer, or to a counter-offer, in the same room, that the
    answering participant may see (not another party's concession: the same error as for
    no offer at all, so that it does not tell what the hidden message is)."""
    target = await RoomMessage.get_or_none(
        session_id=session_id, room=post.room, seq=post.body["offer_seq"]
    )
    is_offer = (
        target is not None
        and may_see(participant, target.room, target.concession, target.sender_side)
        and (
            target.kind == Kind.OFFER.value
            or (
                target.kind == Kind.OFFER_RESPONSE.value
                and target.body.get("response") == "counter"
            )
        )
    )
    if not is_offer:
        raise FrameError("bad_offer_reference", post.client_id)
