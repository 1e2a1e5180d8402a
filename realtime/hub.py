"""The process's live rooms: connections, ordered delivery, replay, presence, controls.

Delivery order: every stored message reaches this process through the broker (even from
this process's own writer), and each room here remembers the last sequence it delivered. A
message that arrives ahead of a missing one triggers a fetch of the gap from the database,
so every connection sees each room's messages in sequence order, with no gap and no
duplicate, whichever process stored them. This process's own writer hands its messages
straight to this process's rooms (the same path, without the broker's round trip); only
the other processes need the broker for them.

Lost events: the broker (Redis pub/sub) delivers at most once, so an event can be lost (a
dropped connection, a restarted Redis, a publish that failed). Every WATCH_SECONDS the hub
reads the stored last sequence of every room it serves (one query) and compares it with
what it delivered; a room still behind at the next look, by what it was behind at the
first, lost something, and is filled from the database then. (Looking twice spares the
database the reads for messages whose events are merely on their way.) So a client is
caught up within two looks of a loss, without waiting for the room's next message.

Presence: a user is online while any of their connections is, on any process (two tabs, a
phone and a laptop). Each process counts its own connections per user and tells the others
when a user's first one arrives and last one leaves; it keeps, per other process, who that
process last said is there, and shows a user offline only when no process has them. Each
process repeats its whole list every PRESENCE_SECONDS, so a process killed without a word
(or an event lost) is corrected: a process not heard for three rounds is taken as gone.

Heartbeat: one timer for the whole hub, not one per connection or per frame. Every
HEARTBEAT_SECONDS each connection is sent a ping (busy or not: a client that only listens
answers nothing else, and would otherwise be closed as idle in a room that never goes
quiet); one that has sent nothing for IDLE_TIMEOUT_SECONDS is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from realtime.broker import Broker
from realtime.protocol import (
    JOINT,
    CloseCode,
    Control,
    Kind,
    Participant,
    Post,
    may_read,
    readable_rooms,
)
from realtime.store import (
    Stored,
    Writer,
    ensure_rooms,
    last_seq,
    messages_after,
    room_lasts,
    rooms_lasts,
)
from realtime.text import json_text

log = logging.getLogger("realtime.hub")

# Frames waiting for one connection before it is cut off as too slow (ROOM_QUEUE_LIMIT lets a
# test use a small limit in a server subprocess).
QUEUE_LIMIT = int(os.environ.get("ROOM_QUEUE_LIMIT", "512"))
# Beyond this a resuming client is told to reload; a fresh one gets the newest this many.
REPLAY_LIMIT = int(os.environ.get("ROOM_REPLAY_LIMIT", "5000"))
# A replay waits for the client to read (it may be far longer than the queue); a client that
# takes no frame for this long is cut off as too slow.
REPLAY_STALL_SECONDS = 10.0
# Overridable (ROOM_HEARTBEAT_SECONDS, ROOM_IDLE_TIMEOUT_SECONDS) so tests can use short ones.
HEARTBEAT_SECONDS = float(os.environ.get("ROOM_HEARTBEAT_SECONDS", "20"))
IDLE_TIMEOUT_SECONDS = float(os.environ.get("ROOM_IDLE_TIMEOUT_SECONDS", "60"))  # three beats
PING = '{"type":"ping"}'
# How often the stored last sequences are compared with what was delivered (see above).
WATCH_SECONDS = float(os.environ.get("ROOM_WATCH_SECONDS", "0.5"))
# How often each process repeats who is connected to it (see Presence above).
PRESENCE_SECONDS = float(os.environ.get("ROOM_PRESENCE_SECONDS", "5"))
# A session whose last participant has left is kept this long (its rooms' state and recent
# messages, its broker subscription), so that participants who drop and come back at once
# (a network blip, a server's restart behind a balancer) are served from memory.
LINGER_SECONDS = float(os.environ.get("ROOM_LINGER_SECONDS", "30"))
# Each room keeps its most recent messages in memory: a client resuming within them is
# replayed from there, without reading the database.
RECENT_LIMIT = int(os.environ.get("ROOM_RECENT_LIMIT", "64"))


@dataclass(eq=False)
class Connection:
    """One client connection. `send` writes a frame to the socket; `close` closes it.

    A frame offered is written at once, in the offering task: no task of its own per
    connection, no task switch per frame (which cost a busy room server more than anything
    else it did). Only a write that has to wait, because the client is not reading fast
    enough and the socket's buffer is full, goes on in a task; the frames offered meanwhile
    wait their turn behind it, in order, and a client that lets QUEUE_LIMIT of them pile up
    is cut off as too slow."""

    session_id: int
    participant: Participant
    send: Callable[[str], Coroutine[Any, Any, None]]
    close: Callable[[int], Coroutine[Any, Any, None]]
    # While replaying, live frames wait here and are released after the replay.
    held: list[Stored] | None = field(default_factory=list)
    # Per room, the last sequence queued for this connection (replayed or live): a message
    # that comes again (a gap filled from the database after the replay) is not sent twice.
    sent: dict[str, int] = field(default_factory=dict)
    # When the client last sent a frame, and when it is next sent a ping (time.monotonic).
    last_seen: float = field(default_factory=time.monotonic)
    ping_at: float = field(default_factory=lambda: time.monotonic() + HEARTBEAT_SECONDS)
    closed: bool = False
    # Counted in its user's presence (from the end of its replay until it leaves).
    present: bool = False
    # Frames waiting behind a write that had to wait, and the task finishing that write.
    waiting: deque[str] = field(default_factory=deque)
    _writing: asyncio.Task[None] | None = None
    _room: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, frame: str) -> bool:
        """Write a frame (or `close_after(code)`), or line it up behind a write that is
        waiting; False if the connection is too slow (its line is full)."""
        if self._writing is not None:
            if len(self.waiting) >= QUEUE_LIMIT:
                return False
            self.waiting.append(frame)
            return True
        if not self.closed:
            self._write(frame)
        return True

    async def room_for_more(self) -> None:
        """Wait until a frame offered now would be taken (or the connection has closed)."""
        while self._writing is not None and len(self.waiting) >= QUEUE_LIMIT:
            self._room.clear()
            await self._room.wait()

    async def stop(self) -> None:
        """Stop writing (the connection is gone)."""
        self.closed = True
        if (task := self._writing) is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _write(self, frame: str) -> None:
        if frame.startswith(CLOSE_MARK):
            self.closed = True
            step = self.close(int(frame[len(CLOSE_MARK) :]))
        else:
            step = self.send(frame)
        try:
            waits_for = step.send(None)
        except StopIteration:
            return  # written (the usual case)
        except Exception:
            self.closed = True  # the socket is gone
            return
        self._writing = asyncio.get_running_loop().create_task(self._finish(step, waits_for))

    async def _finish(self, step: Coroutine[Any, Any, None], waits_for: Any) -> None:
        """Finish the write that had to wait, then write what queued up behind it."""
        try:
            await _carry_on(step, waits_for)
            while self.waiting and not self.closed:
                frame = self.waiting.popleft()
                self._room.set()
                if frame.startswith(CLOSE_MARK):
                    self.closed = True
                    await self.close(int(frame[len(CLOSE_MARK) :]))
                else:
                    await self.send(frame)
        except Exception:
            self.closed = True
        finally:
            self._writing = None
            if self.closed:
                self.waiting.clear()
            self._room.set()


async def _carry_on(step: Coroutine[Any, Any, Any], waits_for: Any) -> None:
    """Run to its end a coroutine that was started by hand (`step.send(None)`) and is
    waiting for `waits_for`, as a task would have run it: wait for that, then resume it,
    until it returns. (Python 3.12's eager tasks do this; 3.11 has none.)"""
    try:
        while True:
            if waits_for is None:  # a bare yield: it only lets others run
                await asyncio.sleep(0)
            else:
                await asyncio.wait([waits_for])
            waits_for = step.send(None)
    except StopIteration:
        return
    except BaseException:
        step.close()
        raise


@dataclass
class _Room:
    delivered: int
    epoch: str
    # The last messages delivered (in sequence order, the last one's seq is `delivered`).
    recent: deque[Stored] = field(default_factory=lambda: deque(maxlen=RECENT_LIMIT))

    def after(self, seq: int) -> list[Stored] | None:
        """The delivered messages after `seq`, from memory; None if it does not go back
        that far."""
        if seq >= self.delivered:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        return [m for m in self.recent if m.seq > seq]

    def remember(self, messages: list[Stored]) -> None:
        """Messages just read from the database: kept if they run up to the last one
        delivered and nothing is in memory yet (so what is kept stays contiguous)."""
        if not self.recent and messages and messages[-1].seq == self.delivered:
            self.recent.extend(messages[-RECENT_LIMIT:])


@dataclass
class _SessionState:
    rooms: dict[str, _Room]
    connections: set[Connection] = field(default_factory=set)
    muted: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)
    ended: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Since when nobody is connected (time.monotonic), while it lingers.
    empty_since: float | None = None
    # Presence: this process's connections per user; who each other process (by its origin)
    # last said it has, and when it last said anything; everyone's names.
    here: dict[int, int] = field(default_factory=dict)
    there: dict[str, set[int]] = field(default_factory=dict)
    heard: dict[str, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def online(self, user_id: int) -> bool:
        return self.here.get(user_id, 0) > 0 or any(user_id in u for u in self.there.values())


class Hub:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.writer = Writer(self._publish_stored)
        self._sessions: dict[int, _SessionState] = {}
        self._joining: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._closing: set[asyncio.Task[None]] = set()
        self._beat: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        # Marks this hub's own events on a shared broker: it has delivered them already.
        self._origin = secrets.token_hex(8)

    async def start(self) -> None:
        _freeze_startup_objects()
        await self.broker.start(self._on_event)
        self.writer.start()
        self._beat = asyncio.create_task(self._heartbeat(), name="room-heartbeat")
        self._watch = asyncio.create_task(self._watch_rooms(), name="room-watch")

    async def stop(self) -> None:
        for task in (self._beat, self._watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._beat = self._watch = None
        await self.writer.stop()
        for state in list(self._sessions.values()):
            for connection in list(state.connections):
                await self._cut(connection, CloseCode.NORMAL)
        await self.broker.stop()

    # --- joining and leaving -----------------------------------------------------------------

    async def _session(self, session_id: int) -> _SessionState:
        async with self._joining[session_id]:
            state = self._sessions.get(session_id)
            if state is None:
                await self.broker.subscribe(session_id)
                rooms = await ensure_rooms(session_id)
                state = _SessionState(
                    {
                        room: _Room(delivered=last, epoch=epoch)
                        for room, (epoch, last) in rooms.items()
                    }
                )
                await self._restore_controls(session_id, state)
                self._sessions[session_id] = state
                await self._catch_up(session_id, state)
            return state

    async def _catch_up(self, session_id: int, state: _SessionState) -> None:
        """Messages committed while the session was being set up here, whose events came
        before it was registered (and were dropped), are fetched now: a client replayed from
        the rooms' memory must not miss them until the next message comes."""
        for room, last in (await room_lasts(session_id)).items():
            await self._fill(state, session_id, room, last)

    async def _fill(self, state: _SessionState, session_id: int, room: str, upto: int) -> None:
        """Deliver the room's stored messages up to `upto` that were not delivered yet."""
        async with state.lock:
            current = state.rooms[room]
            if upto > current.delivered:
                for message in await messages_after(
                    session_id, room, current.delivered, upto - current.delivered
                ):
                    if message.seq == current.delivered + 1:
                        self._fan_out(state, message)
                        current.delivered = message.seq

    async def _restore_controls(self, session_id: int, state: _SessionState) -> None:
        """Mute, removal and end are durable control messages; rebuild them on first use."""
        from realtime.models import RoomMessage

        rows = await RoomMessage.filter(session_id=session_id, room=JOINT, kind="control").order_by(
            "seq"
        )
        for row in rows:
            self._apply_control(state, row.body)

    def has_ended(self, session_id: int) -> bool:
        state = self._sessions.get(session_id)
        return state is not None and state.ended

    def is_barred(self, session_id: int, user_id: int) -> bool:
        state = self._sessions.get(session_id)
        return state is not None and (state.ended or user_id in state.removed)

    async def join(self, connection: Connection, positions: dict[str, tuple[str, int]]) -> None:
        """Register a connection, replay what it missed in each room it may read, then let
        live frames through: subscribe first, read the database second, release the held
        live frames last (skipping what the replay already sent)."""
        state = await self._session(connection.session_id)
        if state.ended or connection.participant.user_id in state.removed:
            await connection.close(CloseCode.SESSION_ENDED if state.ended else CloseCode.REMOVED)
            return
        state.connections.add(connection)
        state.empty_since = None
        replayed: dict[str, int] = {}
        welcome_rooms = []
        for room in readable_rooms(connection.participant):
            current = state.rooms[room]
            epoch, seq = positions.get(room, ("", 0))
            if epoch and epoch != current.epoch:
                connection.offer(_frame({"type": "reset", "room": room, "reason": "epoch_changed"}))
                seq = 0
            elif seq > current.delivered and seq > await self._stored_last(
                connection.session_id, room
            ):
                connection.offer(_frame({"type": "error", "code": "seq_from_future", "room": room}))
                connection.offer(
                    _frame({"type": "reset", "room": room, "reason": "seq_from_future"})
                )
                seq = 0
            welcome_rooms.append({"room": room, "epoch": current.epoch})
            replayed[room] = seq
        connection.offer(
            _frame(
                {
                    "type": "welcome",
                    "you": {
                        "id": connection.participant.user_id,
                        "name": connection.participant.name,
                        "mediator": connection.participant.is_mediator,
                        "side": connection.participant.side,
                    },
                    "rooms": welcome_rooms,
                    "muted": connection.participant.user_id in state.muted,
                }
            )
        )
        for room, after in replayed.items():
            current = state.rooms[room]
            from_memory = current.after(after)
            if from_memory is not None:
                missed = from_memory
            else:
                missed = await messages_after(connection.session_id, room, after, REPLAY_LIMIT + 1)
                current.remember(missed)
            if len(missed) > REPLAY_LIMIT and positions.get(room, ("", 0))[0]:
                # A resuming client too far behind reloads; it then arrives fresh (below).
                reset = {"type": "reset", "room": room, "reason": "too_far_behind"}
                replayed[room] = await self._stored_last(connection.session_id, room)
                done = {"type": "replayed", "room": room, "seq": replayed[room]}
                if not (
                    await self._replay(connection, _frame(reset))
                    and await self._replay(connection, _frame(done))
                ):
                    return
                continue
            if len(missed) > REPLAY_LIMIT:
                # A fresh client (a page load) gets the newest REPLAY_LIMIT messages, told
                # where they start, rather than a reset it would meet again on every reload.
                last = await self._stored_last(connection.session_id, room)
                first = last - REPLAY_LIMIT + 1
                missed = await messages_after(connection.session_id, room, first - 1, REPLAY_LIMIT)
                notice = {"type": "history_truncated", "room": room, "from_seq": first}
                if not await self._replay(connection, _frame(notice)):
                    return
            for message in missed:
                replayed[room] = message.seq
                if not message.visible_to(connection.participant):
                    continue
                if not await self._replay(connection, message.text):
                    return
            done = {"type": "replayed", "room": room, "seq": replayed[room]}
            if not await self._replay(connection, _frame(done)):
                return
        # Release the live frames held meanwhile, in order; more may be held while we wait,
        # so live delivery starts only once none is left (no await between the two).
        held = connection.held if connection.held is not None else []
        while held:
            message = held.pop(0)
            if message.seq > replayed.get(message.room, 0):
                if not await self._replay(connection, message.text):
                    return
                replayed[message.room] = message.seq
        connection.sent.update(replayed)
        connection.held = None
        await self._arrive(state, connection)

    async def _replay(self, connection: Connection, frame: str) -> bool:
        """Send a frame of a replay, waiting while the client reads what came before it;
        False if the connection is closed or was cut off for not reading."""
        if not connection.offer(frame):
            try:
                async with asyncio.timeout(REPLAY_STALL_SECONDS):
                    while not connection.offer(frame):
                        await connection.room_for_more()
            except TimeoutError:
                self._cut_soon(connection, CloseCode.SLOW_CONSUMER)
        return not connection.closed

    async def _stored_last(self, session_id: int, room: str) -> int:
        # The rooms exist by now (joining created them): read the one number, insert nothing.
        return await last_seq(session_id, room)

    async def leave(self, connection: Connection) -> None:
        state = self._sessions.get(connection.session_id)
        connection.closed = True
        if state is None or connection not in state.connections:
            return
        state.connections.discard(connection)
        await self._depart(state, connection)
        if not state.connections:
            state.empty_since = time.monotonic()  # it lingers (see LINGER_SECONDS)
            if LINGER_SECONDS <= 0:
                await self._forget(connection.session_id)

    async def _forget(self, session_id: int, now: float | None = None) -> None:
        """Drop a session nobody is connected to (since LINGER_SECONDS before `now`)."""
        async with self._joining[session_id]:  # not while a join sets it up
            state = self._sessions.get(session_id)
            if state is None or state.connections or state.empty_since is None:
                return
            if now is not None and now - state.empty_since < LINGER_SECONDS:
                return
            del self._sessions[session_id]
            await self.broker.unsubscribe(session_id)

    async def _cut(self, connection: Connection, code: int) -> None:
        if connection.closed:
            return
        connection.closed = True
        with contextlib.suppress(Exception):
            await connection.close(code)

    def _cut_soon(self, connection: Connection, code: int) -> None:
        """Cut a connection off without waiting for its socket to close: the close frame of a
        client that does not read waits behind the unread data, maybe for ever, and the
        caller is delivering to the whole room."""
        if connection.closed:
            return
        connection.closed = True

        async def close() -> None:
            with contextlib.suppress(Exception):
                await connection.close(code)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # --- posting -----------------------------------------------------------------------------

    def may_post(self, connection: Connection) -> str | None:
        state = self._sessions.get(connection.session_id)
        if state is None or state.ended:
            return "session_ended"
        if connection.participant.user_id in state.muted and not connection.participant.is_mediator:
            return "muted"
        return None

    async def post(self, connection: Connection, post: Post) -> Stored:
        return await self.writer.append(connection.session_id, connection.participant, post)

    async def announce(self, session_id: int, kind: Kind, body: dict[str, Any]) -> Stored:
        """The platform itself says something in the session's joint room (an agreement
        version): stored like any message (same writer, same gap-free sequence, committed
        before this returns), then delivered live to every process's participants, and by
        replay to whoever comes back later. No sender: it is nobody's side."""
        await ensure_rooms(session_id)  # nobody may have joined this session yet
        post = Post(room=JOINT, client_id=f"platform-{secrets.token_hex(12)}", kind=kind, body=body)
        return await self.writer.append(session_id, None, post)

    async def ephemeral(self, connection: Connection, event: dict[str, Any]) -> None:
        """Publish an event that may be lost (typing): with the broker away (a restarting
        Redis), it is dropped, and the connection that sent it carries on."""
        user = {"id": connection.participant.user_id, "name": connection.participant.name}
        try:
            await self.broker.publish(
                connection.session_id, {**event, "user": user, "origin": self._origin}
            )
        except Exception as error:
            log.warning("an ephemeral event was not published: %s", error)

    # --- presence ------------------------------------------------------------------------------

    async def _arrive(self, state: _SessionState, connection: Connection) -> None:
        """A connection's replay is done: count it, show the newcomer who is online (as this
        process knows it), show the others the user if they were not online before, and ask
        the other processes (hello) to say whom they have."""
        user_id, name = connection.participant.user_id, connection.participant.name
        connection.present = True
        was = state.online(user_id)
        state.names[user_id] = name
        state.here[user_id] = state.here.get(user_id, 0) + 1
        online = [u for u in state.names if state.online(u)]
        if not all(connection.offer(_presence_frame(state, u, True)) for u in online):
            self._cut_soon(connection, CloseCode.SLOW_CONSUMER)
        if not was:
            self._show_presence(state, user_id, True, but=connection)
        await self._tell(connection.session_id, user_id, name, online=True, hello=True)

    async def _depart(self, state: _SessionState, connection: Connection) -> None:
        """A counted connection left: the user goes offline only with their last one."""
        if not connection.present:
            return
        connection.present = False
        user_id = connection.participant.user_id
        left = state.here.get(user_id, 0) - 1
        if left > 0:
            state.here[user_id] = left
            return
        state.here.pop(user_id, None)
        if not state.online(user_id):
            self._show_presence(state, user_id, False)
        await self._tell(connection.session_id, user_id, state.names[user_id], online=False)

    async def _tell(
        self, session_id: int, user_id: int, name: str, *, online: bool, hello: bool = False
    ) -> None:
        """Tell the other processes that a user's first connection here arrived, or its last
        one left (lost, it is corrected by the next list)."""
        if self.broker.shared:
            event = {
                "type": "presence",
                "online": online,
                "hello": hello,
                "user": {"id": user_id, "name": name},
                "origin": self._origin,
            }
            with contextlib.suppress(Exception):
                await self.broker.publish(session_id, event)

    async def _tell_list(self, session_id: int, state: _SessionState) -> None:
        """Tell the other processes everyone connected here (an answer to a hello, and every
        PRESENCE_SECONDS)."""
        users = [{"id": u, "name": state.names[u]} for u in state.here]
        event = {"type": "here", "users": users, "origin": self._origin}
        with contextlib.suppress(Exception):
            await self.broker.publish(session_id, event)

    def _show_presence(
        self, state: _SessionState, user_id: int, online: bool, but: Connection | None = None
    ) -> None:
        frame = _presence_frame(state, user_id, online)
        for connection in list(state.connections):
            if connection is but or connection.held is not None or connection.closed:
                continue
            if not connection.offer(frame):
                self._cut_soon(connection, CloseCode.SLOW_CONSUMER)

    def _heard_from(
        self, state: _SessionState, origin: str, users: set[int], now: float | None
    ) -> None:
        """Another process's users are now `users`: show those who came or went (unless
        another connection of theirs, here or elsewhere, keeps them online)."""
        before = state.there.get(origin, set())
        changed = before ^ users
        was = {u: state.online(u) for u in changed}
        if users or now is not None:
            state.there[origin] = users
        else:
            state.there.pop(origin, None)
        if now is not None:
            state.heard[origin] = now
        else:
            state.heard.pop(origin, None)
        for user_id in changed:
            if state.online(user_id) != was[user_id]:
                self._show_presence(state, user_id, not was[user_id])

    async def _on_presence(
        self, session_id: int, state: _SessionState, event: dict[str, Any]
    ) -> None:
        origin = str(event.get("origin"))
        if origin == self._origin:
            return  # this process's own: shown here already
        now = time.monotonic()
        if event["type"] == "here":
            for user in event["users"]:
                state.names[int(user["id"])] = str(user["name"])
            self._heard_from(state, origin, {int(u["id"]) for u in event["users"]}, now)
            return
        user_id = int(event["user"]["id"])
        state.names[user_id] = str(event["user"]["name"])
        users = set(state.there.get(origin, set()))
        if event["online"]:
            users.add(user_id)
        else:
            users.discard(user_id)
        self._heard_from(state, origin, users, now)
        if event.get("hello") and state.here:
            await self._tell_list(session_id, state)

    async def _presence_round(self, now: float) -> None:
        """Every PRESENCE_SECONDS: say who is here; forget processes silent for three rounds."""
        for session_id, state in list(self._sessions.items()):
            for origin, heard in list(state.heard.items()):
                if now - heard > 3 * PRESENCE_SECONDS:
                    self._heard_from(state, origin, set(), None)
            if state.here:
                await self._tell_list(session_id, state)

    # --- delivering stored messages --------------------------------------------------------

    async def _publish_stored(self, session_id: int, room: str, messages: list[Stored]) -> None:
        """The writer's callback, once a batch is committed: this process's own rooms get
        the messages directly; the other processes through the broker."""
        await self._deliver_stored(session_id, room, messages)
        if self.broker.shared:
            await self.broker.publish(
                session_id,
                {
                    "type": "stored",
                    "room": room,
                    "origin": self._origin,
                    "messages": [m.frame() for m in messages],
                },
            )

    async def _on_event(self, session_id: int, event: dict[str, Any]) -> None:
        state = self._sessions.get(session_id)
        if state is None:
            return
        if event.get("type") in ("presence", "here"):
            await self._on_presence(session_id, state, event)
            return
        if event.get("type") != "stored":
            event.pop("origin", None)  # the publishing process's, not for clients
            frame = _frame(event)
            room = event.get("room")
            for connection in list(state.connections):
                visible = room is None or may_read(connection.participant, room)
                live = connection.held is None and not connection.closed
                if visible and live and not connection.offer(frame):
                    self._cut_soon(connection, CloseCode.SLOW_CONSUMER)
            return
        if event.get("origin") == self._origin:
            return  # our own writer's: delivered here already
        room = event["room"]
        await self._deliver_stored(
            session_id, room, [_stored(session_id, room, m) for m in event["messages"]]
        )

    async def _deliver_stored(self, session_id: int, room: str, messages: list[Stored]) -> None:
        """Deliver a room's stored messages in sequence order: each once, and a gap (another
        process's message whose event has not arrived yet, or was lost) filled from the
        database first, where it is, being committed."""
        state = self._sessions.get(session_id)
        if state is None:
            return
        async with state.lock:
            current = state.rooms[room]
            for message in messages:
                if message.seq <= current.delivered:
                    continue  # a duplicate
                if message.seq > current.delivered + 1:
                    for missing in await messages_after(
                        session_id, room, current.delivered, message.seq - current.delivered - 1
                    ):
                        self._fan_out(state, missing)
                        current.delivered = missing.seq
                if message.seq == current.delivered + 1:
                    self._fan_out(state, message)
                    current.delivered = message.seq

    def _fan_out(self, state: _SessionState, message: Stored) -> None:
        state.rooms[message.room].recent.append(message)
        # Nothing here awaits, so the set of connections cannot change under the loop.
        everyone = message.room == JOINT and not message.concession
        for connection in state.connections:
            if everyone or message.visible_to(connection.participant):
                self._deliver_one(connection, message)
        if message.kind == "control":
            self._control(state, message)

    def _deliver_one(self, connection: Connection, message: Stored) -> None:
        if connection.closed:
            return
        if connection.held is not None:
            if len(connection.held) >= QUEUE_LIMIT:  # held during a replay, bounded too
                self._cut_soon(connection, CloseCode.SLOW_CONSUMER)
            else:
                connection.held.append(message)
            return
        if message.seq <= connection.sent.get(message.room, 0):
            return  # already sent, by the replay
        if connection.offer(message.text):
            connection.sent[message.room] = message.seq
        else:
            self._cut_soon(connection, CloseCode.SLOW_CONSUMER)

    # --- lost events -------------------------------------------------------------------------

    async def _watch_rooms(self) -> None:
        behind: dict[tuple[int, str], int] = {}
        failing = False
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                behind = await self._fill_lost(behind)
                failing = False
            except Exception:  # the database is away: look again next time, say so once
                if not failing:
                    log.warning("checking the rooms for lost messages failed", exc_info=True)
                failing = True

    async def _fill_lost(self, behind: dict[tuple[int, str], int]) -> dict[tuple[int, str], int]:
        """Fill each room that is still behind what was stored at the previous look; returns
        the rooms behind now (room -> its stored last sequence), for the next look."""
        if not self._sessions:
            return {}
        now_behind: dict[tuple[int, str], int] = {}
        for (session_id, room), last in (await rooms_lasts(list(self._sessions))).items():
            state = self._sessions.get(session_id)
            if state is None or room not in state.rooms:
                continue
            delivered = state.rooms[room].delivered
            if last <= delivered:
                continue
            if behind.get((session_id, room), 0) > delivered:
                await self._fill(state, session_id, room, last)  # lost, not on its way
            else:
                now_behind[(session_id, room)] = last
        return now_behind

    # --- the heartbeat -------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        tick = min(1.0, HEARTBEAT_SECONDS / 4, PRESENCE_SECONDS / 2)
        presence_at = time.monotonic() + PRESENCE_SECONDS
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            try:
                self._beat_once(now)
                if self.broker.shared and now >= presence_at:
                    presence_at = now + PRESENCE_SECONDS
                    await self._presence_round(now)
                for session_id, state in list(self._sessions.items()):
                    if state.empty_since is not None and now - state.empty_since >= LINGER_SECONDS:
                        await self._forget(session_id, now)
            except Exception:  # never let one bad connection stop every heartbeat
                log.exception("the room heartbeat failed")

    def _beat_once(self, now: float) -> None:
        for state in list(self._sessions.values()):
            for connection in list(state.connections):
                if connection.closed:
                    continue
                if now - connection.last_seen >= IDLE_TIMEOUT_SECONDS:
                    self._cut_soon(connection, CloseCode.HEARTBEAT_TIMEOUT)
                elif now >= connection.ping_at:
                    connection.ping_at = now + HEARTBEAT_SECONDS
                    if not connection.offer(PING):
                        self._cut_soon(connection, CloseCode.SLOW_CONSUMER)

    # --- the mediator's controls -------------------------------------------------------------

    @staticmethod
    def _apply_control(state: _SessionState, body: dict[str, Any]) -> None:
        action, user_id = body.get("action"), body.get("user_id")
        if action == Control.MUTE and isinstance(user_id, int):
            state.muted.add(user_id)
        elif action == Control.UNMUTE and isinstance(user_id, int):
            state.muted.discard(user_id)
        elif action == Control.REMOVE and isinstance(user_id, int):
            state.removed.add(user_id)
        elif action == Control.END:
            state.ended = True

    def _control(self, state: _SessionState, message: Stored) -> None:
        """Apply a control everyone has now received; end and removal close connections
        after the control frame itself has gone out."""
        self._apply_control(state, message.body)
        action, user_id = message.body.get("action"), message.body.get("user_id")
        for connection in list(state.connections):
            code = None
            if action == Control.END:
                code = CloseCode.SESSION_ENDED
            elif action == Control.REMOVE and connection.participant.user_id == user_id:
                code = CloseCode.REMOVED
            if code is not None and not connection.offer(close_after(code)):
                self._cut_soon(connection, code)  # its queue is full: close it now


_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process, when the server has started: what exists by then (modules, the
    ORM's and the templates' machinery: about 100,000 objects) lives as long as the process,
    so the garbage collector's full collections need not go through it again. Each of them
    otherwise stalls every room of the process for 50-150 ms."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


CLOSE_MARK = "\x00close:"


def close_after(code: int) -> str:
    """A queue entry telling the connection's sender to close with `code` when it gets here."""
    return f"{CLOSE_MARK}{code}"


def _presence_frame(state: _SessionState, user_id: int, online: bool) -> str:
    user = {"id": user_id, "name": state.names.get(user_id, "")}
    return _frame({"type": "presence", "online": online, "user": user})


def _frame(event: dict[str, Any]) -> str:
    return json_text(event)  # never fails, even on a bad string stored before the checks


def _stored(session_id: int, room: str, frame: dict[str, Any]) -> Stored:
    return Stored(
        session_id=session_id,
        room=room,
        seq=int(frame["seq"]),
        sender_id=frame["sender"]["id"],
        sender_name=frame["sender"]["name"],
        sender_side=frame["sender"].get("side"),
        kind=frame["kind"],
        body=frame["body"],
        concession=frame["concession"],
        client_id=frame["client_id"],
        at=frame["at"],
    )
