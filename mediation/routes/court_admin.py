"""The platform administrators' court pages: deliveries to the court that are waiting or
failed for good (dead letters, sent again from here), and withdrawing a filing's evidence
links before they expire."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.access import viewer_of
from cases.accounts.models import Role
from cases.clock import utcnow
from cases.court.actions import do_admin_revoke_court_links, do_replay_dead_letter
from cases.court.handoff import body_preview, dead_letters, waiting_letters
from cases.errors import CaseNotFound
from cases.models import CourtFiling
from mediation.court_view import court_labels
from mediation.i18n import N_
from mediation.web import checked_form, form_text, gettext, render, signed_in


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
            **court_labels(),
        },
        status=status,
    )


@signed_in(Role.PLATFORM_ADMIN)
async def replay(request: Request) -> Response:
    async with checked_form(request):
        pass
    row = await do_replay_dead_letter(
        viewer_of(request.state.user), request.path_params["row_id"], utcnow()
    )
    return RedirectResponse(f"/admin/court/outbox?replayed={row.id}", status_code=303)


@signed_in(Role.PLATFORM_ADMIN)
async def revoke_links(request: Request) -> Response:
    """Withdraw a filing's evidence links at once (before COURT_LINK_DAYS runs out)."""
    async with checked_form(request) as form:
        filing_id = form_text(form).get("filing_id", "")
    try:
        await do_admin_revoke_court_links(viewer_of(request.state.user), filing_id, utcnow())
    except CaseNotFound:
        return await _outbox_page(
            request,
            404,
            revoke_error=gettext(request, N_("No filing has this id.")),
            revoke_value=filing_id,
        )
    return RedirectResponse(f"/admin/court/outbox?revoked={quote(filing_id)}", status_code=303)


routes = [
    Route("/admin/court/outbox", outbox),
    Route("/admin/court/outbox/{row_id:id}/replay", replay, methods=["POST"]),
    Route("/admin/court/links/revoke", revoke_links, methods=["POST"]),
]
