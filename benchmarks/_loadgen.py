"""The load generator of benchmarks/realtime.py: a separate process with a lean client.

The `websockets` client saturates near 20,000 deliveries a second on the benchmark machine,
below what the persisted-rate steps need, so this process speaks WebSocket itself: one
`asyncio.Protocol` per connection, frames parsed from the byte stream, client frames masked
as RFC 6455 requires, no permessage-deflate offered (so no server compresses either), and
only the work needed to check each delivery (one `json.loads`).

It is driven by benchmarks/realtime.py over stdin/stdout, one JSON object a line each way:

    {"cmd": "connect", "host", "port", "rooms": [{"path", "cookies": [...]}, ...]}
    {"cmd": "load", "rate", "warmup", "window", "drain", "tag", "server_pid", "server_core"}
    {"cmd": "storm", "missed", "timeout", "tag"}
    {"cmd": "hold", "seconds"}
    {"cmd": "close"}

Every delivery is checked against what was sent: latency from the time the message was
scheduled to be sent (not when it actually went out: a generator that falls behind would
otherwise hide the very delay it causes, "coordinated omission") to each receiver (both ends
in this process, one clock), loss (every delivery owed and not made by the end of the drain,
including all of a message that could not be sent because its sender's connection was
closed), duplicates (the same client_id twice at one receiver) and order (a room sequence
number not above the last one that receiver saw). How late the generator sent (send lag) is
reported for the caller to judge.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import random
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

JOINT = "joint"
OP_CONT, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA
TEXT = "您好，关于退款的金额我们还可以再商量一下吗？"  # a typical line said in a room
PING = '{"type":"ping"}'
FAST = re.compile(rb'\{"type": ?"(message|ack)"')
ROOM = re.compile(rb'"room": ?"([^"]*)"')
SEQ = re.compile(rb'"seq": ?(\d+)')
CID = re.compile(rb'"client_id": ?"([^"]*)"')
TICKS = os.sysconf("SC_CLK_TCK")
perf = time.perf_counter


def cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process, from /proc (psutil is not installed)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def core_busy_seconds(core: int) -> float:
    """Time one CPU spent on anything but idling, from /proc/stat (0.0 for core -1)."""
    if core < 0:
        return 0.0
    with open("/proc/stat", "rb") as stat:
        for line in stat:
            if line.startswith(b"cpu%d " % core):
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(
                    int, line.split()[1:9]
                )
                return (user + nice + system + irq + softirq + steal) / TICKS
    return 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def message(cid: str) -> str:
    """A client's message frame (the text starts with its client_id, as a reader would see)."""
    return f'{{"type":"message","room":"joint","client_id":"{cid}","text":"{cid} {TEXT}"}}'


async def wait_until(done: Callable[[], bool], seconds: float, step: float = 0.02) -> None:
    """Poll `done` every `step` seconds, for at most `seconds`."""
    for _ in range(max(1, math.ceil(seconds / step))):
        if done():
            return
        await asyncio.sleep(step)


def frame_bytes(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN set, masked with a fresh key."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = random.randbytes(4)
    if not n:
        return head + key
    mask = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return head + key + (int.from_bytes(payload, "big") ^ mask).to_bytes(n, "big")


class Member:
    """One participant: survives reconnects (its epochs and last sequence numbers)."""

    __slots__ = (
        "caught_up_at",
        "conn",
        "cookie",
        "epochs",
        "helper",
        "index",
        "last_seq",
        "missed_got",
        "path",
        "position",
        "replays",
        "replays_expected",
        "room",
        "seen",
        "target",
    )

    def __init__(self, index: int, room: int, path: str, cookie: str, helper: bool = False):
        self.index, self.room, self.path, self.cookie, self.helper = (
            index,
            room,
            path,
            cookie,
            helper,
        )
        self.conn: Conn | None = None
        self.epochs: dict[str, str] = {}
        self.last_seq: dict[str, int] = {}
        self.seen: set[str] = set()
        self.replays = 0
        self.replays_expected = -1
        self.target = 0  # storm: the joint seq to reach
        self.position = 0  # storm: the joint seq held when dropped
        self.missed_got = 0
        self.caught_up_at: float | None = None

    @property
    def open(self) -> bool:
        return self.conn is not None and self.conn.is_open


class Conn(asyncio.Protocol):
    """One WebSocket connection, client side."""

    def __init__(self, gen: LoadGen, member: Member) -> None:
        loop = asyncio.get_running_loop()
        self.gen, self.member = gen, member
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.is_open = False
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.ready: asyncio.Future[float] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.fragments: list[bytes] | None = None
        self.close_code: int | None = None
        self.dropped = False  # closed by us (not counted in `closes`)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        key = base64.b64encode(random.randbytes(16)).decode()
        gen = self.gen
        request = (
            f"GET {self.member.path} HTTP/1.1\r\nHost: {gen.host}:{gen.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        )
        if self.member.cookie:
            request += f"Cookie: {self.member.cookie}\r\n"
        self.transport.write((request + "\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_open = False
        for future in (self.handshake, self.ready):
            if not future.done():
                future.set_exception(ConnectionError(f"closed ({self.close_code})"))
                future.exception()  # retrieved here: nobody may be waiting any more
        if not self.lost.done():
            self.lost.set_result(None)
        if self.upgraded and not self.dropped:
            self.gen.closes[str(self.close_code or "connection_lost")] += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            if b" 101 " not in status:
                self.gen.closes[status.decode(errors="replace")[9:12]] += 1
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = self.is_open = True
            self.handshake.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, start = b1 & 0x7F, pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
            if size - start < length:
                break
            payload = bytes(buf[start : start + length])
            pos = start + length
            self._frame(b0 & 0x0F, b0 & 0x80, payload)
        if pos:
            del buf[:pos]

    def _frame(self, opcode: int, fin: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            if fin:
                self.gen.on_text(self.member, self, payload)
            else:
                self.fragments = [payload]
        elif opcode == OP_CONT and self.fragments is not None:
            self.fragments.append(payload)
            if fin:
                whole, self.fragments = b"".join(self.fragments), None
                self.gen.on_text(self.member, self, whole)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if self.is_open:
                self._write(OP_CLOSE, payload[:2])
            self.is_open = False
            if self.transport is not None:
                self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame_bytes(opcode, payload))

    def send_text(self, text: str) -> None:
        if self.is_open:
            self._write(OP_TEXT, text.encode())

    def drop(self) -> None:
        """Like a lost network: no closing handshake."""
        self.is_open, self.dropped = False, True
        if self.transport is not None:
            self.transport.abort()

    async def close(self) -> None:
        self.dropped = True  # our own doing: not counted as a close by the server
        if self.is_open:
            self._write(OP_CLOSE, (1000).to_bytes(2, "big"))
            self.is_open = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.lost), 2.0)
        if self.transport is not None:
            self.transport.abort()


class Sent:
    """One scheduled message: `t` is when it was due, not when it went out."""

    __slots__ = ("acked", "delivered", "in_window", "room", "t")

    def __init__(self, t: float, room: int, in_window: bool) -> None:
        self.t, self.room, self.in_window = t, room, in_window
        self.delivered = 0
        self.acked: float | None = None


class Phase:
    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.expected = 0  # deliveries owed for everything sent
        self.delivered = 0  # distinct deliveries of those
        self.acked = 0
        self.dup = 0
        self.ooo = 0
        self.gaps = 0
        self.frames = 0
        self.ws = float("inf")  # window start and end (perf_counter)
        self.we = float("-inf")
        self.window_deliveries = 0
        self.window_acks = 0
        self.window_sends = 0  # actually written during the window (by the clock)
        self.unsent = 0  # due while the sender's connection was closed: all of it lost
        self.latencies: list[float] = []
        self.ack_latencies: list[float] = []


class LoadGen:
    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.rooms: list[list[Member]] = []
        self.members: list[Member] = []
        self.phase: Phase | None = None
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.bad = 0
        self.helper_acks: dict[int, list[int]] = {}
        self.storm_pending = 0
        self.storm_done: asyncio.Event | None = None

    # --- frames from servers -------------------------------------------------------------

    def on_text(self, member: Member, conn: Conn, payload: bytes) -> None:
        # Messages and acks are most of the traffic: their three fields are read without
        # decoding the whole frame (a quote inside a JSON string is escaped, so `"seq":`
        # can only be the key itself).
        head = FAST.match(payload)
        if head is not None:
            room, seq, cid = ROOM.search(payload), SEQ.search(payload), CID.search(payload)
            if room is not None and seq is not None and cid is not None:
                if head.group(1) == b"message":
                    self._message(member, room[1].decode(), int(seq[1]), cid[1].decode())
                else:
                    self._ack(member, int(seq[1]), cid[1].decode())
                return
        try:
            data = json.loads(payload)
            kind = data["type"]
        except (ValueError, KeyError, TypeError):
            self.bad += 1
            return
        if kind == "message":
            self._message(member, data["room"], int(data["seq"]), data["client_id"])
        elif kind == "ack":
            self._ack(member, int(data["seq"]), data["client_id"])
        elif kind == "ping":
            conn.send_text(PING)
        elif kind == "welcome":
            member.epochs = {r["room"]: r["epoch"] for r in data.get("rooms", [])}
            member.replays, member.replays_expected = 0, len(member.epochs)
            if not member.epochs and not conn.ready.done():
                conn.ready.set_result(perf())
        elif kind == "replayed":
            replayed_room, replayed_seq = str(data.get("room")), int(data.get("seq", 0))
            if replayed_seq > member.last_seq.get(replayed_room, 0):
                member.last_seq[replayed_room] = replayed_seq
            member.replays += 1
            if member.replays >= member.replays_expected and not conn.ready.done():
                conn.ready.set_result(perf())
        elif kind == "error":
            self.errors[str(data.get("code"))] += 1
        elif kind == "reset":
            self.errors[f"reset:{data.get('reason')}"] += 1

    def _message(self, member: Member, room: str, seq: int, cid: str) -> None:
        if member.helper:
            return
        now = perf()
        last = member.last_seq.get(room, 0)
        phase = self.phase
        if phase is not None:
            phase.frames += 1
            if phase.ws <= now < phase.we:
                phase.window_deliveries += 1
            if cid in member.seen:
                phase.dup += 1
                return
            member.seen.add(cid)
            if seq <= last:
                phase.ooo += 1
            elif seq != last + 1:
                phase.gaps += 1
            info = phase.sent.get(cid)
            if info is not None:
                info.delivered += 1
                phase.delivered += 1
                if info.in_window:
                    phase.latencies.append(now - info.t)
        if seq > last:
            member.last_seq[room] = seq
        if member.target and room == JOINT:
            if seq > member.position:
                member.missed_got += 1
            if seq >= member.target and member.caught_up_at is None:
                member.caught_up_at = now
                self.storm_pending -= 1
                if self.storm_pending <= 0 and self.storm_done is not None:
                    self.storm_done.set()

    def _ack(self, member: Member, seq: int, cid: str) -> None:
        if member.helper:
            self.helper_acks.setdefault(member.room, []).append(seq)
            return
        phase = self.phase
        info = phase.sent.get(cid) if phase is not None else None
        if phase is None or info is None or info.acked is not None:
            return
        now = perf()
        info.acked = now
        phase.acked += 1
        if phase.ws <= now < phase.we:
            phase.window_acks += 1
        if info.in_window:
            phase.ack_latencies.append(now - info.t)

    # --- connecting ----------------------------------------------------------------------

    async def _connect(self, member: Member, limit: float, resume: bool) -> float:
        """Connect, resume (with what the member holds, if `resume`), wait for the replay."""
        loop = asyncio.get_running_loop()
        conn = Conn(self, member)
        member.conn = conn
        started = perf()
        try:
            async with asyncio.timeout(limit):
                await loop.create_connection(lambda: conn, self.host, self.port)
                await conn.handshake
                rooms = {}
                if resume:
                    rooms = {
                        room: {"epoch": epoch, "seq": member.last_seq.get(room, 0)}
                        for room, epoch in member.epochs.items()
                    }
                conn.send_text(json.dumps({"type": "resume", "rooms": rooms}))
                await conn.ready
        except BaseException:
            conn.drop()
            raise
        return perf() - started

    async def _connect_all(
        self, members: list[Member], concurrency: int, limit: float, resume: bool
    ) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        failures: Counter[str] = Counter()
        times: list[float] = []

        async def one(member: Member) -> None:
            async with gate:
                try:
                    times.append(await self._connect(member, limit, resume))
                except Exception as error:
                    failures[type(error).__name__ + ": " + str(error)[:60]] += 1

        started = perf()
        await asyncio.gather(*(one(m) for m in members))
        return {
            "ready": len(times),
            "failed": sum(failures.values()),
            "failures": dict(failures.most_common(5)),
            "seconds": perf() - started,
            "connect_p50_ms": (percentile(times, 50) or 0) * 1000,
            "connect_max_ms": max(times, default=0) * 1000,
        }

    async def cmd_connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.host, self.port = cmd["host"], int(cmd["port"])
        for r, room in enumerate(cmd["rooms"]):
            members = [
                Member(len(self.members) + i, r, room["path"], cookie)
                for i, cookie in enumerate(room["cookies"])
            ]
            self.rooms.append(members)
            self.members.extend(members)
        result = await self._connect_all(
            self.members, int(cmd.get("concurrency", 100)), float(cmd.get("timeout", 60)), False
        )
        return result

    async def _heal(self) -> int:
        """Reconnect (resuming) any member the server cut off."""
        closed = [m for m in self.members if not m.open]
        if closed:
            await self._connect_all(closed, 100, 30.0, True)
        return len(closed)

    # --- load ------------------------------------------------------------------------------

    async def cmd_load(self, cmd: dict[str, Any]) -> dict[str, Any]:
        rate, warmup = float(cmd["rate"]), float(cmd["warmup"])
        window, drain, tag = float(cmd["window"]), float(cmd["drain"]), str(cmd["tag"])
        server_pid, core = int(cmd["server_pid"]), int(cmd.get("server_core", -1))
        healed = await self._heal()
        # Consecutive sends go to different rooms: member j of every room, then member j+1.
        order = [
            m
            for j in range(max(map(len, self.rooms)))
            for room in self.rooms
            for m in room[j : j + 1]
        ]
        sizes = [len(room) for room in self.rooms]
        phase = Phase()
        for member in self.members:
            member.seen = set()
        self.phase = phase
        total = int((warmup + window) * rate)
        t0 = perf() + 0.05
        phase.ws, phase.we = t0 + warmup, t0 + warmup + window
        cpu_server = cpu_self = busy = (0.0, 0.0)
        sampled_start = sampled_end = None
        k, max_lag = 0, 0.0
        while k < total:
            now = perf()
            if sampled_start is None and now >= phase.ws:
                sampled_start = now
                cpu_server, cpu_self = (cpu_seconds(server_pid), 0.0), (cpu_seconds("self"), 0.0)
                busy = (core_busy_seconds(core), 0.0)
            due = min(total, int((now - t0) * rate) + 1) if now >= t0 else 0
            if due > k:
                max_lag = max(max_lag, now - (t0 + k / rate))
            while k < due:
                member = order[k % len(order)]
                scheduled = t0 + k / rate
                k += 1
                cid = f"{tag}-{k:08d}"
                # Owed to every member of the room whether or not it can be sent: a sender
                # cut off by the server loses its messages, it does not skip them.
                phase.sent[cid] = Sent(scheduled, member.room, phase.ws <= scheduled < phase.we)
                phase.expected += sizes[member.room]
                if not member.open:
                    phase.unsent += 1
                    continue
                assert member.conn is not None
                member.conn.send_text(message(cid))
                if phase.ws <= now < phase.we:
                    phase.window_sends += 1
            if k >= total:
                break
            await asyncio.sleep(0.002)
        # The window closes when the last message of it has been sent.
        await asyncio.sleep(max(0.0, phase.we - perf()))
        sampled_end = perf()
        cpu_server = (cpu_server[0], cpu_seconds(server_pid))
        cpu_self = (cpu_self[0], cpu_seconds("self"))
        busy = (busy[0], core_busy_seconds(core))
        await wait_until(
            lambda: phase.delivered >= phase.expected and phase.acked >= len(phase.sent), drain
        )
        drained = perf() - sampled_end
        self.phase = None
        measured = sampled_end - (sampled_start or sampled_end)
        lost = sum(max(0, sizes[info.room] - info.delivered) for info in phase.sent.values())
        lat, ack = phase.latencies, phase.ack_latencies

        def ms(value: float | None) -> float | None:
            return None if value is None else value * 1000

        return {
            "rate": rate,
            "scheduled": len(phase.sent),
            "sent": len(phase.sent) - phase.unsent,
            "unsent": phase.unsent,
            "healed": healed,
            "window_s": measured,
            "sent_per_s": phase.window_sends / window,
            "delivered_per_s": phase.window_deliveries / measured if measured else 0,
            "acked_per_s": phase.window_acks / measured if measured else 0,
            "p50_ms": ms(percentile(lat, 50)),
            "p99_ms": ms(percentile(lat, 99)),
            "max_ms": ms(max(lat, default=None)),
            "ack_p50_ms": ms(percentile(ack, 50)),
            "ack_p99_ms": ms(percentile(ack, 99)),
            "samples": len(lat),
            "expected": phase.expected,
            "delivered": phase.delivered,
            "lost": lost,
            "unacked": len(phase.sent) - phase.acked,
            "dup": phase.dup,
            "ooo": phase.ooo,
            "gaps": phase.gaps,
            "drain_s": drained,
            "server_cpu_s": cpu_server[1] - cpu_server[0],
            "loadgen_cpu_s": cpu_self[1] - cpu_self[0],
            # What else ran on the server's core meanwhile (the machine is shared).
            "others_on_server_core_s": max(0.0, busy[1] - busy[0] - (cpu_server[1] - cpu_server[0]))
            if core >= 0
            else None,
            "max_send_lag_ms": max_lag * 1000,
            "open": sum(m.open for m in self.members),
            "errors": dict(self.errors),
            "closes": dict(self.closes),
        }

    # --- the reconnect storm ----------------------------------------------------------------

    async def cmd_storm(self, cmd: dict[str, Any]) -> dict[str, Any]:
        missed, limit = int(cmd["missed"]), float(cmd.get("timeout", 60))
        tag = str(cmd.get("tag", "storm"))  # client_ids must be new to the database
        settle = float(cmd.get("settle", 1.0))
        await self._heal()
        # 1. Everyone drops at once.
        for member in self.members:
            if member.conn is not None:
                member.conn.drop()
            member.position = member.last_seq.get(JOINT, 0)
            member.target, member.missed_got, member.caught_up_at = 0, 0, None
        await asyncio.sleep(settle)
        # 2. Meanwhile each room gets `missed` messages, from one extra connection per room
        # (the room's first participant, signed in a second time).
        helpers = [
            Member(-1 - r, r, room[0].path, room[0].cookie, True)
            for r, room in enumerate(self.rooms)
        ]
        self.helper_acks = {}
        injected_at = perf()
        joined = await self._connect_all(helpers, 100, 30.0, False)
        for helper in helpers:
            for n in range(missed):
                if helper.conn is not None:
                    cid = f"{tag}-{helper.room:05d}-{n:04d}"
                    helper.conn.send_text(message(cid))
        await wait_until(
            lambda: sum(map(len, self.helper_acks.values())) >= missed * len(helpers), limit
        )
        inject_s = perf() - injected_at
        acked = sum(map(len, self.helper_acks.values()))
        await asyncio.gather(*(h.conn.close() for h in helpers if h.conn is not None))
        await asyncio.sleep(settle)
        # 3. Everyone comes back at once, resuming from what they hold.
        for member in self.members:
            acks = self.helper_acks.get(member.room, [])
            member.target = max(acks, default=member.position)
            member.seen = set()
        # Every member is owed all `missed` messages of its room, whether or not the helper
        # could connect or was acknowledged: what does not arrive is lost.
        expected = missed * len(self.members)
        waiting = [m for m in self.members if m.target > m.position]
        self.storm_pending = len(waiting)
        self.storm_done = asyncio.Event()
        phase = Phase()
        self.phase = phase
        started = perf()
        reconnect = asyncio.ensure_future(
            self._connect_all(self.members, len(self.members), limit, True)
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.storm_done.wait(), limit)
        caught = perf() - started
        connected = await reconnect
        self.phase = None
        times = [m.caught_up_at - started for m in waiting if m.caught_up_at is not None]
        got = sum(min(m.missed_got, missed) for m in self.members)
        for member in self.members:
            member.target = 0
        return {
            "clients": len(self.members),
            "missed_each": missed,
            "planned": missed * len(helpers),
            "injected": acked,
            "inject_s": inject_s,
            "helpers_ready": joined["ready"],
            "caught_up": len(times),
            "waiting": len(waiting),
            "all_caught_up_s": caught if len(times) == len(waiting) else None,
            "p50_s": percentile(times, 50),
            "max_s": max(times, default=None),
            "reconnected": connected["ready"],
            "reconnect_failed": connected["failed"],
            "failures": connected["failures"],
            "expected_missed": expected,
            "got_missed": got,
            "lost": expected - got,
            "dup": phase.dup,
            "ooo": phase.ooo,
            "errors": dict(self.errors),
        }

    # --- idle ------------------------------------------------------------------------------

    async def cmd_hold(self, cmd: dict[str, Any]) -> dict[str, Any]:
        seconds = float(cmd["seconds"])
        lowest = sum(m.open for m in self.members)
        end = perf() + seconds
        while perf() < end:
            await asyncio.sleep(min(1.0, max(0.0, end - perf())))
            lowest = min(lowest, sum(m.open for m in self.members))
        return {
            "open": sum(m.open for m in self.members),
            "lowest_open": lowest,
            "closes": dict(self.closes),
            "errors": dict(self.errors),
        }

    async def cmd_close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        conns = [m.conn for m in self.members if m.conn is not None]
        await asyncio.gather(*(c.close() for c in conns))
        return {"closed": len(conns)}


async def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gen = LoadGen()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    handlers = {
        "connect": gen.cmd_connect,
        "load": gen.cmd_load,
        "storm": gen.cmd_storm,
        "hold": gen.cmd_hold,
        "close": gen.cmd_close,
    }
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        try:
            result = await handlers[cmd["cmd"]](cmd)
        except Exception as error:
            result = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        if cmd["cmd"] == "close":
            break
    with contextlib.suppress(Exception):
        await gen.cmd_close({})


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
