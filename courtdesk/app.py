"""The desk's ASGI application: `create_app()`, served by `python -m courtdesk serve`.

The relay that delivers the desk's callbacks runs in the same process by default: it wakes
when a decision commits and otherwise looks at the outbox every `relay_interval` seconds.
Rows are claimed with conditional updates, so more desk processes can run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.contrib.starlette import RegisterTortoise

from courtdesk.db import tortoise_config
from courtdesk.errors import DeskError
from courtdesk.models import OutboxMessage
from courtdesk.routes import routes
from courtdesk.settings import DeskSettings, load_settings
from courtdesk.web import TEMPLATES_DIR, error_page
from courtwire.outbox import Relay

log = logging.getLogger("courtdesk")

# Pages are the desk's own: no framing, no scripts or styles from elsewhere.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
PAGE_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def desk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskError)
    if _is_api(request):
        return JSONResponse({"error": exc.code}, exc.status_code)
    return error_page(request, exc.code, exc.status_code, **exc.params)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        return JSONResponse(
            {"error": "not_found" if exc.status_code == 404 else "error"}, exc.status_code
        )
    return error_page(request, "not_found" if exc.status_code == 404 else "error", exc.status_code)


def relay_for(settings: DeskSettings) -> Relay:
    return Relay(
        OutboxMessage,
        destination="platform",
        base_url=settings.platform_url,
        secret=settings.callback_secret,
    )


async def run_relay(relay: Relay, wake: asyncio.Event, interval: float) -> None:
    """Deliver due callbacks until cancelled; a decision's commit wakes it at once."""
    while True:
        wake.clear()
        try:
            while await relay.deliver_due() > 0:
                pass
        except Exception:
            # A database hiccup must not end delivery for the life of the process.
            log.exception("desk outbox relay round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=interval)


def create_app(settings: DeskSettings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            task = None
            if settings.relay:
                wake = asyncio.Event()
                app.state.wake_relay = wake.set
                task = asyncio.create_task(
                    run_relay(relay_for(settings), wake, settings.relay_interval)
                )
            try:
                yield
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = Starlette(
        routes=[
            Mount("/static", StaticFiles(directory=TEMPLATES_DIR / "static"), name="static"),
            *routes,
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="courtdesk_session",
                max_age=12 * 3600,
                same_site="lax",
                https_only=settings.cookie_secure,
            ),
        ],
        exception_handlers={DeskError: desk_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
