"""The platform's doors against a live server (real HTTP, a real WebSocket client):

- the room's WebSocket refuses a handshake from another site's page (403 before accepting),
  even with a valid cookie;
- request bodies are bounded as their bytes arrive: a 150 MB upload and a 100 MB partner
  API body are answered 413 long before they are all sent, and a declared length over the
  bound is refused without reading anything.
"""

from __future__ import annotations

import asyncio
import json
import re
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from mediation.middleware import API_BYTES, UPLOAD_BYTES
from tests.support.live_server import run_with_orm
from tests.support.rooms import LiveRoom, live_room, ws_url

PARTNER_ORIGIN = "https://app.partner.example"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    env = {"ALLOWED_ORIGINS": f"{PARTNER_ORIGIN}/, https://other.partner.example"}
    with live_room(template_database, tmp_path_factory.mktemp("doors"), env) as room:
        yield room


# --- The WebSocket's Origin ---------------------------------------------------------------


async def handshake(live: LiveRoom, origin: str | None) -> int:
    """101 and the room's welcome, or the HTTP status the handshake was refused with."""
    try:
        async with connect(
            ws_url(live.base, live.world.room.session_id),
            additional_headers={"Cookie": live.cookies["applicant"]},
            origin=origin,  # type: ignore[arg-type]
        ) as socket:
            await socket.send(json.dumps({"type": "resume", "rooms": {}}))
            async with asyncio.timeout(10):
                while True:
                    frame = json.loads(await socket.recv())
                    if frame["type"] == "welcome":
                        return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        pytest.param("http://evil.example", 403, id="another site"),
        pytest.param("null", 403, id="opaque origin (sandboxed frame, file:)"),
        pytest.param("http://localhost:1", 403, id="same machine, another origin"),
        pytest.param("SAME", 101, id="the platform's own"),
        pytest.param(PARTNER_ORIGIN, 101, id="configured extra origin"),
        pytest.param(None, 101, id="no Origin: not a browser"),
    ],
)
def test_the_room_door_admits_its_own_origin_only(
    live: LiveRoom, origin: str | None, status: int
) -> None:
    if origin == "SAME":
        origin = live.base  # http://127.0.0.1:<port>, the server's BASE_URL
    assert asyncio.run(handshake(live, origin)) == status


# --- Bodies bounded as they arrive ----------------------------------------------------------


@dataclass
class Answer:
    status: int
    head: str
    body: str
    sent: int  # body bytes written before the answer came


def stream_request(base: str, head: str, prefix: bytes, total: int, chunk: int = MIB) -> Answer:
    """Send a chunked request of `total` body bytes (`prefix`, then zeros), watching for an
    answer after every chunk: returns it with how much of the body had gone out by then."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port))
    try:
        sock.sendall(head.encode("latin-1") + b"Transfer-Encoding: chunked\r\n\r\n")
        sock.setblocking(False)
        sent, pending = 0, b""
        filler = b"\0" * chunk
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not pending and sent < total:
                piece = prefix if sent == 0 else filler[: min(chunk, total - sent)]
                sent += len(piece)
                pending = b"%x\r\n" % len(piece) + piece + b"\r\n"
                if sent >= total:
                    pending += b"0\r\n\r\n"
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 5)
            if readable:
                return _read_answer(sock, sent - len(pending))
            if writable:
                try:
                    pending = pending[sock.send(pending) :]
                except (BrokenPipeError, ConnectionResetError):
                    return _read_answer(sock, sent - len(pending))
        raise AssertionError("no answer within 120 s")
    finally:
        sock.close()


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    sock.setblocking(True)
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data) < _expected(data):
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return Answer(status, head.decode("latin-1"), body.decode("utf-8", "replace"), max(sent, 0))


def _expected(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?i)content-length: (\d+)", head)
    return len(head) + 4 + int(found.group(1)) if found else 0


def csrf_and_cookie(live: LiveRoom, path: str) -> tuple[str, str]:
    with httpx.Client(base_url=live.base) as http:
        page = http.get(path, headers={"Cookie": live.cookies["applicant"]})
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        return token.group(1), live.cookies["applicant"]


def test_a_150_mb_upload_is_refused_as_it_arrives(live: LiveRoom) -> None:
    token, cookie = csrf_and_cookie(live, "/file")
    boundary = "----bound"
    prefix = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
        'filename="video.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    head = (
        f"POST /file HTTP/1.1\r\nHost: {urlsplit(live.base).netloc}\r\nCookie: {cookie}\r\n"
        f"Accept-Language: zh-CN\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
    )
    answer = stream_request(live.base, head, prefix, 150 * MIB)
    assert answer.status == 413, answer.head
    assert "每个文件不超过 20 MB" in answer.body, answer.body[-1500:]
    # Answered once the file passed 20 MB: far from all 150 MB went out (what was sent
    # beyond 20 MB sat in the sockets' buffers).
    assert answer.sent < 60 * MIB, f"{answer.sent / MIB:.0f} MB sent before the answer"


def test_a_100_mb_partner_api_body_is_refused_as_it_arrives(live: LiveRoom) -> None:
    from cases.accounts.actions import do_create_partner

    _, key = run_with_orm(live.database_url, lambda: do_create_partner("限额测试平台"))
    head = (
        f"POST /api/v1/disputes HTTP/1.1\r\nHost: {urlsplit(live.base).netloc}\r\n"
        f"Authorization: Bearer {key}\r\nIdempotency-Key: big-body-1\r\n"
        "Content-Type: application/json\r\nAccept-Language: zh-CN\r\n"
    )
    answer = stream_request(live.base, head, b'{"padding": "', 100 * MIB)
    assert answer.status == 413, answer.head
    assert json.loads(answer.body) == {"error": "request_too_large", "message": "请求内容过大。"}
    assert answer.sent < API_BYTES + 20 * MIB, f"{answer.sent / MIB:.0f} MB sent before the answer"


def test_a_declared_length_over_the_bound_is_refused_unread(live: LiveRoom) -> None:
    _token, cookie = csrf_and_cookie(live, "/file")
    url = urlsplit(live.base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /file HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: {cookie}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {UPLOAD_BYTES + 1}\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        # Nothing of the body is sent: the answer comes from the headers alone (and no
        # "100 Continue" invites the client to send it).
        answer = _read_answer(sock, 0)
    assert answer.status == 413, answer.head
    assert "请求内容过大。" in answer.body
