"""Ending mediation and going to the court, for the people of a case: the mediator's end form,
the applicant's transfer, the parties' joint application for judicial confirmation, and
corrections the court asked for. (The desk's machine API is `court_api`; the administrators'
outbox pages are `court_admin`.)"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import (
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from cases.access import Viewer, viewer_of
from cases.accounts.models import User
from cases.clock import utcnow
from cases.court.actions import (
    PrecheckBlocked,
    correction_defaults,
    court_overview,
    do_join_confirmation,
    do_request_transfer,
    do_resubmit_corrected,
    evidence_of,
    pending_confirmation,
    precheck_for_confirmation,
    precheck_for_correction,
    returned_filing,
)
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
from cases.models import Case
from cases.status import Status
from mediation.court_view import (
    court_labels,
    finding_lines,
)
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, render, settings_of, signed_in


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
            **court_labels(),
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
            **court_labels(),
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
            **court_labels(),
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
    values = await correction_defaults(case, side)
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
            **court_labels(),
        },
        status=status,
    )


routes = [
    Route("/cases/{number:case}/end", end_mediation, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/transfer", transfer, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/confirmation", confirmation, methods=["GET", "POST"]),
    Route("/cases/{number:case}/court/correction", correction, methods=["GET", "POST"]),
]
