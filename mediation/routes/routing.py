"""Routing actions on a case page: choose or change a mediator, the mediator's answer, admin
overrides, and the mediation deadline (extension by consent, pause for appraisal)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.access import CaseFacts, handles_case, viewer_of
from cases.accounts.models import Role, User
from cases.actions import access_case, cases_visible_to
from cases.clock import local_date, utcnow
from cases.deadlines.actions import (
    do_extend_deadline,
    do_pause_deadline,
    do_resume_deadline,
    due_work,
    open_deadline,
)
from cases.deadlines.rules import Regime, Unit
from cases.errors import CaseError, CaseNotFound
from cases.models import Case, Party, Side
from cases.performance.actions import performance_needing_attention
from cases.routing.assignment import (
    AssignmentError,
    do_choose_mediator,
    do_mediator_answer,
    do_override_mediator,
    do_override_organisation,
    do_request_mediator_change,
)
from mediation.routes import parse_id
from mediation.routing_view import REGIME_LABELS
from mediation.web import checked_form, form_text, render, signed_in


class FormInvalid(CaseError):
    status_code = 422


async def _case_for(request: Request) -> tuple[User, Case, CaseFacts, Side | None]:
    user: User = request.state.user
    case, facts = await access_case(viewer_of(user), request.path_params["number"])
    side = await Party.filter(case=case, user_id=user.id).values_list("side", flat=True)
    return user, case, facts, Side(str(side[0])) if side else None


async def _party_case_for(request: Request) -> tuple[User, Case, Side]:
    """The case and the signed-in party's side; a non-party gets the same 404 as anyone."""
    user, case, _, side = await _case_for(request)
    if side is None:
        raise CaseNotFound("case_not_found")
    return user, case, side


def _back(case: Case, anchor: str = "routing") -> Response:
    return RedirectResponse(f"/cases/{case.number}#{anchor}", status_code=303)


def _int(values: dict[str, str], name: str) -> int:
    try:
        return parse_id(values.get(name, ""))
    except ValueError:
        raise FormInvalid("choose_one") from None


@signed_in(Role.DISPUTANT)
async def choose_mediator(request: Request) -> Response:
    _, case, side = await _party_case_for(request)
    async with checked_form(request) as form:
        values = form_text(form)
    await do_choose_mediator(case, side, _int(values, "mediator_id"), utcnow())
    return _back(case)


@signed_in(Role.DISPUTANT)
async def change_mediator(request: Request) -> Response:
    user, case, side = await _party_case_for(request)
    async with checked_form(request) as form:
        values = form_text(form)
    await do_request_mediator_change(case, side, values.get("reason", ""), utcnow(), user.id)
    return _back(case)


@signed_in(Role.MEDIATOR)
async def answer(request: Request) -> Response:
    user, case, _, _ = await _case_for(request)
    async with checked_form(request) as form:
        values = form_text(form)
    tie = values.get("has_tie")
    if tie not in ("yes", "no"):
        raise AssignmentError("disclosure_required")
    await do_mediator_answer(
        user,
        case,
        accept=values.get("answer") == "accept",
        has_tie=tie == "yes",
        statement=values.get("statement", ""),
        decline_reason=values.get("decline_reason", ""),
        now=utcnow(),
    )
    return _back(case)


@signed_in(Role.ORG_ADMIN, Role.PLATFORM_ADMIN)
async def override_mediator(request: Request) -> Response:
    user, case, _, _ = await _case_for(request)
    async with checked_form(request) as form:
        values = form_text(form)
    await do_override_mediator(
        user, case, _int(values, "mediator_id"), values.get("reason", ""), utcnow()
    )
    return _back(case)


@signed_in(Role.PLATFORM_ADMIN)
async def override_organisation(request: Request) -> Response:
    user, case, _, _ = await _case_for(request)
    async with checked_form(request) as form:
        values = form_text(form)
    await do_override_organisation(
        user, case, _int(values, "organisation_id"), values.get("reason", ""), utcnow()
    )
    return _back(case)


@signed_in(Role.MEDIATOR, Role.ORG_ADMIN, Role.PLATFORM_ADMIN)
async def manage_deadline(request: Request) -> Response:
    user, case, facts, _ = await _case_for(request)
    if not handles_case(viewer_of(user), facts):
        raise CaseNotFound("case_not_found")
    async with checked_form(request) as form:
        values = form_text(form)
    row = await open_deadline(case, Regime.ONLINE_MEDIATION) or await open_deadline(
        case, Regime.CONSUMER_MEDIATION
    )
    if row is None:
        raise FormInvalid("no_open_deadline")
    regime, now, action = Regime(row.regime), utcnow(), request.path_params["action"]
    if action == "extend":
        if values.get("parties_consent") != "on":
            raise FormInvalid("extension_consent_required")
        await do_extend_deadline(
            case,
            regime,
            _int(values, "days"),
            Unit.CALENDAR_DAYS,
            values.get("reason", ""),
            now,
            user.id,
        )
    elif action == "pause":
        await do_pause_deadline(
            case,
            regime,
            _date(values, "start", local_date(now)),
            values.get("reason", ""),
            now,
            user.id,
        )
    elif action == "resume":
        await do_resume_deadline(case, regime, _date(values, "end", local_date(now)), now, user.id)
    else:
        raise CaseNotFound("not_found")
    return _back(case, "deadlines")


def _date(values: dict[str, str], name: str, default: date) -> date:
    raw = values.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormInvalid("date_invalid") from None


@signed_in(Role.MEDIATOR, Role.ORG_ADMIN, Role.PLATFORM_ADMIN)
async def work_queue(request: Request) -> Response:
    """Due and overdue work, soonest first: the mediator's own cases, or the organisation's."""
    user: User = request.state.user
    cases = await cases_visible_to(viewer_of(user))
    today = local_date(utcnow())
    items = await due_work([c.id for c in cases], today)
    awaiting_answer = [c for c in cases if c.status == "awaiting_mediator"]
    unassigned = [c for c in cases if c.status == "assigning" and c.mediator_id is None]
    return render(
        request,
        "mediator/work.html",
        {
            "items": items,
            "today": today,
            "regime_labels": REGIME_LABELS,
            "awaiting_answer": awaiting_answer,
            "unassigned": unassigned,
            "performance_attention": await performance_needing_attention(
                [c.id for c in cases], today
            ),
        },
    )


routes = [
    Route("/work", work_queue),
    Route("/cases/{number:case}/choose-mediator", choose_mediator, methods=["POST"]),
    Route("/cases/{number:case}/change-mediator", change_mediator, methods=["POST"]),
    Route("/cases/{number:case}/answer", answer, methods=["POST"]),
    Route("/cases/{number:case}/override-mediator", override_mediator, methods=["POST"]),
    Route("/cases/{number:case}/override-organisation", override_organisation, methods=["POST"]),
    Route("/cases/{number:case}/deadline/{action}", manage_deadline, methods=["POST"]),
]
