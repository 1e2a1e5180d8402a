"""The court desk's side of the wire, machine to machine (docs/court-wire.md): the capability
links through which the desk fetches a filing's files, and the desk's signed callbacks."""

from __future__ import annotations

import time
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cases.clock import utcnow
from cases.court.actions import CourtLinkRevoked, access_court_link
from cases.court.callbacks import CallbackInvalid, do_apply_court_decision, read_callback
from cases.errors import CaseNotFound
from cases.evidence_store import blob_path
from courtwire import signing
from courtwire.evidence_links import LinkExpired, read_link_token
from mediation.web import settings_of

MAX_CALLBACK_BYTES = 256 * 1024


async def court_evidence(request: Request) -> Response:
    """A capability link the court desk fetches: the token is the permission, for as long as
    it has not expired (COURT_LINK_DAYS) and the filing's links are not revoked; then 410."""
    settings = settings_of(request)
    try:
        link = read_link_token(
            settings.secret_key,
            request.path_params["token"],
            max_age=timedelta(days=settings.court_link_days),
            now=utcnow(),
        )
        if link is None:
            raise CaseNotFound("evidence_not_found")
        served = await access_court_link(link)
    except LinkExpired:
        return PlainTextResponse("link_expired", 410, headers={"Cache-Control": "no-store"})
    except CourtLinkRevoked:
        return PlainTextResponse("link_revoked", 410, headers={"Cache-Control": "no-store"})
    path = blob_path(settings.evidence_dir, served.sha256)
    if not path.is_file():
        raise CaseNotFound("evidence_not_found")
    return FileResponse(
        path,
        media_type=served.media_type,
        filename=served.filename,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def court_callback(request: Request) -> Response:
    """POST /api/v1/court/callbacks: a decision from the court desk (docs/court-wire.md)."""
    settings = settings_of(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
        return JSONResponse({"error": "request_too_large"}, 413)
    body = await request.body()
    if len(body) > MAX_CALLBACK_BYTES:
        return JSONResponse({"error": "request_too_large"}, 413)
    try:
        signing.verify(settings.court_callback_secret, request.headers, body, int(time.time()))
    except signing.SignatureError as error:
        return JSONResponse({"error": error.code}, 401)
    webhook_id = request.headers[signing.ID_HEADER]
    if len(webhook_id) > 64:
        return JSONResponse({"error": "invalid_callback", "details": ["bad_webhook_id"]}, 422)
    try:
        decision = read_callback(request.headers.get("content-type", ""), body)
    except CallbackInvalid as error:
        return JSONResponse({"error": "invalid_callback", "details": [error.code]}, 422)
    result = await do_apply_court_decision(webhook_id, decision, utcnow())
    if not result.known:
        return JSONResponse({"error": "unknown_filing"}, 404)
    return JSONResponse({"applied": result.applied})


routes = [
    Route("/court/evidence/{token}", court_evidence),
    Route("/api/v1/court/callbacks", court_callback, methods=["POST"]),
]
