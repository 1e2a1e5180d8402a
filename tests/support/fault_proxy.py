"""An HTTP proxy that sits between two of our server processes and misbehaves on purpose.

The end-to-end court tests put one between the platform and the court desk (filings) and one
between the desk and the platform (callbacks). Each request that reaches the proxy takes the
next fault from its plan (or passes through when the plan is empty), so a test can say
exactly what the network does: "the desk commits, then the answer is lost", "the answer is a
500 after the desk committed", "this callback arrives twice", "this one arrives after the
next one".

The proxy is a real HTTP server (uvicorn in a thread of the test process; it keeps no
database, so it does not touch the ORM's one-context-per-process rule).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.live_server import free_port

# Headers that describe one hop of the connection, not the message (RFC 9110 section 7.6.1).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


class Fault(StrEnum):
    PASS = "pass"  # forward, answer with the upstream's answer
    REFUSE = "refuse"  # answer 503 with Retry-After, forward nothing (the upstream is "down")
    ERROR_AFTER_COMMIT = "error_after_commit"  # forward, then answer 500 instead
    HANG_AFTER_COMMIT = "hang_after_commit"  # forward, then hold the answer past any timeout
    DUPLICATE = "duplicate"  # forward twice, answer with the first answer
    # Answer 503 now (and to its retries); forward it later, after the next forwarded request.
    DEFER = "defer"
    KILL_AFTER_COMMIT = "kill_after_commit"  # forward, run the `on_kill` hook, then hang


@dataclass
class Passage:
    """What the proxy saw and did for one request."""

    method: str
    path: str
    fault: Fault
    upstream_status: int | None
    answered_status: int | None
    at: float


@dataclass
class _Held:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FaultProxy:
    upstream: str
    plan: deque[Fault] = field(default_factory=deque)
    passages: list[Passage] = field(default_factory=list)
    on_kill: Callable[[], None] | None = None
    retry_after: str = "1"
    hang_seconds: float = 60.0
    _deferred: list[_Held] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *faults: Fault) -> None:
        with self._lock:
            self.plan.extend(faults)

    def _next_fault(self) -> Fault:
        with self._lock:
            return self.plan.popleft() if self.plan else Fault.PASS

    def seen(self, fault: Fault | None = None) -> list[Passage]:
        with self._lock:
            return [p for p in self.passages if fault is None or p.fault is fault]

    def _record(self, passage: Passage) -> None:
        with self._lock:
            self.passages.append(passage)

    async def _forward(self, held: _Held) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.upstream, timeout=30.0) as client:
            return await client.request(
                held.method, held.path, headers=held.headers, content=held.body
            )

    async def _release_deferred(self) -> None:
        with self._lock:
            deferred, self._deferred = self._deferred, []
        for held in deferred:
            response = await self._forward(held)
            self._record(
                Passage(
                    held.method, held.path, Fault.DEFER, response.status_code, None, time.time()
                )
            )

    async def handle(self, request: Request) -> Response:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        held = _Held(request.method, path, headers, await request.body())
        message_id = headers.get("webhook-id")
        with self._lock:
            still_held = message_id is not None and any(
                h.headers.get("webhook-id") == message_id for h in self._deferred
            )
        if still_held:
            # A retry of a message held back: held back too, so it cannot overtake the
            # message that is meant to arrive first.
            self._record(Passage(held.method, path, Fault.DEFER, None, 503, time.time()))
            return Response(status_code=503)
        fault = self._next_fault()

        def passage(upstream: int | None, answered: int | None) -> None:
            self._record(Passage(held.method, path, fault, upstream, answered, time.time()))

        if fault is Fault.REFUSE:
            passage(None, 503)
            return Response(status_code=503, headers={"Retry-After": self.retry_after})
        if fault is Fault.DEFER:
            with self._lock:
                self._deferred.append(held)
            passage(None, 503)
            return Response(status_code=503)

        response = await self._forward(held)
        if fault is Fault.DUPLICATE:
            again = await self._forward(held)
            self._record(Passage(held.method, path, fault, again.status_code, None, time.time()))
        # A deferred request is forwarded after the next one, so it arrives out of order.
        await self._release_deferred()
        if fault is Fault.ERROR_AFTER_COMMIT:
            passage(response.status_code, 500)
            return Response(status_code=500)
        if fault in (Fault.HANG_AFTER_COMMIT, Fault.KILL_AFTER_COMMIT):
            passage(response.status_code, None)
            if fault is Fault.KILL_AFTER_COMMIT and self.on_kill is not None:
                await asyncio.to_thread(self.on_kill)
            await asyncio.sleep(self.hang_seconds)
            return Response(status_code=504)
        passage(response.status_code, response.status_code)
        return Response(
            content=response.content,
            status_code=response.status_code,
            headers={
                k: v
                for k, v in response.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            },
        )

    async def release_deferred(self) -> None:
        """Forward whatever is still held (the end of a test's scenario)."""
        await self._release_deferred()


@contextmanager
def run_fault_proxy(upstream: str, port: int | None = None) -> Iterator[tuple[str, FaultProxy]]:
    """Serve a FaultProxy in front of `upstream`; yields (its base URL, the proxy)."""
    proxy = FaultProxy(upstream=upstream.rstrip("/"))
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    app = Starlette(routes=[Route("/{path:path}", proxy.handle, methods=methods)])
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fault-proxy-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("fault proxy did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", proxy
    finally:
        server.should_exit = True
        thread.join(timeout=10)
