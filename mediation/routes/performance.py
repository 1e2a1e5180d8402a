"""Performance of an effective agreement on the case page: the obliged side marks a term
performed, the other side confirms or disputes it. Errors (someone else's turn, a changed
item) come back as translated error pages and change nothing."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cases.access import viewer_of
from cases.accounts.models import User
from cases.clock import utcnow
from cases.errors import CaseNotFound
from cases.performance.actions import Move, do_answer_performance, do_mark_performed
from mediation.web import checked_form, form_text, signed_in


@signed_in()
async def performance_move(request: Request) -> Response:
    user: User = request.state.user
    number = request.path_params["number"]
    item_id = request.path_params["item_id"]
    try:
        move = Move(request.path_params["move"])
    except ValueError:
        raise CaseNotFound("not_found") from None
    async with checked_form(request, max_files=0) as form:
        note = form_text(form).get("note", "")
    viewer = viewer_of(user)
    if move is Move.MARK_PERFORMED:
        await do_mark_performed(viewer, number, item_id, note, utcnow())
    else:
        await do_answer_performance(viewer, number, item_id, move, note, utcnow())
    return RedirectResponse(f"/cases/{number}#performance", status_code=303)


routes = [
    Route(
        "/cases/{number:case}/performance/{item_id:id}/{move}", performance_move, methods=["POST"]
    ),
]
