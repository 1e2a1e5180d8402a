"""District governance's early warnings (issue 13): the alerts the background job raised,
one alert with its rule, parameters, figures and chart, its state changes and notes, telling
the partner platform and the regulator, suggestion letters (drafted, edited, issued as a
PDF), and the monthly reports.

Governance staff and the platform's administrator only. Thin: parse, call one action,
render or redirect. Nothing shown reads a party: an alert is about a merchant, a platform, a
category or a respondent business, with counts.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.models import PartnerPlatform, Role, User
from cases.clock import local_date, utcnow
from cases.errors import CaseConflict
from cases.warnings import actions as wa
from cases.warnings.models import LetterKind, LetterState
from cases.warnings.rules import MOVES, AlertState
from mediation.reports import (
    alert_chart,
    do_issue_monthly_report,
    issue_letter,
    stored_path,
)
from mediation.web import checked_form, error_page, form_text, render, settings_of, signed_in

STAFF = (Role.GOVERNANCE, Role.PLATFORM_ADMIN)
PDF = "application/pdf"
MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


def N_(message: str) -> str:
    return message


RULE_LABELS = {
    "surge": N_("Surge of filings"),
    "response_rate": N_("Merchant's response rate too low"),
    "burst": N_("Burst of similar filings against one respondent"),
}
RULE_EXPLAINED = {
    "surge": N_(
        "Filings in the last %(days)s days are more than %(factor)s times the median week of "
        "the %(weeks)s weeks before, and at least %(floor)s."
    ),
    "response_rate": N_(
        "Of at least %(minimum_asked)s disputes filed in the last %(days)s days, the merchant "
        "answered less than %(below_percent)s."
    ),
    "burst": N_(
        "At least %(filings)s similar filings against one respondent within %(hours)s hours."
    ),
}
SCOPE_LABELS = {
    "merchant": N_("Merchant"),
    "platform": N_("Platform"),
    "category": N_("Category"),
    "respondent": N_("Respondent"),
}
STATE_LABELS = {
    "new": N_("New"),
    "acknowledged": N_("Acknowledged"),
    "resolved": N_("Resolved"),
}
ACTION_LABELS = {
    "acknowledge": N_("Acknowledged"),
    "resolve": N_("Resolved"),
    "reopen": N_("Reopened"),
    "note": N_("Note"),
    "notified_partner": N_("Partner platform told (webhook)"),
    "notified_regulator": N_("Regulator told (email)"),
    "letter_drafted": N_("Letter drafted"),
    "letter_issued": N_("Letter issued"),
}
MOVE_BUTTONS = {
    "acknowledge": N_("Acknowledge"),
    "resolve": N_("Resolve"),
    "reopen": N_("Reopen"),
}
FIGURE_LABELS = {
    "last_7_days": N_("Filings in the last 7 days"),
    "median_week": N_("Median week before"),
    "ratio": N_("Times the median"),
    "answered": N_("Answered"),
    "asked": N_("Asked to answer"),
    "rate": N_("Response rate"),
    "filings": N_("Similar filings"),
}
KIND_LABELS = {
    LetterKind.GOVERNANCE: N_("Governance suggestion (诉源治理建议书)"),
    LetterKind.JUDICIAL: N_("Judicial suggestion (司法建议, from the court)"),
}
LETTER_STATE_LABELS = {LetterState.DRAFT: N_("Draft"), LetterState.ISSUED: N_("Issued")}


def _words() -> dict[str, Any]:
    return {
        "rule_labels": RULE_LABELS,
        "scope_labels": SCOPE_LABELS,
        "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS,
        "kind_labels": KIND_LABELS,
        "letter_state_labels": LETTER_STATE_LABELS,
    }


def _figures(alert: wa.Alert) -> list[tuple[str, str]]:
    shown = []
    for key, label in FIGURE_LABELS.items():
        value = alert.figures.get(key)
        if value is None:
            continue
        if key == "rate":
            shown.append((label, f"{float(value):.0%}"))
        else:
            shown.append((label, f"{value:g}" if isinstance(value, float) else str(value)))
    return shown


def _week(week: str) -> dict[str, str]:
    """2026-W49 as its parts, for "week 49 of 2026" (2026年第49周)."""
    year, _, number = week.partition("-W")
    return {"year": year, "week": number.lstrip("0") or number}


def _explained(alert: wa.Alert) -> dict[str, Any]:
    params = {k: f"{v:g}" if isinstance(v, float) else v for k, v in alert.parameters.items()}
    if "below" in alert.parameters:
        params["below_percent"] = f"{float(alert.parameters['below']):.0%}"
    return params


@signed_in(*STAFF)
async def alerts(request: Request) -> Response:
    state = request.query_params.get("state") or None
    rows = await wa.alerts_list(state)
    return render(
        request,
        "governance/alerts.html",
        {"alerts": rows, "state": state, "states": list(STATE_LABELS), **_words()},
    )


async def _alert_page(
    request: Request,
    alert_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    alert = await wa.alert_of(alert_id)
    chart, rows = alert_chart(alert, standalone=False)
    concerned = await wa.partner_concerned(alert)
    partners = (
        await PartnerPlatform.filter(is_active=True).order_by("name").values_list("id", "name")
    )
    settings = settings_of(request)
    return render(
        request,
        "governance/alert.html",
        {
            "alert": alert,
            "explained": _explained(alert),
            "week": _week(alert.week),
            "rule_explained": RULE_EXPLAINED.get(alert.rule, ""),
            "figures": _figures(alert),
            "chart": chart,
            "rows": [(day, n) for day, n in rows if n],
            "notes": await wa.notes_of(alert.id),
            "letters": await wa.letters_of(alert.id),
            "moves": [a for a, (sources, _) in MOVES.items() if alert.state in sources],
            "move_buttons": MOVE_BUTTONS,
            "partners": [(int(i), str(n)) for i, n in partners],
            "concerned": concerned,
            "regulator": (values or {}).get("recipient", settings.governance_regulator_email),
            "errors": errors or {},
            "values": values or {},
            "problem": problem,
            "done": request.query_params.get("done", ""),
            **_words(),
        },
        status=status,
    )


@signed_in(*STAFF)
async def alert_page(request: Request) -> Response:
    return await _alert_page(request, request.path_params["alert_id"])


def _back(alert_id: int, done: str) -> Response:
    return RedirectResponse(f"/governance/alerts/{alert_id}?done={done}", status_code=303)


async def _acted(request: Request, alert_id: int, values: dict[str, str], act: Any) -> Response:
    """Run one action; its field errors or conflict are shown on the alert's page."""
    try:
        await act()
    except wa.FieldErrors as error:
        return await _alert_page(request, alert_id, error.errors, values, status=422)
    except CaseConflict as error:
        from mediation.web import error_text

        return await _alert_page(
            request, alert_id, None, values, error_text(request, error.code, **error.params), 409
        )
    return _back(alert_id, values.get("_done", "saved"))


@signed_in(*STAFF)
async def move_alert(request: Request) -> Response:
    user: User = request.state.user
    alert_id = request.path_params["alert_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    action = values.get("action", "")
    values["_done"] = action

    async def act() -> None:
        await wa.do_move_alert(alert_id, action, user, values.get("text", ""), utcnow())

    return await _acted(request, alert_id, values, act)


@signed_in(*STAFF)
async def add_note(request: Request) -> Response:
    user: User = request.state.user
    alert_id = request.path_params["alert_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    values["_done"] = "note"

    async def act() -> None:
        await wa.do_add_note(alert_id, user, values.get("note", ""), utcnow())

    return await _acted(request, alert_id, values, act)


@signed_in(*STAFF)
async def notify_partner(request: Request) -> Response:
    user: User = request.state.user
    alert_id = request.path_params["alert_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    values["_done"] = "partner"
    partner = values.get("partner", "")

    async def act() -> None:
        if not partner.isdigit():
            raise wa.FieldErrors({"partner": "unknown"})
        await wa.do_notify_partner(
            alert_id, int(partner), user, values.get("message", ""), utcnow()
        )

    return await _acted(request, alert_id, values, act)


@signed_in(*STAFF)
async def notify_regulator(request: Request) -> Response:
    user: User = request.state.user
    alert_id = request.path_params["alert_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    values["_done"] = "regulator"
    link = f"{settings_of(request).base_url}/governance/alerts/{alert_id}"

    async def act() -> None:
        await wa.do_notify_regulator(
            alert_id,
            values.get("recipient", ""),
            user,
            values.get("regulator_message", ""),
            utcnow(),
            link,
        )

    return await _acted(request, alert_id, values, act)


@signed_in(*STAFF)
async def draft_letter(request: Request) -> Response:
    user: User = request.state.user
    alert_id = request.path_params["alert_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    try:
        letter = await wa.do_draft_letter(alert_id, values.get("kind", ""), user, utcnow())
    except wa.FieldErrors as error:
        return await _alert_page(request, alert_id, error.errors, values, status=422)
    return RedirectResponse(f"/governance/letters/{letter.id}", status_code=303)


async def _letter_page(
    request: Request,
    letter_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    letter = await wa.letter_of(letter_id)
    alert = await wa.alert_of(letter.alert_id)
    return render(
        request,
        "governance/alert_letter.html",
        {
            "letter": letter,
            "alert": alert,
            "values": values
            or {"addressee": letter.addressee, "title": letter.title, "body": letter.body},
            "errors": errors or {},
            "done": request.query_params.get("done", ""),
            **_words(),
        },
        status=status,
    )


@signed_in(*STAFF)
async def letter_page(request: Request) -> Response:
    return await _letter_page(request, request.path_params["letter_id"])


@signed_in(*STAFF)
async def edit_letter(request: Request) -> Response:
    user: User = request.state.user
    letter_id = request.path_params["letter_id"]
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    try:
        await wa.do_edit_letter(
            letter_id,
            user,
            values.get("addressee", ""),
            values.get("title", ""),
            values.get("body", ""),
            utcnow(),
        )
    except wa.FieldErrors as error:
        return await _letter_page(request, letter_id, error.errors, values, status=422)
    if values.get("then") == "issue":
        await issue_letter(letter_id, user, settings_of(request), utcnow())
        return RedirectResponse(f"/governance/letters/{letter_id}?done=issued", status_code=303)
    return RedirectResponse(f"/governance/letters/{letter_id}?done=saved", status_code=303)


@signed_in(*STAFF)
async def letter_pdf(request: Request) -> Response:
    letter = await wa.letter_of(request.path_params["letter_id"])
    if letter.state != LetterState.ISSUED:
        return error_page(request, "letter_not_found", 404)
    data = stored_path(settings_of(request), letter.pdf_path).read_bytes()
    return Response(
        data,
        media_type=PDF,
        headers={
            "content-disposition": f'attachment; filename="letter-{letter.id}.pdf"',
            "x-content-sha256": letter.pdf_sha256,
        },
    )


@signed_in(*STAFF)
async def reports(request: Request) -> Response:
    today = local_date(utcnow())
    return render(
        request,
        "governance/alerts_reports.html",
        {
            "reports": await wa.reports_list(),
            "this_month": f"{today.year}-{today.month:02d}",
            "last_month": wa.previous_month(today),
            "errors": {},
        },
    )


@signed_in(*STAFF)
async def make_report(request: Request) -> Response:
    user: User = request.state.user
    async with checked_form(request, max_files=0) as form:
        values = form_text(form)
    month = values.get("month", "")
    if not MONTH.match(month):
        today = local_date(utcnow())
        return render(
            request,
            "governance/alerts_reports.html",
            {
                "reports": await wa.reports_list(),
                "this_month": f"{today.year}-{today.month:02d}",
                "last_month": wa.previous_month(today),
                "errors": {"month": "invalid"},
            },
            status=422,
        )
    await do_issue_monthly_report(settings_of(request), utcnow(), month, user)
    return RedirectResponse(f"/governance/reports?done={month}", status_code=303)


@signed_in(*STAFF)
async def report_pdf(request: Request) -> Response:
    month = request.path_params["month"]
    report = await wa.report_of(month) if MONTH.match(month) else None
    if report is None:
        return error_page(request, "not_found", 404)
    data = stored_path(settings_of(request), report.pdf_path).read_bytes()
    return Response(
        data,
        media_type=PDF,
        headers={
            "content-disposition": f'attachment; filename="report-{month}.pdf"',
            "x-content-sha256": report.pdf_sha256,
        },
    )


routes = [
    Route("/governance/alerts", alerts),
    Route("/governance/alerts/{alert_id:id}", alert_page),
    Route("/governance/alerts/{alert_id:id}/move", move_alert, methods=["POST"]),
    Route("/governance/alerts/{alert_id:id}/note", add_note, methods=["POST"]),
    Route("/governance/alerts/{alert_id:id}/partner", notify_partner, methods=["POST"]),
    Route("/governance/alerts/{alert_id:id}/regulator", notify_regulator, methods=["POST"]),
    Route("/governance/alerts/{alert_id:id}/letters", draft_letter, methods=["POST"]),
    Route("/governance/letters/{letter_id:id}", letter_page),
    Route("/governance/letters/{letter_id:id}/edit", edit_letter, methods=["POST"]),
    Route("/governance/letters/{letter_id:id}.pdf", letter_pdf),
    Route("/governance/reports", reports),
    Route("/governance/reports", make_report, methods=["POST"]),
    Route("/governance/reports/{month:str}.pdf", report_pdf),
]

__all__ = ["AlertState", "routes"]
