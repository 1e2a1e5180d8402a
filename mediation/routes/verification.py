"""The signed agreement's PDF: downloaded by the case's people, checked by anyone.

`/verify/{code}` is public (the link and QR code printed on the PDF): it confirms the
agreement took effect and checks a presented copy, by upload or pasted SHA-256, against the
PDF issued. It shows no personal data and writes nothing, so it needs no sign-in or CSRF
token; uploads are hashed as they stream in and never stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from cases.access import viewer_of
from mediation.agreement_pdf import (
    MAX_PRESENTED_BYTES,
    PDF_MEDIA_TYPE,
    Verification,
    access_signed_pdf,
    access_verification,
    parse_sha256,
    presented_matches,
)
from mediation.labels import SIGNER_ROLE_LABELS
from mediation.web import error_page, render, settings_of, signed_in

# Room for the multipart envelope and the other form field around the file.
MAX_FORM_BYTES = MAX_PRESENTED_BYTES + 64 * 1024
READ_CHUNK = 1024 * 1024


class CappedBody:
    """The request's body, cut off after `limit` bytes: a sender who lies about (or omits)
    Content-Length is stopped while streaming, before the parser spools it all. The cut is
    a MultiPartException, so the parser closes the files it opened."""

    def __init__(self, request: Request, limit: int) -> None:
        self.exceeded = False
        self._receive = request.receive
        self._received = 0
        self._limit = limit
        self.request = Request(request.scope, self._capped_receive)

    async def _capped_receive(self) -> Any:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                self.exceeded = True
                raise MultiPartException("request body too large")
        return message


async def _sha256_of_upload(upload: UploadFile) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := await upload.read(READ_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _page(
    request: Request,
    verification: Verification,
    *,
    result: str | None = None,
    presented: str = "",
    error: str | None = None,
    pasted: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "public/verify.html",
        {
            "v": verification,
            "result": result,
            "presented": presented,
            "error": error,
            "pasted": pasted,
            "max_mb": MAX_PRESENTED_BYTES // (1024 * 1024),
            "role_labels": SIGNER_ROLE_LABELS,
        },
        status=status,
    )


async def verify(request: Request) -> Response:
    verification = await access_verification(request.path_params["code"], settings_of(request))
    if request.method == "GET":
        return _page(request, verification)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return _page(request, verification, error="presented_too_large", status=413)
    body = CappedBody(request, MAX_FORM_BYTES)
    try:
        return await _check(body.request, verification)
    except (HTTPException, MultiPartException):
        # The form parser turns its errors (and our cut) into a bare 400; say what happened.
        if body.exceeded:
            return _page(request, verification, error="presented_too_large", status=413)
        return _page(request, verification, error="presented_unreadable", status=400)


async def _check(request: Request, verification: Verification) -> Response:
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("pdf")
        pasted = form.get("sha256")
        pasted_text = pasted.strip() if isinstance(pasted, str) else ""
        if isinstance(upload, UploadFile) and upload.filename:
            presented, size = await _sha256_of_upload(upload)
            if size == 0:
                return _page(request, verification, error="presented_empty", status=422)
            if size > MAX_PRESENTED_BYTES:
                return _page(request, verification, error="presented_too_large", status=413)
        elif pasted_text:
            parsed = parse_sha256(pasted_text)
            if parsed is None:
                return _page(
                    request, verification, error="sha256_invalid", pasted=pasted_text, status=422
                )
            presented = parsed
        else:
            return _page(request, verification, error="presented_nothing", status=422)
    matches = presented_matches(verification.pdf_sha256, presented)
    return _page(
        request,
        verification,
        result="match" if matches else "mismatch",
        presented=presented,
        pasted=pasted_text,
    )


@signed_in()
async def download_signed_pdf(request: Request) -> Response:
    number = request.path_params["number"]
    version, path = await access_signed_pdf(
        viewer_of(request.state.user), number, settings_of(request).evidence_dir
    )
    if not path.exists():
        # Recorded but missing on this host's disk: a deployment fault, not the asker's.
        return error_page(request, "agreement_pdf_not_found", 404)
    return FileResponse(
        path,
        media_type=PDF_MEDIA_TYPE,
        filename=f"调解协议书-{number}-v{version.number}.pdf",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


routes = [
    Route("/verify/{code}", verify, methods=["GET", "POST"]),
    Route("/cases/{number:case}/agreement.pdf", download_signed_pdf),
]
