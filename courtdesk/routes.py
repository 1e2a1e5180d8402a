"""The desk's routes: thin handlers over receiving, decisions, accounts and evidence."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.expressions import Q
from tortoise.functions import Count

from cases.clock import utcnow
from courtdesk import accounts, decisions, wire
from courtdesk.errors import DeskError
from courtdesk.evidence import EvidenceError, fetch_checked, serving_type
from courtdesk.i18n import LOCALE_COOKIE, LOCALES, N_
from courtdesk.models import Decision, Filing, FilingKind, FilingStatus, OutboxMessage
from courtdesk.receiving import receive_filing
from courtdesk.web import (
    DISPLAY_COOKIE,
    LARGE_TEXT,
    checked_form,
    clerk_of,
    error_text,
    flash,
    gettext,
    precheck_lines,
    render,
    safe_next,
    settings_of,
    sign_in,
    signed_in,
)

log = logging.getLogger("courtdesk")
PAGE_SIZE = 50
RETRY_AFTER = 5  # seconds, when the database cannot take a filing right now
# A served file is the parties' content, not the desk's: it may run nothing here.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
STATUS_FILTERS = ("open", "all", *(s.value for s in FilingStatus))
KIND_FILTERS = ("all", *(k.value for k in FilingKind))


# --- the wire --------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def receive(request: Request) -> Response:
    """POST /api/v1/filings: a signed filing from the platform (docs/court-wire.md)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > wire.MAX_BODY:
            return JSONResponse({"error": "request_too_large"}, 413)
    try:
        answer = await receive_filing(
            secret=settings_of(request).filing_secret,
            headers=dict(request.headers),
            content_type=request.headers.get("content-type", ""),
            body=bytes(body),
            now=utcnow(),
        )
    except (OperationalError, DBConnectionError):
        # The database is busy or away: nothing was stored, so the platform's relay simply
        # tries again (it honours Retry-After).
        log.exception("filing not taken: database unavailable")
        return JSONResponse({"error": "busy"}, 503, headers={"retry-after": str(RETRY_AFTER)})
    return Response(
        answer.body, answer.status, headers=answer.headers, media_type=answer.content_type
    )


# --- signing in ------------------------------------------------------------------------------


async def signin_page(request: Request) -> Response:
    return render(
        request,
        "signin.html",
        {"next": safe_next(request.query_params.get("next")), "username": "", "error": None},
    )


async def signin_submit(request: Request) -> Response:
    settings = settings_of(request)
    async with checked_form(request) as form:
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or ""))
    try:
        clerk = await accounts.sign_in(
            username,
            password,
            utcnow(),
            max_failures=settings.max_sign_in_failures,
            lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        )
    except DeskError as refused:
        return render(
            request,
            "signin.html",
            {"next": target, "username": username, "error": error_text(request, refused.code)},
            status=refused.status_code,
        )
    sign_in(request, clerk)
    return RedirectResponse(target, status_code=303)


@signed_in
async def signout(request: Request) -> Response:
    async with checked_form(request):
        pass
    await accounts.sign_out_everywhere(clerk_of(request))
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


async def choose_language(request: Request) -> Response:
    locale = request.path_params["locale"]
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


async def choose_display(request: Request) -> Response:
    """Large text and high contrast on or off, for this browser."""
    async with checked_form(request) as form:
        on = form.get("large_text") == "on"
        next_ = form.get("next")
    target = safe_next(next_ if isinstance(next_, str) else None)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        DISPLAY_COOKIE,
        LARGE_TEXT if on else "standard",
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
    )
    return response


@signed_in
async def home(request: Request) -> Response:
    return RedirectResponse("/inbox", status_code=303)


# --- the inbox -------------------------------------------------------------------------------


def _filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    status = params.get("status", "open")
    kind = params.get("kind", "all")
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    return {
        "status": status if status in STATUS_FILTERS else "open",
        "kind": kind if kind in KIND_FILTERS else "all",
        "q": params.get("q", "").strip()[:100],
        "page": page,
    }


@signed_in
async def inbox(request: Request) -> Response:
    chosen = _filters(request)
    query = Filing.all()
    if chosen["kind"] != "all":
        query = query.filter(kind=chosen["kind"])
    if chosen["q"]:
        q = chosen["q"]
        query = query.filter(
            Q(case_number__icontains=q)
            | Q(applicant_names__icontains=q)
            | Q(respondent_names__icontains=q)
            | Q(court_case_number__icontains=q)
        )
    # Counts per status for the filter, within the chosen kind and search.
    counts_rows = await query.annotate(n=Count("id")).group_by("status").values("status", "n")
    counts = {str(row["status"]): int(row["n"]) for row in counts_rows}
    counts["open"] = counts.get("received", 0) + counts.get("accepted", 0)
    counts["all"] = sum(counts.get(s.value, 0) for s in FilingStatus)
    if chosen["status"] == "open":
        # The work queue: oldest first, so nothing waits longest by accident.
        query = query.filter(status__in=list(decisions.OPEN)).order_by("received_at", "id")
    elif chosen["status"] == "all":
        query = query.order_by("-received_at", "-id")
    else:
        query = query.filter(status=chosen["status"]).order_by("-received_at", "-id")
    total = await query.count()
    filings = await query.offset((chosen["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    here = {k: v for k, v in chosen.items() if k != "page" and v}
    return render(
        request,
        "inbox.html",
        {
            "filings": filings,
            "chosen": chosen,
            "counts": counts,
            "status_filters": STATUS_FILTERS,
            "kind_filters": KIND_FILTERS,
            "total": total,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "here": urlencode(here),
            "back": "/inbox?" + urlencode({**here, "page": chosen["page"]}),
        },
    )


@signed_in
async def accept_selected(request: Request) -> Response:
    async with checked_form(request) as form:
        selected = [str(v) for v in form.getlist("filing") if isinstance(v, str)]
        back = safe_next(str(form.get("back") or ""), "/inbox")
    if not selected:
        flash(request, "error", error_text(request, "nothing_selected"))
        return RedirectResponse(back, status_code=303)
    accepted, refused = await decisions.accept_many(selected, clerk_of(request), utcnow())
    if accepted:
        wake_relay(request)
        flash(request, "success", gettext(request, N_("Accepted: %(count)s."), count=len(accepted)))
    if refused:
        numbers = {
            f.filing_id: f.case_number
            for f in await Filing.filter(filing_id__in=[fid for fid, _ in refused])
        }
        for filing_id, error in refused:
            text = error_text(request, error.code, **error.params)
            flash(request, "error", f"{numbers.get(filing_id, filing_id)}: {text}")
    return RedirectResponse(back, status_code=303)


# --- one filing ------------------------------------------------------------------------------


async def _filing_or_404(request: Request) -> Filing:
    filing = await Filing.get_or_none(filing_id=request.path_params["filing_id"])
    if filing is None:
        raise DeskError("filing_not_found", 404)
    return filing


async def _filing_page(
    request: Request,
    filing: Filing,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    history = (
        await Decision.filter(filing_id=filing.id).order_by("at", "id").prefetch_related("clerk")
    )
    outbox = {row.msg_id: row for row in await OutboxMessage.filter(filing_id=filing.id)}
    corrected_by = await Filing.filter(corrects=filing.filing_id).order_by("received_at")
    corrects = await Filing.get_or_none(filing_id=filing.corrects) if filing.corrects else None
    package = filing.package
    agreement = package.get("agreement") or None
    agreement_hash_ok = (
        agreement is not None
        and isinstance(agreement.get("text"), str)
        and wire.package_text_sha256(agreement["text"]) == agreement.get("sha256")
    )
    return render(
        request,
        "filing.html",
        {
            "filing": filing,
            "package": package,
            "agreement": agreement,
            "agreement_hash_ok": agreement_hash_ok,
            "findings": precheck_lines(request, package.get("precheck")),
            "history": history,
            "outbox": outbox,
            "corrected_by": corrected_by,
            "corrects": corrects,
            "actions": [a.value for a in decisions.allowed_actions(filing)],
            "type_codes": decisions.TYPE_CODES,
            "default_type_code": decisions.default_type_code(filing.kind.value),
            "error": error,
            "form": form or {},
        },
        status=status,
    )


@signed_in
async def filing_page(request: Request) -> Response:
    return await _filing_page(request, await _filing_or_404(request))


@signed_in
async def decide(request: Request) -> Response:
    filing = await _filing_or_404(request)
    action = request.path_params["action"]
    async with checked_form(request) as form:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
    clerk, now = clerk_of(request), utcnow()
    try:
        if action == "accept":
            decision = await decisions.accept(filing.filing_id, clerk, now)
        elif action == "return":
            decision = await decisions.return_for_correction(
                filing.filing_id, clerk, fields.get("reason", ""), now
            )
        elif action == "docket":
            decision = await decisions.docket(
                filing.filing_id, clerk, fields.get("type_code", ""), now
            )
        elif action == "confirm":
            decision = await decisions.confirm(filing.filing_id, clerk, now)
        elif action == "reject":
            decision = await decisions.reject(
                filing.filing_id, clerk, fields.get("reason", ""), now
            )
        else:
            raise DeskError("not_found", 404)
    except DeskError as refused:
        if refused.status_code == 404:
            raise
        fresh = await Filing.get(id=filing.id)
        return await _filing_page(
            request,
            fresh,
            error=error_text(request, refused.code, **refused.params),
            status=refused.status_code,
            form={**fields, "action": action},
        )
    wake_relay(request)
    if decision.court_case_number and action == "docket":
        flash(
            request,
            "success",
            gettext(request, N_("Docketed as %(number)s."), number=decision.court_case_number),
        )
    else:
        flash(
            request, "success", gettext(request, N_("Decision recorded and sent to the platform."))
        )
    return RedirectResponse(f"/filings/{quote(filing.filing_id)}", status_code=303)


# --- evidence --------------------------------------------------------------------------------


@signed_in
async def evidence_file(request: Request) -> Response:
    filing = await _filing_or_404(request)
    items = filing.package.get("evidence") or []
    try:
        index = int(request.path_params["index"])
        item = items[index]
    except (ValueError, IndexError):
        raise DeskError("not_found", 404) from None
    return await _checked_file(
        request,
        filing,
        url=item.get("url"),
        sha256=str(item.get("sha256")),
        size=item.get("size") if isinstance(item.get("size"), int) else None,
        media_type=str(item.get("media_type") or ""),
        filename=str(item.get("filename") or "evidence"),
    )


@signed_in
async def agreement_pdf(request: Request) -> Response:
    filing = await _filing_or_404(request)
    agreement = filing.package.get("agreement") or {}
    if not agreement.get("pdf_url"):
        raise DeskError("not_found", 404)
    return await _checked_file(
        request,
        filing,
        url=agreement["pdf_url"],
        sha256=str(agreement.get("pdf_sha256")),
        size=None,
        media_type="application/pdf",
        filename=f"{filing.case_number}-agreement.pdf",
    )


async def _checked_file(
    request: Request,
    filing: Filing,
    *,
    url: str | None,
    sha256: str,
    size: int | None,
    media_type: str,
    filename: str,
) -> Response:
    try:
        settings = settings_of(request)
        fetched = await fetch_checked(
            url,
            sha256,
            size=size,
            time_limit=settings.evidence_timeout,
            platform_url=settings.platform_url,
        )
    except EvidenceError as failed:
        return render(
            request,
            "evidence_error.html",
            {
                "filing": filing,
                "filename": filename,
                "expected": sha256,
                "found": failed.params.get("found"),
                "message": error_text(request, failed.code, **failed.params),
            },
            status=502,
        )
    content_type, inline = serving_type(media_type, fetched.content)
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return Response(
        fetched.content,
        headers={
            "content-type": content_type,
            "content-disposition": (
                f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            ),
            "content-security-policy": FILE_CSP,
            "x-content-sha256": hashlib.sha256(fetched.content).hexdigest(),
            "cache-control": "no-store",
        },
    )


def wake_relay(request: Request) -> None:
    wake = getattr(request.app.state, "wake_relay", None)
    if wake is not None:
        wake()


routes = [
    Route("/healthz", healthz),
    Route("/api/v1/filings", receive, methods=["POST"]),
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin_submit, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/lang/{locale}", choose_language),
    Route("/display", choose_display, methods=["POST"]),
    Route("/", home),
    Route("/inbox", inbox),
    Route("/inbox/accept", accept_selected, methods=["POST"]),
    Route("/filings/{filing_id}", filing_page),
    Route("/filings/{filing_id}/evidence/{index}", evidence_file),
    Route("/filings/{filing_id}/agreement.pdf", agreement_pdf),
    Route(
        "/filings/{filing_id}/{action:str}",
        decide,
        methods=["POST"],
    ),
]
