"""A TCP proxy that can cut the wire: put in front of a database, it lets a test take the
database away from the processes that connect through it, for a few seconds, as a network
fault or a database failover would.

`cut(seconds)` closes every connection passing through and, until the time is up, closes
each new one as soon as it is accepted; after that, connections pass again. `hold()` stops
passing bytes on (a statement sent meanwhile waits, unanswered) until `flow()`. It runs an
asyncio server in a thread of the test process (it keeps no database of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support.live_server import free_port


@dataclass
class TcpProxy:
    upstream_host: str
    upstream_port: int
    port: int = 0
    refusing_until: float = 0.0
    cuts: list[tuple[float, float]] = field(default_factory=list)  # (start, end), time.time()
    _loop: asyncio.AbstractEventLoop | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _flowing: asyncio.Event | None = None

    def cut(self, seconds: float) -> None:
        """Drop every connection now and refuse new ones for `seconds` (from any thread)."""
        assert self._loop is not None
        start = time.time()
        self.refusing_until = time.monotonic() + seconds
        self.cuts.append((start, start + seconds))
        self._loop.call_soon_threadsafe(self._drop_all)

    def hold(self) -> None:
        assert self._loop is not None and self._flowing is not None
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def flow(self) -> None:
        assert self._loop is not None and self._flowing is not None
        self._loop.call_soon_threadsafe(self._flowing.set)

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                assert self._flowing is not None
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self.refusing_until:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.discard(writer)
            self._writers.discard(up_writer)


@contextmanager
def run_tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(upstream_host, upstream_port, port=free_port())
    ready = threading.Event()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        proxy._loop = asyncio.get_running_loop()
        proxy._flowing = asyncio.Event()
        proxy._flowing.set()
        server = await asyncio.start_server(proxy._serve, "127.0.0.1", proxy.port)
        stop.append(asyncio.Event())
        ready.set()
        async with server:
            await stop[0].wait()
            proxy._drop_all()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="tcp-proxy", daemon=True)
    thread.start()
    assert ready.wait(10), "the TCP proxy did not start"
    try:
        yield proxy
    finally:
        assert proxy._loop is not None
        proxy._loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=10)
