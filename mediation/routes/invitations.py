"""The respondent's invitation: read the dispute, then consent (with an account) or refuse."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.accounts.actions import RegistrationError, do_register_disputant
from cases.accounts.models import Role, User
from cases.actions import access_invitation, do_answer_invitation
from cases.clock import utcnow
from cases.errors import CaseConflict, CaseNotFound
from cases.filing import REQUIRED_CONSENTS
from cases.identity import mask_name
from cases.intake import read_invitation_token
from cases.models import Invitation, Party, Side
from cases.routing.assignment import do_respondent_consents
from mediation.web import checked_form, form_text, load_user, render, settings_of, sign_in


async def _invitation(request: Request) -> Invitation:
    parsed = read_invitation_token(settings_of(request), request.path_params["token"])
    if parsed is None:
        raise CaseNotFound("invitation_not_found")
    return await access_invitation(*parsed)


async def _page(
    request: Request,
    invitation: Invitation,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    user = await load_user(request)
    applicant = await Party.get(case=invitation.case, side=Side.APPLICANT)
    respondent = invitation.party
    defaults = {
        "identifier": respondent.mobile or respondent.email or "",
        "display_name": respondent.name,
    }
    return render(
        request,
        "disputant/invitation.html",
        {
            "invitation": invitation,
            "case": invitation.case,
            "applicant_name": mask_name(applicant.name)
            if applicant.kind == "natural_person"
            else applicant.name,
            "respondent": respondent,
            # Ended by the expiry job (answer "expired"), or past its time before the job ran.
            "expired": invitation.answer == "expired"
            or (invitation.answered_at is None and invitation.expires_at <= utcnow()),
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "consents": REQUIRED_CONSENTS,
            "can_link_account": user is not None and user.role == Role.DISPUTANT,
            "token": request.path_params["token"],
        },
        status=status,
    )


async def show(request: Request) -> Response:
    return await _page(request, await _invitation(request))


async def consent(request: Request) -> Response:
    invitation = await _invitation(request)
    async with checked_form(request) as form:
        values = form_text(form)
    if invitation.answered_at is not None or invitation.expires_at <= utcnow():
        # Refuse before creating an account that would have nothing to answer.
        expired = invitation.answered_at is None or invitation.answer == "expired"
        raise CaseConflict("invitation_expired" if expired else "invitation_already_answered")
    errors = {c: "consent_required" for c in REQUIRED_CONSENTS if values.get(c) != "on"}
    user: User | None = await load_user(request)
    if user is not None and user.role != Role.DISPUTANT:
        user = None  # staff cannot answer for a party
    if errors:
        return await _page(request, invitation, values=values, errors=errors, status=422)
    if user is None:
        try:
            user = await do_register_disputant(
                identifier=values.get("identifier", ""),
                password=values.get("password", ""),
                display_name=values.get("display_name", ""),
            )
        except RegistrationError as error:
            values.pop("password", None)
            return await _page(
                request, invitation, values=values, errors=error.field_errors, status=422
            )
        await sign_in(request, user)
    case = await do_respondent_consents(invitation, user.id, utcnow())
    return RedirectResponse(f"/cases/{case.number}", status_code=303)


async def refuse(request: Request) -> Response:
    invitation = await _invitation(request)
    async with checked_form(request) as form:
        values = form_text(form)
    reason = values.get("reason", "").strip()
    if not reason or len(reason) > 1000:
        return await _page(
            request,
            invitation,
            values=values,
            errors={"reason": "refusal_reason_required" if not reason else "too_long"},
            status=422,
        )
    user = await load_user(request)
    await do_answer_invitation(
        invitation,
        consent=False,
        reason=reason,
        respondent_user_id=user.id if user and user.role == Role.DISPUTANT else None,
        now=utcnow(),
    )
    return render(request, "disputant/refused.html", {"case": invitation.case})


routes = [
    Route("/invitations/{token}", show),
    Route("/invitations/{token}/consent", consent, methods=["POST"]),
    Route("/invitations/{token}/refuse", refuse, methods=["POST"]),
]
