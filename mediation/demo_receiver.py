"""A small webhook receiver, as a partner would run one: it verifies each delivery's Standard
Webhooks signature, keeps each `webhook-id` once, and prints every verified delivery.

    python -m mediation.demo_receiver --port 8002 --secret whsec_...

`mediation demo` starts it beside the platform and points the demo partner's endpoint at it.
A request whose signature does not verify is answered 401 (the platform's relay then keeps
it as a dead letter a partner administrator can replay); a repeated id is answered 200
without being applied again (a retry after a lost answer). `--seen FILE` keeps the ids
applied in a file, so a restarted receiver still knows them. Developer tooling, not part of
the platform's pages: its console lines are not translated.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from courtwire import signing


@dataclass
class Ledger:
    """The ids applied so far (optionally kept in a file, one JSON line per delivery)."""

    path: Path | None = None
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.applied[entry["id"]] = entry

    def apply(self, msg_id: str, payload: dict[str, Any]) -> bool:
        """Keep a delivery once; False when the id was applied before."""
        with self._lock:
            if msg_id in self.applied:
                self.repeats += 1
                return False
            entry = {"id": msg_id, "type": payload.get("type"), "payload": payload}
            self.applied[msg_id] = entry
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    out.flush()
            return True


def verified(
    secrets: Sequence[str], headers: Any, body: bytes, tolerance: int = signing.DEFAULT_TOLERANCE
) -> bool:
    """Whether any of the receiver's secrets verifies the request (during a rotation the
    partner may know the old one, the new one, or both)."""
    now = int(time.time())
    for secret in secrets:
        try:
            signing.verify(secret, headers, body, now, tolerance)
        except signing.SignatureError:
            continue
        return True
    return False


def describe(payload: dict[str, Any]) -> str:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    assert isinstance(data, dict)
    parts = [str(payload.get("type", "?"))]
    for name in ("number", "status", "answer", "outcome", "partner"):
        if data.get(name):
            parts.append(f"{name}={data[name]}")
    return " ".join(parts)


Handler = Callable[[Request], Awaitable[Response]]


def receiving(secrets: list[str], ledger: Ledger, say: Callable[[str], None] = print) -> Handler:
    """The handler of one delivery. `secrets` is read on every request (a caller may change
    it in place: the test receiver does, to follow a rotation)."""

    async def receive(request: Request) -> Response:
        body = await request.body()
        if not verified(secrets, request.headers, body):
            ledger.rejected += 1
            say(f"REJECTED {request.headers.get('webhook-id', '?')}: signature not verified")
            return JSONResponse({"error": "bad_signature"}, status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "bad_json"}, status_code=400)
        msg_id = request.headers["webhook-id"]
        if ledger.apply(msg_id, payload):
            say(f"verified delivery {msg_id}: {describe(payload)}")
        else:
            say(f"repeat of {msg_id} (already applied)")
        return JSONResponse({"received": msg_id})

    return receive


def receiver_app(
    secrets: list[str], ledger: Ledger, say: Callable[[str], None] = print
) -> Starlette:
    """The receiver as an ASGI app."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/{path:path}", receiving(secrets, ledger, say), methods=["POST"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument(
        "--secret", action="append", required=True, help="whsec_... (repeat for old and new)"
    )
    parser.add_argument("--seen", type=Path, default=None, help="file keeping applied ids")
    args = parser.parse_args(argv)
    for secret in args.secret:
        signing.check_secret("--secret", secret)

    import uvicorn

    def say(line: str) -> None:
        print(f"[webhook receiver] {line}", flush=True)

    app = receiver_app(list(args.secret), Ledger(args.seen), say)
    say(f"listening on http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
