"""Storing room messages with group commit.

Messages from every room served by this process go through one writer. It takes what has
queued up (up to `max_batch`), and in one transaction advances each room's `last_seq` under
its row lock, inserts the rows, and commits; only then are senders acknowledged and the
messages published. One commit per batch instead of per message is what lets a single
process persist thousands of messages a second; the row lock keeps every room's sequence
gap-free even when several processes write to the same room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Case, F, When
from tortoise.transactions import in_transaction

from realtime.models import RoomMessage, RoomState
from realtime.protocol import ROOMS, Participant, Post, may_see

log = logging.getLogger("realtime.store")


@dataclass(frozen=True)
class Stored:
    """A message as stored and delivered."""

    session_id: int
    room: str
    seq: int
    sender_id: int | None
    sender_name: str
    sender_side: str | None
    kind: str
    body: dict[str, Any]
    concession: bool
    client_id: str
    at: str

    def visible_to(self, participant: Participant) -> bool:
        return may_see(participant, self.room, self.concession, self.sender_side)

    def frame(self) -> dict[str, Any]:
        return {
            "type": "message",
            "room": self.room,
            "seq": self.seq,
            "kind": self.kind,
            "sender": {"id": self.sender_id, "name": self.sender_name, "side": self.sender_side},
            "body": self.body,
            "concession": self.concession,
            "client_id": self.client_id,
            "at": self.at,
        }

    @classmethod
    def of(cls, row: RoomMessage) -> Stored:
        return cls(
            session_id=row.session_id,
            room=row.room,
            seq=row.seq,
            sender_id=row.sender_id,
            sender_name=row.sender_name,
            sender_side=row.sender_side,
            kind=row.kind,
            body=row.body,
            concession=row.concession,
            client_id=row.client_id,
            at=row.created_at.isoformat(),
        )


async def ensure_rooms(session_id: int) -> dict[str, tuple[str, int]]:
    """Create the session's rooms if needed; returns room -> (epoch, last_seq)."""
    await RoomState.bulk_create(
        [
            RoomState(session_id=session_id, room=room, epoch=secrets.token_hex(4), last_seq=0)
            for room in ROOMS
        ],
        ignore_conflicts=True,
    )
    rows = await RoomState.filter(session_id=session_id).values_list("room", "epoch", "last_seq")
    return {room: (epoch, int(last)) for room, epoch, last in rows}


async def last_seq(session_id: int, room: str) -> int:
    """The room's last stored sequence (committed messages only)."""
    state = await RoomState.get_or_none(session_id=session_id, room=room)
    return int(state.last_seq) if state else 0


async def messages_after(session_id: int, room: str, after: int, limit: int) -> list[Stored]:
    rows = (
        await RoomMessage.filter(session_id=session_id, room=room, seq__gt=after)
        .order_by("seq")
        .limit(limit)
    )
    return [Stored.of(r) for r in rows]


@dataclass
class _Pending:
    session_id: int
    sender: Participant | None  # None: the platform itself (an announcement)
    post: Post
    done: asyncio.Future[Stored]

    @property
    def key(self) -> tuple[int, int, str]:
        """What makes a resend the same message (as `_already_stored` reads it back)."""
        return (self.session_id, self.sender.user_id if self.sender else 0, self.post.client_id)


Publish = Callable[[int, str, list[Stored]], Awaitable[None]]


class Writer:
    """The process's single writer of room messages (see the module docstring)."""

    def __init__(self, publish: Publish, max_batch: int = 256) -> None:
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._publish = publish
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="room-writer")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish what was queued before (store, acknowledge and publish it), then stop: a
        message acknowledged just before a shutdown still reaches the other processes."""
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():  # too late: not stored, so not acknowledged
            if (left := self._queue.get_nowait()) is not None and not left.done.done():
                left.done.set_exception(RuntimeError("the room writer has stopped"))

    async def append(self, session_id: int, sender: Participant | None, post: Post) -> Stored:
        """Store a message; returns once it is committed (the moment to acknowledge it)."""
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(session_id, sender, post, done))
        return await done

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch, stopping = [first], False
            while len(batch) < self._max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            try:
                stored = await self._commit(batch)
            except Exception as error:  # the senders are told; nothing was acknowledged
                log.exception("storing %d room messages failed", len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(error)
                if stopping:
                    return
                continue
            for item, message in zip(batch, stored, strict=True):
                if not item.done.done():
                    item.done.set_result(message)
            by_room: dict[tuple[int, str], list[Stored]] = defaultdict(list)
            for message in stored:
                by_room[(message.session_id, message.room)].append(message)
            for (session_id, room), messages in by_room.items():
                unique = {m.seq: m for m in messages}  # a resend maps to its first seq
                try:
                    await self._publish(session_id, room, sorted(unique.values(), key=_seq))
                except Exception:  # receivers recover from the database on the next one
                    log.exception("publishing to %s/%s failed", session_id, room)
            if stopping:
                return

    async def _commit(self, batch: Sequence[_Pending]) -> list[Stored]:
        now = datetime.now(UTC)
        async with in_transaction():
            await _lock_rooms(batch)
            known = await _already_stored(batch)
            fresh: dict[tuple[int, str], list[int]] = defaultdict(list)
            seen: dict[tuple[int, int, str], int] = {}
            results: list[Stored | None] = []
            for index, item in enumerate(batch):
                key = item.key
                if key in known:
                    results.append(known[key])
                elif key in seen:  # the same message twice in one batch
                    results.append(None)
                else:
                    seen[key] = index
                    fresh[(item.session_id, item.post.room)].append(index)
                    results.append(None)
            rows: list[RoomMessage] = []
            firsts = await _advance({key: len(indexes) for key, indexes in fresh.items()})
            for (session_id, room), indexes in fresh.items():
                first = firsts[(session_id, room)]
                for offset, index in enumerate(indexes):
                    item = batch[index]
                    sender = item.sender
                    rows.append(
                        RoomMessage(
                            session_id=session_id,
                            room=room,
                            seq=first + offset,
                            sender_id=sender.user_id if sender else None,
                            sender_name=sender.name if sender else "",
                            sender_side=None if not sender or sender.is_mediator else sender.side,
                            kind=item.post.kind.value,
                            body=item.post.body,
                            concession=item.post.concession,
                            client_id=item.post.client_id,
                            created_at=now,
                        )
                    )
                    results[index] = Stored.of(rows[-1])
            if rows:
                await RoomMessage.bulk_create(rows)
        for index, item in enumerate(batch):
            if results[index] is None:
                results[index] = results[seen[item.key]]
        return [r for r in results if r is not None]


async def _lock_rooms(batch: Sequence[_Pending]) -> None:
    """Lock the batch's rooms first thing in the transaction, before reading anything.
    SQLite (WAL) then waits for another process's writer, where an upgrade from the read
    snapshot of an earlier statement fails at once with "database is locked"; PostgreSQL
    then shows the idempotency check a resend that another process committed meanwhile."""
    sessions = {item.session_id for item in batch}
    rooms = {item.post.room for item in batch}
    await RoomState.filter(session_id__in=sessions, room__in=rooms).update(last_seq=F("last_seq"))


async def _advance(counts: dict[tuple[int, str], int]) -> dict[tuple[int, str], int]:
    """Advance each room's `last_seq` by its count; returns each room's first new seq.

    A batch spans many rooms, so this is one UPDATE for all of them (not one UPDATE and one
    SELECT per room, which capped a process at a few hundred messages a second with 200
    busy rooms). The UPDATE takes the rooms' row locks until commit (PostgreSQL), so the
    re-read below sees this transaction's own numbers; SQLite has one writer at a time."""
    if not counts:
        return {}
    sessions = {session_id for session_id, _ in counts}
    found = await RoomState.filter(session_id__in=sessions).values_list("id", "session_id", "room")
    ids = {(s, r): pk for pk, s, r in found if (s, r) in counts}
    by_count: dict[int, list[int]] = defaultdict(list)
    for key, count in counts.items():
        by_count[count].append(ids[key])
    default, *others = sorted(by_count, key=lambda count: -len(by_count[count]))
    # CASE needs at least one WHEN: when every room advances by the same count (the usual
    # batch: one room), a plain increment.
    await RoomState.filter(id__in=list(ids.values())).update(
        last_seq=Case(
            *(When(id__in=by_count[count], then=F("last_seq") + count) for count in others),
            default=F("last_seq") + default,
        )
        if others
        else F("last_seq") + default
    )
    last = dict(await RoomState.filter(id__in=list(ids.values())).values_list("id", "last_seq"))
    return {key: int(last[ids[key]]) - count + 1 for key, count in counts.items()}


def _seq(message: Stored) -> int:
    return message.seq


async def _already_stored(batch: Sequence[_Pending]) -> dict[tuple[int, int, str], Stored]:
    client_ids = {item.post.client_id for item in batch}
    sessions = {item.session_id for item in batch}
    rows = await RoomMessage.filter(session_id__in=sessions, client_id__in=client_ids)
    return {(r.session_id, r.sender_id or 0, r.client_id): Stored.of(r) for r in rows}
