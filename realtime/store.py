"""Storing room messages with group commit.

Messages from every room served by this process go through one writer. It takes what has
queued up (up to `max_batch`; more queues up while a commit is in flight, so batches grow
with the load), and in one transaction locks the batch's rooms, looks for resends, advances
each room's `last_seq`, inserts the rows, and commits; only then are senders acknowledged
and the messages published. One commit per batch instead of per message is what lets a
single process persist thousands of messages a second; the room rows' lock keeps every
room's sequence gap-free even when several processes write to the same room.

The batch is written in plain SQL, not through the ORM: building the ORM's statements cost
more than the database's work. On SQLite the writer has a connection of its own, used from
one thread of its own, so a whole batch is one hop to that thread (and the ORM's connection,
which serves everything else, is never held up by it); `BEGIN IMMEDIATE` takes the
database's write lock first thing, waiting for another process's writer. On PostgreSQL the
batch goes through the ORM's pool: the rooms' rows are locked in id order (so two processes
cannot deadlock), and only then is anything read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from realtime.models import RoomMessage, RoomState
from realtime.protocol import (
    CAUCUS_PREFIX,
    JOINT,
    ROOMS,
    SIDES,
    Participant,
    Post,
    concession_room,
    may_see,
)
from realtime.text import json_text

log = logging.getLogger("realtime.store")

# Group commit: at most one commit per this many seconds; what arrives meanwhile joins the
# next batch. Each commit costs the same whatever its size (SQLite syncs its log to disk on
# every commit), so under load this is what keeps a core's work per message low; a message
# waits at most this long for it, and only when the previous commit was that recent.
COMMIT_INTERVAL_SECONDS = float(os.environ.get("ROOM_COMMIT_INTERVAL_SECONDS", "0.003"))


@dataclass(frozen=True, slots=True)
class Stored:
    """A message as stored and delivered. (Slots: rooms keep their recent messages in memory,
    and every object the garbage collector tracks lengthens its full collections.)"""

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
    _text: str | None = field(default=None, compare=False, repr=False)

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

    @property
    def text(self) -> str:
        """The message frame as sent: encoded once, whoever it goes to (live or replayed)."""
        if self._text is None:
            # json_text never fails, even on a bad string stored before the doors checked
            object.__setattr__(self, "_text", json_text(self.frame()))
        assert self._text is not None
        return self._text

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


async def room_lasts(session_id: int) -> dict[str, int]:
    """Each room's last stored sequence."""
    rows = await RoomState.filter(session_id=session_id).values_list("room", "last_seq")
    return {room: int(last) for room, last in rows}


async def rooms_lasts(session_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """Each room's last stored sequence, for several sessions at once (one query)."""
    rows = await RoomState.filter(session_id__in=list(session_ids)).values_list(
        "session_id", "room", "last_seq"
    )
    return {(int(session_id), room): int(last) for session_id, room, last in rows}


async def last_seq(session_id: int, room: str) -> int:
    """The room's last stored sequence (committed messages only)."""
    state = await RoomState.get_or_none(session_id=session_id, room=room)
    return int(state.last_seq) if state else 0


async def messages_after(session_id: int, room: str, after: int, limit: int) -> list[Stored]:
    """The room's messages after `after`, in order, at most `limit`. In plain SQL: a replay
    reads up to thousands of rows, and the ORM's model instances cost more than the reading."""
    from tortoise import connections

    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        columns, marks = COLUMNS.replace("body,", "body::text,"), ("$1", "$2", "$3", "$4")
    else:
        columns, marks = COLUMNS, ("?", "?", "?", "?")
    _, rows = await db.execute_query(
        f"SELECT {columns} FROM room_message WHERE session_id = {marks[0]} AND room = {marks[1]}"
        f" AND seq > {marks[2]} ORDER BY seq LIMIT {marks[3]}",
        [session_id, room, after, limit],
    )
    return [_stored_from(tuple(row)) for row in rows]


# --- concessions stored before they were kept in their author's caucus -------------------------


async def move_joint_concessions(db: Any) -> int:
    """Concessions that parties made before concessions were kept in their author's caucus
    sit in the joint room, a hole in the other party's numbers there. Move each to its
    author's caucus (after what that caucus holds), number the joint room again without
    them (an answer to an offer follows its offer's new number; one to a moved concession
    points at none, 0), and give the rooms a new
    epoch, so an open room page reloads instead of resuming from the old numbers. `db` is a
    connection of the ORM's (the migration's). A mediator's concession (only the mediator
    could see it; there is no room of the mediator's own) is left where it is. Returns how
    many were moved."""
    postgres = db.capabilities.dialect == "postgres"

    def sql(text: str) -> str:
        if not postgres:
            return text
        parts = text.split("?")
        return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))

    body, jsonb = ("body::text", "::jsonb") if postgres else ("body", "")
    _, sessions = await db.execute_query(
        sql(
            "SELECT DISTINCT session_id FROM room_message"
            " WHERE room = ? AND concession = ? AND sender_side IS NOT NULL"
        ),
        [JOINT, True],
    )
    moved_count = 0
    for (session_id,) in [
        tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in sessions
    ]:
        _, found = await db.execute_query(
            sql(
                f"SELECT id, seq, sender_side, concession, kind, {body} FROM room_message"
                " WHERE session_id = ? AND room = ? ORDER BY seq"
            ),
            [session_id, JOINT],
        )
        rows = [_values(r) for r in found]
        moving = [r for r in rows if r[3] and r[2] in SIDES]
        kept = [r for r in rows if not (r[3] and r[2] in SIDES)]
        for side in SIDES:
            room = f"{CAUCUS_PREFIX}{side}"
            last = await last_seq_in(db, sql, session_id, room)
            for row in [r for r in moving if r[2] == side]:
                last += 1
                await db.execute_query(
                    sql("UPDATE room_message SET room = ?, seq = ? WHERE id = ?"),
                    [room, last, row[0]],
                )
            await db.execute_query(sql(_NEW_STATE), [last, secrets.token_hex(4), session_id, room])
        number = {int(r[1]): new for new, r in enumerate(kept, 1)}
        # Out of the way first: (session, room, seq) is unique.
        await db.execute_query(
            sql("UPDATE room_message SET seq = -seq WHERE session_id = ? AND room = ?"),
            [session_id, JOINT],
        )
        for row in kept:
            content = json.loads(row[5]) if isinstance(row[5], str | bytes) else row[5]
            if row[4] == "offer_response" and "offer_seq" in content:
                # An answer to an offer that moved (a concession) points at none (0) rather
                # than at whatever now has that number.
                content["offer_seq"] = number.get(content["offer_seq"], 0)
            await db.execute_query(
                sql(f"UPDATE room_message SET seq = ?, body = ?{jsonb} WHERE id = ?"),
                [number[int(row[1])], _body_json(content), row[0]],
            )
        await db.execute_query(
            sql(_NEW_STATE), [len(kept), secrets.token_hex(4), session_id, JOINT]
        )
        moved_count += len(moving)
    return moved_count


_NEW_STATE = "UPDATE room_state SET last_seq = ?, epoch = ? WHERE session_id = ? AND room = ?"


async def last_seq_in(db: Any, sql: Callable[[str], str], session_id: int, room: str) -> int:
    _, found = await db.execute_query(
        sql("SELECT last_seq FROM room_state WHERE session_id = ? AND room = ?"), [session_id, room]
    )
    return int(_values(found[0])[0])


def _values(row: Any) -> tuple[Any, ...]:
    """A result row's values in column order (a dict, a sqlite3.Row or an asyncpg Record)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


# --- the writer ----------------------------------------------------------------------------------

RoomKey = tuple[int, str]  # (session id, room)
MessageKey = tuple[int, int, str]  # (session id, sender id or 0, client id): a resend's identity


@dataclass(frozen=True)
class _Row:
    """One message to store, as its columns (sender None: the platform itself)."""

    session_id: int
    room: str
    sender_id: int | None
    sender_name: str
    sender_side: str | None
    kind: str
    body: dict[str, Any]
    concession: bool
    client_id: str

    @property
    def key(self) -> MessageKey:
        return (self.session_id, self.sender_id or 0, self.client_id)

    @classmethod
    def of(cls, session_id: int, sender: Participant | None, post: Post) -> _Row:
        room = post.room
        if post.concession:
            # Whoever built the post: a concession is kept only where all readers may see
            # it (the party's own caucus), so no room's numbers have a hole for anyone.
            if sender is None:
                raise ValueError("the platform makes no concessions")
            room = concession_room(sender)
        return cls(
            session_id=session_id,
            room=room,
            sender_id=sender.user_id if sender else None,
            sender_name=sender.name if sender else "",
            sender_side=None if sender is None or sender.is_mediator else sender.side,
            kind=post.kind.value,
            body=post.body,
            concession=post.concession,
            client_id=post.client_id,
        )

    def stored(self, seq: int, at: str) -> Stored:
        return Stored(
            session_id=self.session_id,
            room=self.room,
            seq=seq,
            sender_id=self.sender_id,
            sender_name=self.sender_name,
            sender_side=self.sender_side,
            kind=self.kind,
            body=self.body,
            concession=self.concession,
            client_id=self.client_id,
            at=at,
        )


class _Batch:
    """A batch's arithmetic, the same on every database: which rows are new (neither stored
    before nor earlier in the batch), how far each room advances, and, once the rooms' new
    last sequences are known, each row's sequence and what each sender is answered."""

    def __init__(self, rows: Sequence[_Row], known: dict[MessageKey, Stored]) -> None:
        self.rows, self.known = rows, known
        self.first: dict[MessageKey, int] = {}  # a new message -> its first row in the batch
        self.fresh: dict[RoomKey, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            if row.key not in known and row.key not in self.first:
                self.first[row.key] = index
                self.fresh[(row.session_id, row.room)].append(index)

    @property
    def counts(self) -> dict[RoomKey, int]:
        return {room: len(indexes) for room, indexes in self.fresh.items()}

    def settle(self, lasts: dict[RoomKey, int], at: datetime) -> tuple[list[Stored], list[Stored]]:
        """(the new messages to insert, what each row of the batch is answered)."""
        when = at.isoformat()
        new: dict[int, Stored] = {}
        for room, indexes in self.fresh.items():
            first = lasts[room] - len(indexes) + 1
            for offset, index in enumerate(indexes):
                new[index] = self.rows[index].stored(first + offset, when)
        answers = [self.known.get(row.key) or new[self.first[row.key]] for row in self.rows]
        return list(new.values()), answers


def _body_json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))  # as the ORM's JSONField writes it


COLUMNS = (
    "session_id, room, seq, sender_id, sender_name, sender_side, kind, body, concession,"
    " client_id, created_at"
)


def _stored_from(values: Sequence[Any]) -> Stored:
    """A Stored from a row of `SELECT {COLUMNS}` (either database)."""
    (session_id, room, seq, sender_id, name, side, kind, body, concession, client_id, at) = values
    when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return Stored(
        session_id=int(session_id),
        room=str(room),
        seq=int(seq),
        sender_id=None if sender_id is None else int(sender_id),
        sender_name=str(name),
        sender_side=side,
        kind=str(kind),
        body=json.loads(body) if isinstance(body, str | bytes) else body,
        concession=bool(concession),
        client_id=str(client_id),
        at=when.astimezone(UTC).isoformat(),
    )


class _Backend(Protocol):
    async def commit(self, rows: Sequence[_Row], at: datetime) -> list[Stored]: ...
    async def close(self) -> None: ...


class _Thread:
    """A thread of its own that runs calls one after the other (half the cost per call of
    an executor's, which matters at a call per batch)."""

    def __init__(self, name: str, nice: int = 0) -> None:
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._nice = nice
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._calls.put((function, args, future, loop))
        return future

    def stop(self) -> None:
        self._calls.put(None)
        self._thread.join()

    def _run(self) -> None:
        if self._nice and hasattr(os, "setpriority"):  # Linux: a thread's own priority
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._nice)
        while (call := self._calls.get()) is not None:
            function, args, future, loop = call
            try:
                outcome, failure = function(*args), None
            except BaseException as error:
                outcome, failure = None, error
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(_settle, future, outcome, failure)


def _settle(future: asyncio.Future[Any], outcome: Any, failure: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(outcome)


class _Sqlite:
    """The writer's own connection to the SQLite file, used from one thread of its own.

    Checkpoints (copying the write-ahead log into the database file) are not left to the
    writer's commits, where SQLite runs them by default once the log has 1,000 pages: with
    messages of 200 busy rooms that was every third of a second, a few milliseconds of work
    in the middle of a commit each time. Another connection, in a thread of lower priority,
    runs one every CHECKPOINT_SECONDS instead, beside the commits; a page written many times
    meanwhile (a busy room's index page) is copied once."""

    BUSY_TIMEOUT_SECONDS = 30.0  # another process's writer holds the lock this long at most
    CHECKPOINT_SECONDS = 2.0
    WAL_BACKSTOP_PAGES = 20_000  # the writer checkpoints itself only past this (80 MB)

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread = _Thread("room-writer")
        self._db: sqlite3.Connection | None = None
        self._checkpointer = _Thread("room-checkpoint", nice=10)
        self._checkpoint_db: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        self._checkpointed_at = time.monotonic()

    async def commit(self, rows: Sequence[_Row], at: datetime) -> list[Stored]:
        result: list[Stored] = await self._thread.call(self._commit, rows, at)
        now = time.monotonic()
        if self._checkpointing is None and now - self._checkpointed_at >= self.CHECKPOINT_SECONDS:
            self._checkpointed_at = now
            self._checkpointing = self._checkpointer.call(self._checkpoint)
            self._checkpointing.add_done_callback(self._checkpointed)
        return result

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._checkpointing is not None:
                await self._checkpointing
        with contextlib.suppress(Exception):
            await self._checkpointer.call(self._close_checkpointer)
        with contextlib.suppress(Exception):
            await self._thread.call(self._close)
        self._checkpointer.stop()
        self._thread.stop()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _close_checkpointer(self) -> None:
        if self._checkpoint_db is not None:
            self._checkpoint_db.close()
            self._checkpoint_db = None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level None: the transactions below are begun and ended explicitly. The
        # journal mode (WAL) is the database file's, set by the ORM's connection; synchronous
        # stays FULL, so an acknowledged message survives a power cut.
        return sqlite3.connect(self._path, timeout=self.BUSY_TIMEOUT_SECONDS, isolation_level=None)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._connect()
            self._db.execute(f"PRAGMA wal_autocheckpoint = {self.WAL_BACKSTOP_PAGES}")
        return self._db

    def _checkpoint(self) -> None:
        if self._checkpoint_db is None:
            self._checkpoint_db = self._connect()
        # PASSIVE: copies what it can without waiting for readers or the writer.
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("checkpointing the room database failed: %s", done.exception())

    def _commit(self, rows: Sequence[_Row], at: datetime) -> list[Stored]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")  # the write lock first, before reading anything
        try:
            batch = _Batch(rows, self._known(db, rows))
            lasts: dict[RoomKey, int] = {}
            for (session_id, room), count in batch.counts.items():
                found = db.execute(
                    "UPDATE room_state SET last_seq = last_seq + ?"
                    " WHERE session_id = ? AND room = ? RETURNING last_seq",
                    (count, session_id, room),
                ).fetchall()
                if not found:
                    raise LookupError(f"no room {room!r} in session {session_id}")
                lasts[(session_id, room)] = int(found[0][0])
            new, answers = batch.settle(lasts, at)
            created_at = at.isoformat(" ")  # as the ORM writes a datetime on SQLite
            db.executemany(
                f"INSERT INTO room_message ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        m.session_id,
                        m.room,
                        m.seq,
                        m.sender_id,
                        m.sender_name,
                        m.sender_side,
                        m.kind,
                        _body_json(m.body),
                        int(m.concession),
                        m.client_id,
                        created_at,
                    )
                    for m in new
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return answers

    @staticmethod
    def _known(db: sqlite3.Connection, rows: Sequence[_Row]) -> dict[MessageKey, Stored]:
        keys = list({row.key for row in rows if row.sender_id is not None})
        if not keys:
            return {}
        places = ", ".join(["(?, ?, ?)"] * len(keys))
        columns = ", ".join(f"m.{name.strip()}" for name in COLUMNS.split(","))
        # A join, not `(a, b, c) IN (VALUES ...)`, which SQLite answers with a table scan.
        found = db.execute(
            f"SELECT {columns} FROM (VALUES {places}) AS k CROSS JOIN room_message AS m"
            " ON m.session_id = k.column1 AND m.sender_id = k.column2"
            " AND m.client_id = k.column3",
            [value for key in keys for value in key],
        ).fetchall()
        return {(m.session_id, m.sender_id or 0, m.client_id): m for m in map(_stored_from, found)}


class _Postgres:
    """Through the ORM's connection pool, in plain SQL (a few statements per batch).

    A connection of the pool, with asyncpg's own transaction, rather than the ORM's
    `in_transaction()`: when the database goes away at the wrong moment (the transaction
    cannot begin), the ORM's leaves the task that called it pointed at a dead connection,
    and every later call in that task fails; the writer is one long-lived task, so it would
    never store a message again until the process restarted."""

    async def commit(self, rows: Sequence[_Row], at: datetime) -> list[Stored]:
        from tortoise import connections

        rooms = sorted({(row.session_id, row.room) for row in rows})
        pool = connections.get("default")
        async with pool.acquire_connection() as db, db.transaction():
            # Lock the rooms in one order (no deadlock between processes), before reading:
            # the check below then sees a resend that another process committed meanwhile.
            await db.execute(
                "SELECT id FROM room_state WHERE (session_id, room) IN"
                " (SELECT * FROM unnest($1::int[], $2::text[])) ORDER BY id FOR UPDATE",
                [s for s, _ in rooms],
                [r for _, r in rooms],
            )
            keys = list({row.key for row in rows if row.sender_id is not None})
            known: dict[MessageKey, Stored] = {}
            if keys:
                found = await db.fetch(
                    f"SELECT {COLUMNS.replace('body,', 'body::text,')} FROM room_message"
                    " WHERE (session_id, sender_id, client_id) IN"
                    " (SELECT * FROM unnest($1::int[], $2::int[], $3::text[]))",
                    [k[0] for k in keys],
                    [k[1] for k in keys],
                    [k[2] for k in keys],
                )
                for values in found:
                    message = _stored_from(tuple(values))
                    known[(message.session_id, message.sender_id or 0, message.client_id)] = message
            batch = _Batch(rows, known)
            counts = batch.counts
            lasts: dict[RoomKey, int] = {}
            if counts:
                advanced = await db.fetch(
                    "WITH v AS (SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[])"
                    " AS v(session_id, room, n))"
                    " UPDATE room_state AS s SET last_seq = s.last_seq + v.n FROM v"
                    " WHERE s.session_id = v.session_id AND s.room = v.room"
                    " RETURNING s.session_id, s.room, s.last_seq",
                    [s for s, _ in counts],
                    [r for _, r in counts],
                    list(counts.values()),
                )
                lasts = {(int(s), str(r)): int(last) for s, r, last in advanced}
                for session_id, room in counts:
                    if (session_id, room) not in lasts:
                        raise LookupError(f"no room {room!r} in session {session_id}")
            new, answers = batch.settle(lasts, at)
            if new:
                await db.execute(
                    f"INSERT INTO room_message ({COLUMNS}) SELECT * FROM unnest($1::int[],"
                    " $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[],"
                    " $8::jsonb[], $9::bool[], $10::text[], $11::timestamptz[])",
                    *[
                        [m.session_id for m in new],
                        [m.room for m in new],
                        [m.seq for m in new],
                        [m.sender_id for m in new],
                        [m.sender_name for m in new],
                        [m.sender_side for m in new],
                        [m.kind for m in new],
                        [_body_json(m.body) for m in new],
                        [m.concession for m in new],
                        [m.client_id for m in new],
                        [at] * len(new),
                    ],
                )
        return answers

    async def close(self) -> None:
        return None


def _backend() -> _Backend:
    """The writer's way to the database the ORM is connected to."""
    from tortoise import connections

    client = connections.get("default")
    dialect = client.capabilities.dialect
    if dialect == "sqlite":
        path = str(getattr(client, "filename", ""))
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            raise RuntimeError("live rooms need a database file (an in-memory SQLite has none)")
        return _Sqlite(path)
    if dialect == "postgres":
        return _Postgres()
    raise RuntimeError(f"live rooms do not support the {dialect} database")


@dataclass
class _Pending:
    row: _Row
    done: asyncio.Future[Stored]


Publish = Callable[[int, str, list[Stored]], Awaitable[None]]


class Writer:
    """The process's single writer of room messages (see the module docstring)."""

    def __init__(self, publish: Publish, max_batch: int = 256) -> None:
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._publish = publish
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self._backend: _Backend | None = None

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
        if self._backend is not None:
            await self._backend.close()
            self._backend = None

    async def append(self, session_id: int, sender: Participant | None, post: Post) -> Stored:
        """Store a message; returns once it is committed (the moment to acknowledge it)."""
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(_Row.of(session_id, sender, post), done))
        return await done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        committed = float("-inf")
        while True:
            first = await self._queue.get()
            if first is None:
                return
            if (wait := committed + COMMIT_INTERVAL_SECONDS - loop.time()) > 0:
                await asyncio.sleep(wait)  # the previous commit was a moment ago: gather
            committed = loop.time()
            batch, stopping = [first], False
            while len(batch) < self._max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            try:
                if self._backend is None:
                    self._backend = _backend()
                stored = await self._backend.commit([p.row for p in batch], datetime.now(UTC))
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
            for (session_id, room), messages in _by_room(stored).items():
                try:
                    await self._publish(session_id, room, messages)
                except Exception:  # receivers recover from the database on the next one
                    log.exception("publishing to %s/%s failed", session_id, room)
            if stopping:
                return


def _by_room(stored: Iterable[Stored]) -> dict[RoomKey, list[Stored]]:
    """Each room's messages in sequence order, each once (a resend maps to its first)."""
    rooms: dict[RoomKey, dict[int, Stored]] = defaultdict(dict)
    for message in stored:
        rooms[(message.session_id, message.room)][message.seq] = message
    return {key: sorted(by_seq.values(), key=_seq) for key, by_seq in rooms.items()}


def _seq(message: Stored) -> int:
    return message.seq
