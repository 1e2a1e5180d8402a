"""A partner-filed case's claim link: the applicant signs in (or registers), then attaches the
case to their account (`cases.actions.do_claim_case`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.models import Role
from cases.actions import access_claim, do_claim_case
from cases.clock import utcnow
from cases.errors import CaseNotFound
from cases.intake import read_claim_token
from cases.models import Party
from mediation.web import checked_form, load_user, render, settings_of


async def _applicant(request: Request) -> Party:
    parsed = read_claim_token(settings_of(request), request.path_params["token"])
    if parsed is None:
        raise CaseNotFound("claim_not_found")
    return await access_claim(*parsed)


async def show(request: Request) -> Response:
    applicant = await _applicant(request)
    user = await load_user(request)
    await applicant.case.fetch_related("partner")
    return render(
        request,
        "disputant/claim.html",
        {
            "case": applicant.case,
            "applicant": applicant,
            "partner_name": applicant.case.partner.name if applicant.case.partner else "",
            "user": user,
            "claimed": applicant.user_id is not None,
            "claimed_by_you": user is not None and applicant.user_id == user.id,
            "can_claim": user is not None and user.role == Role.DISPUTANT,
            "here": request.url.path,
        },
    )


async def claim(request: Request) -> Response:
    applicant = await _applicant(request)
    async with checked_form(request):
        pass
    user = await load_user(request)
    if user is None:
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
    case = await do_claim_case(applicant, user, utcnow())
    return RedirectResponse(f"/cases/{case.number}", status_code=303)


routes = [
    Route("/claims/{token}", show),
    Route("/claims/{token}", claim, methods=["POST"]),
]
