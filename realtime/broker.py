"""Fan-out between server processes: in-process by default, Redis pub/sub when configured.

The broker carries stored messages (already committed, so a receiver that misses one can
always fetch it from the database by sequence) and ephemeral events (presence, typing),
which are allowed to be lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger("realtime.broker")

Handler = Callable[[int, dict[str, Any]], Awaitable[None]]

# Channel names are "<prefix><session id>". ROOM_REDIS_PREFIX keeps deployments (or test runs)
# that share one Redis apart: session ids are only unique within one database.
CHANNEL_PREFIX = os.environ.get("ROOM_REDIS_PREFIX", "mediation:session:")


class Broker(Protocol):
    # Whether other processes listen too (if not, a process's own stored messages need not
    # go through the broker at all: the hub hands them to its rooms directly).
    shared: bool

    async def start(self, handler: Handler) -> None: ...
    async def stop(self) -> None: ...
    async def subscribe(self, session_id: int) -> None: ...
    async def unsubscribe(self, session_id: int) -> None: ...
    async def publish(self, session_id: int, event: dict[str, Any]) -> None: ...


class LocalBroker:
    """One process: publishing is calling the handler."""

    shared = False

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def stop(self) -> None:
        self._handler = None

    async def subscribe(self, session_id: int) -> None:
        return None

    async def unsubscribe(self, session_id: int) -> None:
        return None

    async def publish(self, session_id: int, event: dict[str, Any]) -> None:
        if self._handler is not None:
            await self._handler(session_id, event)


class RedisBroker:
    """Several processes: one Redis channel per session, subscribed while this process has
    a participant of that session connected."""

    shared = True

    def __init__(self, url: str, prefix: str = CHANNEL_PREFIX) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._prefix = prefix
        self._handler: Handler | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed: set[int] = set()

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        # A placeholder subscription lets the reader start before any session is joined.
        await self._pubsub.subscribe(f"{self._prefix}keepalive")
        self._reader = asyncio.create_task(self._read(), name="redis-broker")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def subscribe(self, session_id: int) -> None:
        if session_id not in self._subscribed:
            self._subscribed.add(session_id)
            await self._pubsub.subscribe(f"{self._prefix}{session_id}")

    async def unsubscribe(self, session_id: int) -> None:
        if session_id in self._subscribed:
            self._subscribed.discard(session_id)
            await self._pubsub.unsubscribe(f"{self._prefix}{session_id}")

    async def publish(self, session_id: int, event: dict[str, Any]) -> None:
        await self._redis.publish(
            f"{self._prefix}{session_id}", json.dumps(event, ensure_ascii=False)
        )

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: redis-py reconnects on the next call
                log.exception("reading from Redis failed")
                await asyncio.sleep(0.5)
                continue
            if message is None or self._handler is None:
                continue
            channel = message["channel"].decode()
            session_id = int(channel.rsplit(":", 1)[1]) if channel[-1].isdigit() else None
            if session_id is None:
                continue
            try:
                await self._handler(session_id, json.loads(message["data"]))
            except Exception:
                log.exception("handling a broker event failed")


def broker_for(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()
