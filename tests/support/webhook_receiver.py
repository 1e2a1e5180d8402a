"""A partner's webhook receiver in a process of its own, misbehaving on purpose.

    python -m tests.support.webhook_receiver PORT SEEN_FILE SECRET [SECRET ...]

It is `mediation.demo_receiver` (signatures verified, each id applied once, kept in
SEEN_FILE so a restart remembers) with a fault plan in front: each delivery takes the next
fault of the plan, set by the test over HTTP:

- `error`: answer 500 before looking at it (nothing applied);
- `timeout_after_record`: apply it, then hold the answer longer than the relay waits (the
  relay must send it again; the receiver must not apply it twice);
- `slow`: wait a while (less than the relay's timeout), then receive it normally;
- `pass`: receive it normally (also what an empty plan does).

`POST /control/plan` appends faults, `POST /control/secrets` replaces the secrets it verifies
with (a partner following a rotation), `GET /control/state` tells what it applied.
Connection refused is the test stopping this process and starting it again on the port.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import deque
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mediation.demo_receiver import Ledger, receiving

HOLD_SECONDS = 4.0  # longer than the test relay's timeout
SLOW_SECONDS = 0.6  # shorter than it


def build(secrets: list[str], ledger: Ledger) -> Starlette:
    plan: deque[str] = deque()
    used: list[str] = []
    lock = threading.Lock()
    lines: list[str] = []
    receive = receiving(secrets, ledger, lines.append)

    async def deliver(request: Request) -> Response:
        with lock:
            fault = plan.popleft() if plan else "pass"
            used.append(fault)
        if fault == "error":
            return PlainTextResponse("injected failure", status_code=500)
        if fault == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        answer = await receive(request)
        if fault == "timeout_after_record":
            await asyncio.sleep(HOLD_SECONDS)
        return answer

    async def set_plan(request: Request) -> Response:
        with lock:
            plan.extend(str(f) for f in await request.json())
        return JSONResponse({"plan": list(plan)})

    async def set_secrets(request: Request) -> Response:
        secrets[:] = [str(s) for s in await request.json()]
        return JSONResponse({"secrets": len(secrets)})

    async def state(request: Request) -> Response:
        with lock:
            return JSONResponse(
                {
                    "applied": ledger.applied,
                    "repeats": ledger.repeats,
                    "rejected": ledger.rejected,
                    "faults_used": used,
                    "plan_left": list(plan),
                    "lines": lines,
                }
            )

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/control/plan", set_plan, methods=["POST"]),
            Route("/control/secrets", set_secrets, methods=["POST"]),
            Route("/control/state", state, methods=["GET"]),
            Route("/{path:path}", deliver, methods=["POST"]),
        ]
    )


def main() -> None:
    port, seen, *secrets = sys.argv[1:]
    app = build(list(secrets), Ledger(Path(seen)))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
