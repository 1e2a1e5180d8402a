"""Merchants answer first (先行协商): the merchant's portal (inbox, a dispute with the claim
and evidence, propose / ask / reply / decline, marking a remedy performed, its own answer
time and figures), enrolment (a merchant's request, a platform admin's confirmation), the
consumer's answers on the case page, and the settlement record.

Thin: parse, one action, render or redirect. Access is the negotiation domain's
(`access_negotiation`: a merchant's handlers see only their own merchant's disputes)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from cases.access import viewer_of
from cases.accounts.models import Role, User
from cases.actions import case_facts
from cases.clock import local_date, utcnow
from cases.errors import CaseNotFound
from cases.evidence_store import blob_path
from cases.models import Evidence
from cases.negotiation.actions import (
    NegotiationError,
    NegotiationForbidden,
    access_negotiation,
    do_accept,
    do_ask,
    do_create_handler,
    do_decline,
    do_delegate_answering,
    do_move_enrolment,
    do_propose,
    do_refuse,
    do_remedy_move,
    do_reopen_to_mediation,
    do_reply,
    do_request_enrolment,
    do_set_answer_days,
    figures_for,
    figures_of_all,
    handlers_of,
    merchant_inbox,
    merchant_of,
    merchants_for_admin,
)
from cases.negotiation.rules import DEFAULT_ANSWER_DAYS, EnrolmentStatus
from cases.partners.actions import active_partners
from cases.performance.actions import Move as PerformanceMove
from courtwire.words import PARTY_KIND_LABELS
from mediation.agreement_pdf import render_pdf
from mediation.negotiation_view import label_context, view_of
from mediation.presenters import STATUS_LABELS, case_view
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, render, settings_of, signed_in


def _int(text: str, default: int = -1) -> int:
    try:
        return parse_id(text.strip())
    except ValueError:
        return default


def _limits(request: Request) -> tuple[int, int]:
    """The platform's limits of a merchant's time to answer (its settings)."""
    settings = settings_of(request)
    return settings.merchant_answer_days_min, settings.merchant_answer_days_max


def _labels(request: Request) -> dict[str, object]:
    low, high = _limits(request)
    return {**label_context(), "min_answer_days": low, "max_answer_days": high}


# --- the merchant's portal -----------------------------------------------------------------


async def _inbox(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    viewer = viewer_of(request.state.user)
    merchant, rows = await merchant_inbox(viewer, local_date(utcnow()))
    return render(
        request,
        "merchant/inbox.html",
        {
            "merchant": merchant,
            "rows": rows,
            "figures": await figures_for(merchant.id),
            "handlers": await handlers_of(merchant.id),
            "partners": await active_partners(),
            "saved": request.query_params.get("saved") == "1",
            "errors": errors or {},
            "values": values or {},
            **_labels(request),
        },
        status=422 if errors else 200,
    )


@signed_in(Role.MERCHANT)
async def inbox(request: Request) -> Response:
    return await _inbox(request)


@signed_in(Role.MERCHANT)
async def answer_days(request: Request) -> Response:
    viewer = viewer_of(request.state.user)
    async with checked_form(request, max_files=0) as form:
        days = _int(form_text(form).get("answer_days", ""))
    try:
        await do_set_answer_days(viewer, days, _limits(request))
    except NegotiationError as error:
        return await _inbox(request, error.field_errors)
    return RedirectResponse("/merchant?saved=1", status_code=303)


@signed_in(Role.MERCHANT)
async def delegate(request: Request) -> Response:
    """The merchant lets a partner platform answer first for it (or takes it back)."""
    viewer = viewer_of(request.state.user)
    async with checked_form(request, max_files=0) as form:
        chosen = form_text(form).get("delegated_to", "")
    merchant = await merchant_of(viewer)
    if merchant is None:
        raise CaseNotFound("merchant_not_found")
    partner_id = _int(chosen) if chosen else None
    if partner_id is not None and partner_id <= 0:
        return await _inbox(request, {"delegated_to": "choose_one"})
    try:
        await do_delegate_answering(viewer, merchant.id, partner_id)
    except NegotiationForbidden:
        return await _inbox(request, {"delegated_to": "choose_one"})
    return RedirectResponse("/merchant?saved=1#delegation", status_code=303)


@signed_in(Role.MERCHANT)
async def add_handler(request: Request) -> Response:
    viewer = viewer_of(request.state.user)
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    try:
        await do_create_handler(
            viewer,
            username=values.get("handler_username", ""),
            password=values.get("handler_password", ""),
            display_name=values.get("handler_display_name", ""),
            email=values.get("handler_email") or None,
            mobile=values.get("handler_mobile") or None,
            now=utcnow(),
        )
    except NegotiationError as error:
        errors = {f"handler_{k}": v for k, v in error.field_errors.items()}
        return await _inbox(request, errors, values)
    return RedirectResponse("/merchant?saved=1#handlers", status_code=303)


async def _merchant_case(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    viewer = viewer_of(request.state.user)
    seat = await access_negotiation(viewer, request.path_params["number"])
    view = await case_view(seat.case, viewer, await case_facts(seat.case))
    return render(
        request,
        "merchant/case.html",
        {
            "case": view,
            "negotiation": await view_of(seat, local_date(utcnow())),
            "status_labels": STATUS_LABELS,
            "kind_labels": PARTY_KIND_LABELS,
            "errors": errors or {},
            "values": values or {},
            **_labels(request),
        },
        status=422 if errors else 200,
    )


@signed_in(Role.MERCHANT)
async def merchant_case(request: Request) -> Response:
    return await _merchant_case(request)


@signed_in(Role.MERCHANT)
async def merchant_move(request: Request) -> Response:
    viewer = viewer_of(request.state.user)
    number = request.path_params["number"]
    move = request.path_params["move"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    now = utcnow()
    try:
        if move == "propose":
            await do_propose(
                viewer,
                number,
                kind=values.get("kind", ""),
                amount=values.get("propose_amount", ""),
                conditions=values.get("propose_conditions", ""),
                perform_by=values.get("propose_perform_by", ""),
                now=now,
            )
        elif move == "ask":
            await do_ask(viewer, number, values.get("ask_text", ""), now)
        elif move == "decline":
            await do_decline(viewer, number, values.get("decline_reason", ""), now)
        elif move == "reply":
            target = request.path_params.get("target", 0)
            await do_reply(viewer, number, target, values.get("text", ""), now)
        elif move == "performed":
            await do_remedy_move(
                viewer, number, PerformanceMove.MARK_PERFORMED, values.get("note", ""), now
            )
        else:
            raise CaseNotFound("not_found")
    except NegotiationError as error:
        return await _merchant_case(
            request, {f"{move}_{k}": v for k, v in error.field_errors.items()}, values
        )
    return RedirectResponse(f"/merchant/cases/{number}#negotiation", status_code=303)


@signed_in(Role.MERCHANT)
async def merchant_evidence(request: Request) -> Response:
    seat = await access_negotiation(viewer_of(request.state.user), request.path_params["number"])
    evidence = await Evidence.get_or_none(
        id=request.path_params["evidence_id"], case_id=seat.case.id
    )
    if evidence is None:
        raise CaseNotFound("evidence_not_found")
    return FileResponse(
        blob_path(settings_of(request).evidence_dir, evidence.sha256),
        media_type=evidence.media_type,
        filename=evidence.filename,
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )


# --- the consumer's answers on the case page -----------------------------------------------


@signed_in()
async def consumer_move(request: Request) -> Response:
    viewer = viewer_of(request.state.user)
    number = request.path_params["number"]
    move = request.path_params["move"]
    target = request.path_params.get("target", 0)
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    now = utcnow()
    if move == "accept":
        await do_accept(viewer, number, target, now)
        return RedirectResponse(f"/cases/{number}#settlement", status_code=303)
    if move == "refuse":
        await do_refuse(viewer, number, target, values.get("reason", ""), now)
    elif move == "reply":
        await do_reply(viewer, number, target, values.get("text", ""), now)
    elif move in ("confirm", "dispute"):
        await do_remedy_move(viewer, number, PerformanceMove(move), values.get("note", ""), now)
    elif move == "reopen":
        await do_reopen_to_mediation(viewer, number, now)
    else:
        raise CaseNotFound("not_found")
    return RedirectResponse(f"/cases/{number}#negotiation", status_code=303)


# --- the settlement record -----------------------------------------------------------------


@signed_in()
async def settlement_record(request: Request) -> Response:
    seat = await access_negotiation(viewer_of(request.state.user), request.path_params["number"])
    view = await view_of(seat, local_date(utcnow()))
    if view.settlement is None:
        raise CaseNotFound("no_settlement")
    response = render(
        request,
        "merchant/settlement.html",
        {"negotiation": view, "settlement": view.settlement, **_labels(request)},
    )
    if request.query_params.get("download") == "pdf":
        # The same record as a PDF/A a party keeps (rendering takes a worker thread's second).
        pdf = await run_in_threadpool(render_pdf, bytes(response.body).decode())
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="settlement-{seat.case.number}.pdf"'
            },
        )
    if request.query_params.get("download") == "1":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="settlement-{seat.case.number}.html"'
        )
    return response


# --- enrolment -----------------------------------------------------------------------------


async def enrol(request: Request) -> Response:
    context: dict[str, Any] = {"values": {"answer_days": str(DEFAULT_ANSWER_DAYS)}, "errors": {}}
    if request.method == "POST":
        async with checked_form(request, max_files=0) as form:
            values = form_text(form)
        try:
            await do_request_enrolment(
                uscc=values.get("uscc", ""),
                name=values.get("name", ""),
                answer_days=_int(values.get("answer_days", "")),
                handler_username=values.get("username", ""),
                handler_password=values.get("password", ""),
                handler_name=values.get("display_name", ""),
                handler_email=values.get("email") or None,
                handler_mobile=values.get("mobile") or None,
                now=utcnow(),
                limits=_limits(request),
            )
        except NegotiationError as error:
            context = {"values": values, "errors": error.field_errors}
            return render(request, "merchant/enrol.html", {**context, **_labels(request)}, 422)
        return render(
            request, "merchant/enrol.html", {**context, "requested": True, **_labels(request)}
        )
    return render(
        request, "merchant/enrol.html", {**context, "requested": False, **_labels(request)}
    )


@signed_in(Role.PLATFORM_ADMIN)
async def admin_merchants(request: Request) -> Response:
    figures = dict((m.id, f) for m, f in await figures_of_all())
    return render(
        request,
        "admin/merchants.html",
        {
            "merchants": await merchants_for_admin(),
            "figures": figures,
            "partners": await active_partners(),
            **_labels(request),
        },
    )


@signed_in(Role.PLATFORM_ADMIN)
async def admin_delegate(request: Request) -> Response:
    """The platform administrator sets which partner answers first for a merchant."""
    user: User = request.state.user
    async with checked_form(request, max_files=0) as form:
        chosen = form_text(form).get("delegated_to", "")
    partner_id = _int(chosen) if chosen else None
    if partner_id is not None and partner_id <= 0:
        raise NegotiationForbidden("partner_not_active")
    await do_delegate_answering(viewer_of(user), request.path_params["merchant_id"], partner_id)
    return RedirectResponse("/admin/merchants", status_code=303)


@signed_in(Role.PLATFORM_ADMIN)
async def admin_merchant_move(request: Request) -> Response:
    user: User = request.state.user
    async with checked_form(request, max_files=0):
        pass
    try:
        target = EnrolmentStatus(request.path_params["target"])
    except ValueError:
        raise CaseNotFound("not_found") from None
    await do_move_enrolment(viewer_of(user), request.path_params["merchant_id"], target, utcnow())
    return RedirectResponse("/admin/merchants", status_code=303)


routes = [
    Route("/merchant", inbox),
    Route("/merchant/settings", answer_days, methods=["POST"]),
    Route("/merchant/handlers", add_handler, methods=["POST"]),
    Route("/merchant/delegation", delegate, methods=["POST"]),
    Route("/merchant/enrol", enrol, methods=["GET", "POST"]),
    Route("/merchant/cases/{number:case}", merchant_case),
    Route("/merchant/cases/{number:case}/evidence/{evidence_id:id}", merchant_evidence),
    Route("/merchant/cases/{number:case}/{move}", merchant_move, methods=["POST"]),
    Route("/merchant/cases/{number:case}/{move}/{target:id}", merchant_move, methods=["POST"]),
    Route("/cases/{number:case}/negotiation/{move}", consumer_move, methods=["POST"]),
    Route("/cases/{number:case}/negotiation/{move}/{target:id}", consumer_move, methods=["POST"]),
    Route("/cases/{number:case}/settlement", settlement_record),
    Route("/admin/merchants", admin_merchants),
    Route("/admin/merchants/{merchant_id:id}/delegation", admin_delegate, methods=["POST"]),
    Route("/admin/merchants/{merchant_id:id}/{target}", admin_merchant_move, methods=["POST"]),
]
