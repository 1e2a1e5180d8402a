"""A stand-in court desk receiver in its own process, with faults a test injects.

Only the receiving half of docs/court-wire.md that the relay meets: it checks the Standard
Webhooks signature (401), keeps each webhook-id once (200 with the same receipt for the same
body, 409 for a different one) and answers 201 with a receipt. Before that, it plays the
next injected fault, if any: an HTTP status with optional Retry-After, a delay longer than
the relay waits, or a dropped connection.

Run as `python -m tests.support.fake_desk PORT` with FAKE_DESK_SECRET in the environment;
`run_fake_desk(secret)` does that and yields a `FakeDesk` to steer it over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from tests.support.live_server import free_port, stop_process

CONTROL = "/_control"


def create_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from courtwire import signing

    secret = os.environ["FAKE_DESK_SECRET"]
    faults: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    seen: dict[str, tuple[str, dict[str, Any]]] = {}

    async def filings(request: Request) -> Response:
        body = await request.body()
        msg_id = request.headers.get("webhook-id", "")
        entry: dict[str, Any] = {
            "msg_id": msg_id,
            "content_type": request.headers.get("content-type", ""),
            "at": time.time(),
        }
        log.append(entry)
        try:
            signing.verify(secret, dict(request.headers), body, int(time.time()))
        except signing.SignatureError as error:
            entry["answer"] = 401
            return JSONResponse({"error": error.code}, 401)
        if faults:
            fault = faults.pop(0)
            entry["fault"] = fault
            if fault.get("delay"):
                await asyncio.sleep(fault["delay"])
            if fault.get("close"):
                # Uvicorn drops the connection when the app fails before answering.
                raise RuntimeError("fault: connection dropped")
            if fault.get("status"):
                headers = {}
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault["retry_after"])
                entry["answer"] = fault["status"]
                return JSONResponse(
                    {"error": fault.get("error", "fault")}, fault["status"], headers=headers
                )
        digest = hashlib.sha256(body).hexdigest()
        if msg_id in seen:
            known_digest, receipt = seen[msg_id]
            if known_digest != digest:
                entry["answer"] = 409
                return JSONResponse({"error": "filing_id_reused"}, 409)
            entry["answer"] = 200
            return JSONResponse(receipt, 200)
        receipt = {
            "receipt_id": uuid.uuid4().hex,
            "filing_id": msg_id,
            "received_at": datetime.now(UTC).isoformat(),
            "status": "received",
        }
        seen[msg_id] = (digest, receipt)
        entry["answer"] = 201
        entry["body"] = body.decode("utf-8")
        return JSONResponse(receipt, 201)

    async def set_faults(request: Request) -> Response:
        faults.extend(await request.json())
        return JSONResponse({"queued": len(faults)})

    async def get_log(request: Request) -> Response:
        return JSONResponse(log)

    async def reset(request: Request) -> Response:
        faults.clear()
        log.clear()
        seen.clear()
        return JSONResponse({})

    async def healthz(request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/api/v1/filings", filings, methods=["POST"]),
            Route(f"{CONTROL}/faults", set_faults, methods=["POST"]),
            Route(f"{CONTROL}/log", get_log),
            Route(f"{CONTROL}/reset", reset, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


class FakeDesk:
    """Steers the fake desk from a test (async: tests run in an event loop)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        async with httpx.AsyncClient() as client:
            response = await client.request(method, f"{self.base_url}{CONTROL}{path}", json=json)
            response.raise_for_status()
            return response.json()

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def inject(self, *faults: dict[str, Any]) -> None:
        await self._call("POST", "/faults", list(faults))

    async def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = await self._call("GET", "/log")
        return entries

    async def received(self) -> list[dict[str, Any]]:
        """The first receipts (201): each filing the desk took in."""
        return [entry for entry in await self.log() if entry.get("answer") == 201]


@contextmanager
def run_fake_desk(secret: str) -> Iterator[FakeDesk]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with TemporaryDirectory(prefix="fake-desk-") as scratch:
        stderr_path = Path(scratch) / "stderr.log"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.fake_desk", str(port)],
                env={**os.environ, "FAKE_DESK_SECRET": secret},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 20
                while True:
                    if process.poll() is not None:
                        raise AssertionError(stderr_path.read_text(errors="replace"))
                    try:
                        if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, "fake desk did not start"
                    time.sleep(0.1)
                yield FakeDesk(base_url)
            finally:
                stop_process(process)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
