"""Running the court desk in its own process, and filings to send it, for the desk's tests.

The desk is its own application with its own Tortoise context, so tests never open it in
the test process beside another: it runs under uvicorn in a subprocess (`run_desk`), and a
test seeds or inspects its database with `with_desk_orm` only while no other ORM is open.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from courtdesk.db import tortoise_config
from courtwire import signing
from tests.support.live_server import free_port, run_with_orm, stop_process, wait_until_healthy

T = TypeVar("T")
FILING_SECRET = "whsec_" + "ZGVzay10ZXN0cy1maWxpbmctc2VjcmV0LTAwMDAwMDA="
CALLBACK_SECRET = "whsec_" + "ZGVzay10ZXN0cy1jYWxsYmFjay1zZWNyZXQtMDAwMDA="
CLERK = ("wangfang", "王芳", "clerk-password-1")
OTHER_CLERK = ("lijing", "李静", "clerk-password-2")


def with_desk_orm(database_url: str, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with the desk's models on `database_url`, in a loop of its own."""
    return run_with_orm(database_url, work, tortoise_config(database_url))


def make_clerk(database_url: str, clerk: tuple[str, str, str] = CLERK) -> None:
    from courtdesk.accounts import create_clerk

    username, name, password = clerk
    with_desk_orm(database_url, lambda: create_clerk(username, name, password, datetime.now(UTC)))


@dataclass
class Desk:
    url: str
    database_url: str
    log: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20.0, **kwargs)


@contextmanager
def run_desk(
    database_url: str, *, platform_url: str = "http://127.0.0.1:9", **env: str
) -> Iterator[Desk]:
    """`python -m courtdesk serve` on a free port; yields once /healthz answers."""
    port = free_port()
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"desk-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    log = scratch / "desk.log"
    full_env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(scratch / "data"),
        "DESK_DATABASE_URL": database_url,
        "DESK_SECRET_KEY": "desk-test-secret-key-not-for-production",
        "COURT_FILING_SECRET": FILING_SECRET,
        "COURT_CALLBACK_SECRET": CALLBACK_SECRET,
        "PLATFORM_URL": platform_url,
        "DESK_RELAY_INTERVAL": "0.3",
        **env,
    }
    command = [sys.executable, "-m", "courtdesk", "serve", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--no-migrate"],
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(process, url, log, "court desk")
            yield Desk(url=url, database_url=database_url, log=log)
        finally:
            stop_process(process)
            shutil.rmtree(scratch, ignore_errors=True)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """Poll `probe` until it returns something (another process is doing the work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


# --- filings ---------------------------------------------------------------------------------

EVIDENCE_BYTES = b"%PDF-1.4\n% a tour contract\n%%EOF\n"
AGREEMENT_TEXT = "经调解，被申请人于七日内退还申请人团费1500元，双方再无其他争议。"


def package(kind: str = "transfer", **changes: Any) -> dict[str, Any]:
    """A court package as docs/court-wire.md describes it."""
    data: dict[str, Any] = {
        "package_version": "1",
        "kind": kind,
        "corrects": None,
        "applicants": ["applicant"] if kind == "transfer" else ["applicant", "respondent"],
        "case_number": f"CNM-2026-T-{uuid.uuid4().int % 100000:05d}",
        "category": "tour_contract",
        "claim_amount": "3680.00",
        "facts": "申请人报名参加云南六日游，旅行社擅自取消了玉龙雪山行程。",
        "requested_outcome": "请求被申请人退还未履行项目费用。",
        "parties": [
            {
                "side": "applicant",
                "kind": "natural_person",
                "name": "张三",
                "id_number": "310105199001011234",
                "service_address": "zhangsan@example.cn",
            },
            {
                "side": "respondent",
                "kind": "organisation",
                "name": "上海某某旅行社有限公司",
                "id_number": "91310105MA1FL0XX3X",
                "service_address": "上海市长宁区延安西路1号",
            },
        ],
        "evidence": [
            {
                "filename": "旅游合同.pdf",
                "sha256": hashlib.sha256(EVIDENCE_BYTES).hexdigest(),
                "media_type": "application/pdf",
                "size": len(EVIDENCE_BYTES),
                "side": "applicant",
                "url": "http://127.0.0.1:9/court/evidence/token",
            }
        ],
        "failure": None,
        "agreement": None,
        "timeline": [
            {"kind": "filed", "at": "2026-11-02T09:00:00+08:00", "data": {"number": "x"}},
            {
                "kind": "status_changed",
                "at": "2026-11-20T16:00:00+08:00",
                "data": {"from": "in_mediation", "to": "failed"},
            },
        ],
        "precheck": None,
    }
    if kind == "transfer":
        data["failure"] = {
            "undisputed_facts": "双方确认合同签订及行程取消的事实。",
            "reasons_for_failure": "双方对赔偿金额分歧较大。",
            "cost_raising_conduct": "",
        }
    else:
        data["agreement"] = {
            "text": AGREEMENT_TEXT,
            "sha256": hashlib.sha256(AGREEMENT_TEXT.encode()).hexdigest(),
            "signed_at": "2026-11-20T15:00:00+08:00",
            "pdf_url": None,
            "pdf_sha256": None,
        }
        data["precheck"] = {
            "ok": True,
            "findings": [
                {
                    "code": "service_address_missing",
                    "ground": "art354",
                    "blocks": False,
                    "params": {"side": "respondent", "name": "上海某某旅行社有限公司"},
                }
            ],
        }
    data.update(changes)
    return data


def cloudevent(data: dict[str, Any], filing_id: str | None = None) -> tuple[str, bytes]:
    filing_id = filing_id or str(uuid.uuid4())
    event = {
        "specversion": "1.0",
        "id": filing_id,
        "source": "urn:cn:changning-mediation:platform",
        "type": f"cn.changning.mediation.court.{data['kind']}.v1",
        "subject": data["case_number"],
        "time": "2026-11-27T10:00:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:cn:changning-mediation:court-package:1",
        "data": copy.deepcopy(data),
    }
    return filing_id, json.dumps(event, ensure_ascii=False).encode("utf-8")


def signed_headers(
    filing_id: str,
    body: bytes,
    *,
    content_type: str = "application/cloudevents+json",
    secret: str = FILING_SECRET,
    timestamp: int | None = None,
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {**signing.headers_for(secret, filing_id, stamp, body), "content-type": content_type}


def post_filing(
    client: httpx.Client, filing_id: str, body: bytes, **header_options: Any
) -> httpx.Response:
    return client.post(
        "/api/v1/filings", content=body, headers=signed_headers(filing_id, body, **header_options)
    )


def send(
    client: httpx.Client, kind: str = "transfer", **changes: Any
) -> tuple[str, dict[str, Any]]:
    """File a package; returns (filing id, package)."""
    data = package(kind, **changes)
    filing_id, body = cloudevent(data)
    response = post_filing(client, filing_id, body)
    assert response.status_code == 201, response.text
    return filing_id, data


@contextmanager
def signed_in_client(desk: Desk, clerk: tuple[str, str, str] = CLERK) -> Iterator[httpx.Client]:
    """A client holding a clerk's session (signed in through the form)."""
    with desk.client() as client:
        page = client.get("/signin")
        token = csrf_of(page.text)
        response = client.post(
            "/signin",
            data={
                "csrf_token": token,
                "username": clerk[0],
                "password": clerk[2],
                "next": "/inbox",
            },
        )
        assert response.status_code == 303, response.text
        yield client


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# --- the platform's side of the wire, as far as the desk can see it ---------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None


class PlatformStub:
    """A real HTTP server standing where the platform is: it verifies each callback's
    Standard Webhooks signature as the platform does (answering 401 when it fails, 200
    otherwise) and serves evidence files by path."""

    def __init__(self, secret: str = CALLBACK_SECRET) -> None:
        self.secret = secret
        self.callbacks: list[Received] = []
        self.files: dict[str, bytes] = {}
        self.gone: set[str] = set()  # paths answered 410 (an expired or revoked link)
        self.gets: list[str] = []  # every path asked for, in order
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    signing.verify(stub.secret, headers, body, now=int(time.time()))
                except signing.SignatureError as refused:
                    received = Received(headers, body, False, refused.code)
                else:
                    received = Received(headers, body, True, None)
                with stub._lock:
                    stub.callbacks.append(received)
                status = 200 if received.verified else 401
                answer = json.dumps({"applied": received.verified}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                with stub._lock:
                    stub.gets.append(self.path)
                if self.path in stub.gone:
                    self.send_response(410)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                content = stub.files.get(self.path)
                if content is None:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PlatformStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def wait_for_callbacks(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.callbacks) >= count:
                    return list(self.callbacks)
            time.sleep(0.05)
        with self._lock:
            got = len(self.callbacks)
        raise AssertionError(f"expected {count} callback(s) within {timeout} s, got {got}")


# RFC 3986 URI-reference characters: unreserved, reserved, and "%" with two hex digits.
_URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def is_uri_reference(value: str) -> bool:
    """Whether `value` is made only of what an RFC 3986 URI-reference may hold (as the
    CloudEvents JSON schema's `format: uri-reference` demands of `source`)."""
    return _URI_REFERENCE.fullmatch(value) is not None
