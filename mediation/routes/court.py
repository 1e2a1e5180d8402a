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
from mediation.i18n import N_
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, gettext, render, settings_of, signed_in

MAX_CALLBACK_BYTES = 256 * 1024

FILING_STATUS_LABELS = {
    "awaiting_parties": N_("Waiting for the other party to apply"),
    "queued": N_("Being sent to the court"),
    "received": N_("Received by the court"),
    "accepted": N_("Under review by the court"),
    "returned": N_("Returned for correction"),
    "docketed": N_("Docketed"),
    "confirmed": N_("Judicial confirmation granted"),
    "rejected": N_("Judicial confirmation refused"),
}
FILING_KIND_LABELS = {
    "transfer": N_("Transfer to litigation"),
    "confirmation": N_("Application for judicial confirmation"),
}
DELIVERY_LABELS = {
    "pending": N_("waiting to be sent"),
    "retrying": N_("the court's system did not answer yet; retrying"),
    "delivered": N_("delivered"),
    "dead": N_("not delivered; the administrators have been alerted"),
}
ENDING_LABELS = {
    "failed": N_("Mediation failed"),
    "withdrawn": N_("A party withdrew"),
    "timed_out": N_("The time limit was reached"),
}
ROUTE_LABELS = {
    "litigation": N_("Litigation at a people's court"),
    "arbitration": N_("Arbitration, where the parties agreed to it"),
    "administrative": N_("Administrative routes (complaints to the competent authority)"),
}
GROUND_LABELS = {
    "art354": N_("Materials (Civil Procedure interpretation Art. 354)"),
    "art355": N_("Not accepted for confirmation (Art. 355)"),
    "art358": N_("Grounds for rejection (Art. 358)"),
    "art21": N_("Record of failed mediation (online mediation rules Art. 21)"),
}

# Each pre-check finding's sentence (cases.court.precheck codes).
FINDING_MESSAGES = {
    "agreement_not_effective": N_(
        "There is no agreement in effect: every party and the mediator must sign it first."
    ),
    "seal_missing": N_("The agreement does not carry the mediation organisation's seal."),
    "organisation_proof_missing": N_(
        "The case has no mediation organisation or mediator on record, so there is no proof "
        "that an organisation mediated."
    ),
    "no_session_record": N_(
        "No online session is on record; the signed and sealed agreement is the proof of mediation."
    ),
    "party_missing": N_("The %(side)s is missing from the case."),
    "party_id_missing": N_(
        "%(name)s has no identity number (resident ID or unified social credit code) on record."
    ),
    "party_id_invalid": N_("The identity number of %(name)s is not valid."),
    "service_address_missing": N_("%(name)s has no address for service on record."),
    "property_proof_missing": N_(
        "Term %(term)s transfers property: choose the evidence that proves the property rights."
    ),
    "identity_status_matter": N_(
        "Term %(term)s concerns an identity relationship (marriage, adoption, parentage): the "
        "court does not confirm such agreements."
    ),
    "ownership_confirmation": N_(
        "Term %(term)s asks to confirm who owns property or intellectual property: the court "
        "does not confirm such terms."
    ),
    "signature_missing": N_("Signatures are missing (%(roles)s): the agreement is not in effect."),
    "no_terms": N_("The agreement has no terms."),
    "term_without_obligor": N_("Term %(term)s does not say who must perform it."),
    "term_without_manner": N_("Term %(term)s does not say how it is to be performed."),
    "term_without_time_limit": N_("Term %(term)s has no time limit for performance."),
    "term_amount_unclear": N_("The amount in term %(term)s is missing or unclear."),
    "confirmation_deadline_passed": N_(
        "The 30 days for applying ended on %(date)s: the court would reject the application."
    ),
    "confirmation_deadline_near": N_(
        "The 30 days for applying end on %(date)s (%(days)s days left): both parties should "
        "apply soon."
    ),
    "end_record_incomplete": N_(
        "The mediator has not yet completed the record of the failed mediation (the undisputed "
        "facts and why it failed)."
    ),
}
SIDE_WORDS = {
    "applicant": N_("applicant"),
    "respondent": N_("respondent"),
    "mediator": N_("mediator"),
}


def finding_lines(request: Request, precheck: Precheck | dict[str, Any]) -> list[dict[str, Any]]:
    """Each finding with its translated sentence, blocking ones first."""
    raw: dict[str, Any] = precheck.as_json() if isinstance(precheck, Precheck) else precheck
    lines = []
    findings: list[dict[str, Any]] = list(raw.get("findings") or [])
    for finding in findings:
        params = {str(k): str(v) for k, v in (finding.get("params") or {}).items()}
        if "side" in params:
            params["side"] = gettext(request, SIDE_WORDS.get(params["side"], params["side"]))
        if "roles" in params:
            params["roles"] = "、".join(
                gettext(request, SIDE_WORDS.get(role, role)) for role in params["roles"].split(",")
            )
        message = FINDING_MESSAGES.get(finding["code"], finding["code"])
        lines.append(
            {
                "code": finding["code"],
                "blocks": bool(finding.get("blocks")),
                "ground": gettext(request, GROUND_LABELS.get(finding.get("ground", ""), "")),
                "text": gettext(request, message, **params),
            }
        )
    return sorted(lines, key=lambda line: not line["blocks"])


def _viewer(request: Request) -> Viewer:
    user: User = request.state.user
    return viewer_of(user)


def _labels() -> dict[str, Any]:
    return {
        "filing_status_labels": FILING_STATUS_LABELS,
        "filing_kind_labels": FILING_KIND_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "ending_labels": ENDING_LABELS,
        "route_labels": ROUTE_LABELS,
    }


async def court_context(request: Request, case: Case, viewer_side: str | None) -> dict[str, Any]:
    """What the case page's court section needs (included by disputes._case_page)."""
    overview = await court_overview(case)
    viewer = _viewer(request)
    status = str(case.status)
    pending = overview.awaiting
    is_mediator = viewer.role == "mediator" and case.mediator_id == viewer.user_id
    return {
        "court": overview,
        "court_findings": {
            line.filing_id: finding_lines(request, line.precheck) for line in overview.filings
        },
        "court_actions": {
            "end": is_mediator and status == Status.IN_MEDIATION,
            "complete_record": is_mediator
            and overview.end_record is not None
            and status in ("failed", "timed_out", "withdrawn", "returned_for_correction"),
            "transfer": viewer_side == "applicant" and status in ("failed", "timed_out"),
            "confirm": viewer_side is not None
            and status == Status.SETTLED
            and not (pending is not None and viewer_side in pending.applicants),
            "correct": viewer_side is not None
            and overview.returned is not None
            and status == Status.RETURNED_FOR_CORRECTION
            and (overview.returned.kind == "confirmation" or viewer_side == "applicant"),
        },
        **_labels(),
    }


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
