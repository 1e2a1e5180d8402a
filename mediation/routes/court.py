"""Ending mediation and going to the court: the mediator's end form, the applicant's transfer,
the parties' joint confirmation application, corrections, the court's callbacks, the court's
evidence links, and the admins' dead letters."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from cases.access import Viewer, viewer_of
from cases.accounts.models import Role, User
from cases.clock import utcnow
from cases.court.actions import (
    CourtLinkRevoked,
    PrecheckBlocked,
    access_court_link,
    correction_defaults,
    court_overview,
    do_admin_revoke_court_links,
    do_join_confirmation,
    do_replay_dead_letter,
    do_request_transfer,
    do_resubmit_corrected,
    evidence_of,
    pending_confirmation,
    precheck_for_confirmation,
    precheck_for_correction,
    returned_filing,
)
from cases.court.callbacks import CallbackInvalid, do_apply_court_decision, read_callback
from cases.court.handoff import body_preview, dead_letters, waiting_letters
from cases.court.precheck import Precheck
from cases.court.records import transfer_precheck
from cases.endings.actions import (
    ENDINGS,
    OTHER_ROUTES,
    OutcomeInvalid,
    access_as_mediator,
    access_as_party,
    do_end_mediation,
)
from cases.errors import CaseNotFound
from cases.evidence_store import blob_path
from cases.models import Case, CourtFiling
from cases.status import Status
from courtwire import signing
from courtwire.evidence_links import LinkExpired, read_link_token
from mediation.court_view import (
    _labels,
    finding_lines,
)
from mediation.i18n import N_
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, gettext, render, settings_of, signed_in

MAX_CALLBACK_BYTES = 256 * 1024


def _viewer(request: Request) -> Viewer:
    user: User = request.state.user
    return viewer_of(user)


# --- the mediator ends mediation ----------------------------------------------------------------


@signed_in()
async def end_mediation(request: Request) -> Response:
    viewer = _viewer(request)
    number = request.path_params["number"]
    case = await access_as_mediator(viewer, number)
    overview = await court_overview(case)
    values: dict[str, str] = {}
    if overview.end_record is not None:
        record = overview.end_record
        values = {
            "ending": str(record.ending),
            "undisputed_facts": record.undisputed_facts,
            "reasons_for_failure": record.reasons_for_failure,
            "cost_raising_conduct": record.cost_raising_conduct,
        }
    if request.method == "GET":
        return _end_page(request, case, overview, values, {})
    async with checked_form(request) as form:
        values = form_text(form)
    try:
        await do_end_mediation(viewer, number, values, utcnow())
    except OutcomeInvalid as error:
        return _end_page(request, case, overview, values, error.field_errors, 422)
    return RedirectResponse(f"/cases/{number}#court", status_code=303)


def _end_page(
    request: Request,
    case: Case,
    overview: Any,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "mediator/end_mediation.html",
        {
            "case": case,
            "record": overview.end_record,
            "values": values,
            "errors": errors,
            "endings": [e.value for e in ENDINGS],
            "other_routes": OTHER_ROUTES,
            **_labels(),
        },
        status=status,
    )


# --- the applicant asks for a transfer to litigation --------------------------------------------


@signed_in()
async def transfer(request: Request) -> Response:
    viewer = _viewer(request)
    number = request.path_params["number"]
    case, side = await access_as_party(viewer, number)
    if request.method == "POST":
        async with checked_form(request) as form:
            values = form_text(form)
        try:
            await do_request_transfer(
                viewer,
                number,
                settings_of(request),
                utcnow(),
                wire_format=values.get("wire_format"),
            )
        except PrecheckBlocked as error:
            return await _transfer_page(request, case, side, error.precheck, 422)
        return RedirectResponse(f"/cases/{number}#court", status_code=303)
    return await _transfer_page(request, case, side, await transfer_precheck(case))


async def _transfer_page(
    request: Request, case: Case, side: str, precheck: Precheck, status: int = 200
) -> Response:
    overview = await court_overview(case)
    return render(
        request,
        "disputant/court_transfer.html",
        {
            "case": case,
            "side": side,
            "record": overview.end_record,
            "findings": finding_lines(request, precheck),
            "ok": precheck.ok,
            "can_apply": side == "applicant" and str(case.status) in ("failed", "timed_out"),
            **_labels(),
        },
        status=status,
    )


# --- the parties apply jointly for judicial confirmation ----------------------------------------


def _evidence_ids(form_values: list[str]) -> list[int]:
    ids = []
    for value in form_values:
        try:
            ids.append(parse_id(value))
        except ValueError:
            continue
    return ids


@signed_in()
async def confirmation(request: Request) -> Response:
    viewer = _viewer(request)
    number = request.path_params["number"]
    case, side = await access_as_party(viewer, number)
    settings = settings_of(request)
    if request.method == "GET":
        precheck = await precheck_for_confirmation(case, settings, utcnow())
        return await _confirmation_page(request, case, side, precheck, [])
    async with checked_form(request) as form:
        values = form_text(form)
        proof_ids = _evidence_ids([v for v in form.getlist("property_proof") if isinstance(v, str)])
    if values.get("action") != "apply":
        # "Check again" with other evidence chosen: nothing is stored.
        precheck = await precheck_for_confirmation(case, settings, utcnow(), proof_ids)
        return await _confirmation_page(request, case, side, precheck, proof_ids)
    try:
        await do_join_confirmation(
            viewer,
            number,
            settings,
            utcnow(),
            property_proof_ids=proof_ids,
            wire_format=values.get("wire_format"),
        )
    except PrecheckBlocked as error:
        return await _confirmation_page(request, case, side, error.precheck, proof_ids, 422)
    return RedirectResponse(f"/cases/{number}#court", status_code=303)


async def _confirmation_page(
    request: Request,
    case: Case,
    side: str,
    precheck: Precheck,
    proof_ids: list[int],
    status: int = 200,
) -> Response:
    pending = await pending_confirmation(case)
    return render(
        request,
        "disputant/court_confirmation.html",
        {
            "case": case,
            "side": side,
            "findings": finding_lines(request, precheck),
            "ok": precheck.ok,
            "evidence": await evidence_of(case),
            "chosen": set(proof_ids),
            "pending": pending,
            "already_applied": pending is not None and side in (pending.applicants or {}),
            "can_apply": str(case.status) == Status.SETTLED,
            **_labels(),
        },
        status=status,
    )


# --- correcting a returned filing ---------------------------------------------------------------


@signed_in()
async def correction(request: Request) -> Response:
    viewer = _viewer(request)
    number = request.path_params["number"]
    case, side = await access_as_party(viewer, number)
    returned = await returned_filing(case)
    if returned is None:
        raise CaseNotFound("not_found")
    values = await correction_defaults(case)
    if request.method == "GET":
        return await _correction_page(request, case, side, returned, values, {}, None)
    async with checked_form(request) as form:
        values = {**values, **form_text(form)}
    try:
        await do_resubmit_corrected(viewer, number, values, settings_of(request), utcnow())
    except OutcomeInvalid as error:
        return await _correction_page(
            request, case, side, returned, values, error.field_errors, None, 422
        )
    except PrecheckBlocked as error:
        return await _correction_page(
            request, case, side, returned, values, {}, error.precheck, 422
        )
    return RedirectResponse(f"/cases/{number}#court", status_code=303)


async def _correction_page(
    request: Request,
    case: Case,
    side: str,
    returned: Any,
    values: dict[str, str],
    errors: dict[str, str],
    precheck: Precheck | None,
    status: int = 200,
) -> Response:
    if precheck is None:
        precheck = await precheck_for_correction(case, returned, settings_of(request), utcnow())
    return render(
        request,
        "disputant/court_correction.html",
        {
            "case": case,
            "side": side,
            "returned": returned,
            "values": values,
            "errors": errors,
            "findings": finding_lines(request, precheck),
            "edits_respondent_address": side == "applicant" and returned.kind == "transfer",
            **_labels(),
        },
        status=status,
    )


# --- the court's side of the wire ---------------------------------------------------------------


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


# --- dead letters -------------------------------------------------------------------------------


@signed_in(Role.PLATFORM_ADMIN)
async def outbox(request: Request) -> Response:
    # Confirms only a revocation that happened (a crafted link cannot make the page say so).
    revoked = request.query_params.get("revoked", "")[:64]
    if revoked and not await CourtFiling.exists(filing_id=revoked, links_revoked_at__isnull=False):
        revoked = ""
    return await _outbox_page(
        request, replayed=request.query_params.get("replayed"), revoked=revoked or None
    )


async def _outbox_page(request: Request, status: int = 200, **extra: Any) -> Response:
    dead = await dead_letters()
    waiting = await waiting_letters()
    return render(
        request,
        "admin/court_outbox.html",
        {
            "dead": dead,
            "waiting": waiting,
            "previews": {row.id: body_preview(row) for row in dead},
            "replayed": None,
            "revoked": None,
            "revoke_error": None,
            "revoke_value": "",
            **extra,
            **_labels(),
        },
        status=status,
    )


@signed_in(Role.PLATFORM_ADMIN)
async def replay(request: Request) -> Response:
    async with checked_form(request):
        pass
    row = await do_replay_dead_letter(_viewer(request), request.path_params["row_id"], utcnow())
    return RedirectResponse(f"/admin/court/outbox?replayed={row.id}", status_code=303)


@signed_in(Role.PLATFORM_ADMIN)
async def revoke_links(request: Request) -> Response:
    """Withdraw a filing's evidence links at once (before COURT_LINK_DAYS runs out)."""
    async with checked_form(request) as form:
        filing_id = form_text(form).get("filing_id", "")
    try:
        await do_admin_revoke_court_links(_viewer(request), filing_id, utcnow())
    except CaseNotFound:
        return await _outbox_page(
            request,
            404,
            revoke_error=gettext(request, N_("No filing has this id.")),
            revoke_value=filing_id,
        )
    return RedirectResponse(f"/admin/court/outbox?revoked={quote(filing_id)}", status_code=303)


routes = [
    Route("/cases/{number:case}/end", end_mediation, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/transfer", transfer, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/confirmation", confirmation, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/correction", correction, methods=["GET", "POST"]),
    Route("/court/evidence/{token}", court_evidence),
    Route("/api/v1/court/callbacks", court_callback, methods=["POST"]),
    Route("/admin/court/outbox", outbox),
    Route("/admin/court/outbox/{row_id:id}/replay", replay, methods=["POST"]),
    Route("/admin/court/links/revoke", revoke_links, methods=["POST"]),
]
