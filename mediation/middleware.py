"""The shell's ASGI layers: security headers, bounded request bodies, the WebSocket Origin
check, the proxy headers believed only from configured proxies, and the access log.

They work on raw ASGI messages (not Starlette's BaseHTTPMiddleware), so a body is counted
as its bytes arrive and nothing is buffered on the way.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cases.evidence_files import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES
from mediation.routes.court_api import MAX_CALLBACK_BYTES
from mediation.routes.partner_api import MAX_BODY as API_BYTES
from mediation.routes.verification import MAX_FORM_BYTES as VERIFY_BYTES
from mediation.web import BodyTooLarge

access_log = logging.getLogger("access")
security_log = logging.getLogger("security.admin")
websocket_log = logging.getLogger("security.websocket")

MIB = 1024 * 1024
# Ten evidence files of the largest size in one form, and the form's own fields around them.
UPLOAD_BYTES = MAX_EVIDENCE_FILES * MAX_EVIDENCE_BYTES + MIB
# The court's callbacks (MAX_CALLBACK_BYTES), the partner API's JSON (API_BYTES) and the
# public check page's one presented PDF (VERIFY_BYTES) have their routes' own bounds, now
# enforced as the bytes arrive, before the route has read them all.
# Every other form: text fields only.
FORM_BYTES = 2 * MIB

_UPLOAD_PATH = re.compile(r"^/(file|cases/[^/]+/evidence)$")


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may carry."""
    if _UPLOAD_PATH.match(path):
        return UPLOAD_BYTES
    if path == "/api/v1/court/callbacks":
        return MAX_CALLBACK_BYTES
    if path.startswith("/api/"):
        return API_BYTES
    if path.startswith("/verify/"):
        # Above the route's own bound, so its cut (with the page saying the PDF is too
        # large) comes first; this one stops whatever the route would not.
        return VERIFY_BYTES + MIB
    return FORM_BYTES


class BodyLimit:
    """Refuses a body over its route's bound: at once if Content-Length says so, else as
    soon as the counted bytes of a chunked body pass it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            too_large = True
        else:
            too_large = False
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if too_large:
                # Raised before the first read: the body is never asked for (nor a
                # "100 Continue" sent to a client waiting for one).
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, bounded_receive, send)


# Pages are the platform's own: no framing, no inline script or style, nothing from elsewhere.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)
HSTS = "max-age=31536000"


class SecurityHeaders:
    """The same headers on every answer: CSP, no framing, nosniff, the referrer kept on this
    site (invitation links carry tokens), HSTS under https, and `no-store` on everything but
    the static files: every dynamic page either shows personal data, carries a form token of
    the visitor's session, or was reached through a secret link."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", PAGE_CSP.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.headers if n not in names]
                if not static and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_of(url: str) -> str:
    """scheme://host[:port], lower-cased, default ports left out (as browsers send it)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class WebSocketOrigin:
    """Cross-site WebSocket hijacking: a page elsewhere may open our WebSocket, and the
    browser sends the visitor's cookie with it. Browsers always name the page's Origin on a
    WebSocket handshake, so one from another origin (or the opaque "null") is refused with
    403 before accepting. A handshake without Origin is let through: it does not come from
    a browser, so its cookie was given to it by its own operator (the door then checks the
    cookie as for anyone), and tools and tests keep working."""

    def __init__(self, app: ASGIApp, *, allowed: set[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is not None and origin_of(origin) not in self.allowed:
                websocket_log.warning(
                    "websocket refused: origin %s not allowed for %s", origin[:200], scope["path"]
                )
                # Closing before accepting: the server answers the handshake with 403.
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


class AccessLog:
    """One line per request: method, the route's pattern (never the concrete path, which may
    hold an invitation token or a case number), status, the signed-in user's id, the
    address. Actions on administration pages also go to the security log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close" and not status:
                status = 403
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            pattern = getattr(route, "path", None) or (
                "/static/…" if scope["path"].startswith("/static/") else "(no route)"
            )
            session = scope.get("session") or {}
            user = session.get("uid") if isinstance(session, dict) else None
            client = scope.get("client")
            address = client[0] if client else "-"
            method = scope.get("method", "WS")
            who = f"user {user}" if isinstance(user, int) else "visitor"
            access_log.info("%s %s %s %s from %s", method, pattern, status or 500, who, address)
            if method not in ("GET", "HEAD") and _is_admin_action(pattern):
                security_log.info(
                    "admin action: %s %s by %s from %s: %s", method, pattern, who, address, status
                )


def _is_admin_action(pattern: str) -> bool:
    return pattern.startswith("/admin/") or "/override-" in pattern


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
