"""The platform's answers carry its security headers; cookies are Secure under https;
methods a route does not take get 405 with `Allow`; a body declared too large is refused
before it is read. (Real HTTP and the browser: test_body_limits.py, test_browser_csp.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mediation.app import create_app
from mediation.middleware import MIB, PAGE_CSP, UPLOAD_BYTES, body_limit
from mediation.settings import Settings
from tests.support.factories import (
    cheap_password_hashing,
    csrf_of,
    filing_fields,
    register,
    row_counts,
)

PAGES = ["/", "/signin", "/register", "/healthz", "/no-such-page"]
SIGNED_IN_PAGES = ["/cases", "/file"]


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def https_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.with_(base_url="https://mediation.example"), background_jobs=False)
    with TestClient(app, base_url="https://mediation.example") as client:
        yield client


def assert_security_headers(headers: dict[str, str] | object, path: str) -> None:
    assert isinstance(headers, dict) or hasattr(headers, "get")
    get = headers.get  # type: ignore[attr-defined]
    csp = get("content-security-policy")
    assert csp == PAGE_CSP, path
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'", path  # no 'unsafe-inline'
    assert directives["style-src"] == "'self'", path
    assert directives["frame-ancestors"] == "'none'", path
    assert get("x-frame-options") == "DENY", path
    assert get("x-content-type-options") == "nosniff", path
    assert get("referrer-policy") == "same-origin", path


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert_security_headers(response.headers, path)
    assert response.headers["cache-control"] == "no-store"
    # Plain http: no HSTS (a browser would ignore it, and it would be a lie).
    assert "strict-transport-security" not in response.headers


def test_signed_in_pages_are_not_stored(client: TestClient) -> None:
    register(client)
    for path in SIGNED_IN_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        assert_security_headers(response.headers, path)
        assert response.headers["cache-control"] == "no-store", path


def test_static_files_may_be_cached_but_keep_the_headers(client: TestClient) -> None:
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("cache-control") != "no-store"


def test_the_api_answers_carry_the_headers_too(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_under_https_hsts_is_sent_and_every_cookie_is_secure(https_client: TestClient) -> None:
    response = https_client.get("/signin")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert_security_headers(response.headers, "/signin")
    session_cookie = response.headers["set-cookie"]
    assert session_cookie.startswith("mediation_session=")
    assert "secure" in session_cookie.lower()
    language = https_client.get("/lang/en", follow_redirects=False)
    assert "secure" in language.headers["set-cookie"].lower()


def test_under_http_cookies_are_not_marked_secure(client: TestClient) -> None:
    # A browser would drop a Secure cookie over plain http (the local demo).
    response = client.get("/signin")
    assert "secure" not in response.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/", {"GET", "HEAD"}),
        ("TRACE", "/api/v1/disputes", {"GET", "HEAD", "POST"}),  # list and file
        ("PUT", "/signin", {"GET", "HEAD", "POST"}),
        ("DELETE", "/api/v1/openapi.json", {"GET", "HEAD"}),
        ("TRACE", "/static/site.css", {"GET", "HEAD"}),
    ],
)
def test_a_method_a_route_does_not_take_gets_405_with_allow(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


def test_a_body_declared_too_large_is_refused_before_it_is_read(client: TestClient) -> None:
    register(client)
    token = csrf_of(client, "/file")
    # The declared length alone refuses it: the (short) body sent is never parsed.
    response = client.post(
        "/file",
        content=f"csrf_token={token}".encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(UPLOAD_BYTES + 1),
        },
    )
    assert response.status_code == 413
    assert "请求内容过大。" in response.text
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/file", 10 * 20 * MIB + MIB),
        ("/cases/CNM-2026-T-00001/evidence", 10 * 20 * MIB + MIB),
        ("/cases/CNM-2026-T-00001/evidence/3", 2 * MIB),
        ("/cases/CNM-2026-T-00001/agreement/versions", 2 * MIB),
        ("/api/v1/disputes", 40 * MIB),
        ("/api/v1/court/callbacks", 256 * 1024),
        ("/verify/abc", 20 * MIB + 64 * 1024 + MIB),
        ("/signin", 2 * MIB),
    ],
)
def test_body_limits_by_route(path: str, limit: int) -> None:
    assert body_limit(path) == limit


def test_a_file_far_over_the_limit_is_cut_off_with_a_clear_error_and_nothing_kept(
    client: TestClient, settings: Settings
) -> None:
    """In process (the live-server test measures the early answer): the parser stops at
    the file bound, says so in the person's language, closes what it spooled, keeps nothing."""
    register(client)
    before = row_counts(client)
    response = client.post(
        "/file",
        data={"csrf_token": csrf_of(client, "/file"), **filing_fields()},
        files=[("evidence", ("video.mp4", b"\0" * (30 * MIB), "video/mp4"))],
    )
    assert response.status_code == 413
    assert (
        "文件过大：每个文件不超过 20 MB，一次最多 10 个文件。本次未保存任何内容，请选择较小的文件。"
        in response.text
    )
    assert row_counts(client) == before
    assert not settings.evidence_dir.exists() or not any(settings.evidence_dir.iterdir())
    client.cookies.set("lang", "en")
    response = client.post(
        "/file",
        data={"csrf_token": csrf_of(client, "/file"), **filing_fields()},
        files=[("evidence", ("video.mp4", b"\0" * (30 * MIB), "video/mp4"))],
    )
    assert "each file may be at most 20 MB, and at most 10 files at a time" in response.text
