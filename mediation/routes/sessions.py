"""Live sessions: scheduling from the case page, the room page and its WebSocket, the
calendar file, and the transcript."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from cases.access import CaseFacts, handles_case, viewer_of
from cases.accounts.actions import user_of_session
from cases.accounts.models import Role, User
from cases.actions import access_case
from cases.agreements.actions import agreement_summary
from cases.clock import SHANGHAI, utcnow
from cases.errors import CaseNotFound
from cases.models import Case, Evidence, Party
from cases.sessions.actions import (
    RosterCache,
    SessionError,
    do_confirm_transcript,
    do_end_session,
    do_record_no_show,
    do_reschedule_session,
    do_schedule_session,
    enrich_post,
    ics_for,
    is_open,
    opens_at,
    participant_of,
    starting_room,
)
from cases.sessions.models import MediationSession, SessionMode, SessionStatus, Transcript
from mediation.routes import parse_id
from mediation.web import checked_form, form_text, record_reader, render, settings_of, signed_in
from realtime.endpoint import room_endpoint
from realtime.hub import Hub
from realtime.protocol import CloseCode, Participant


async def access_session(user: User, session_id: int) -> tuple[MediationSession, Case, CaseFacts]:
    session = await MediationSession.get_or_none(id=session_id)
    if session is None:
        raise CaseNotFound("not_found")
    case = await Case.get(id=session.case_id)
    _, facts = await access_case(viewer_of(user), case.number)
    return session, case, facts


def _local_datetime(values: dict[str, str], name: str) -> datetime:
    try:
        naive = datetime.fromisoformat(values.get(name, "").strip())
    except ValueError:
        raise SessionError("date_invalid") from None
    return naive.replace(tzinfo=SHANGHAI) if naive.tzinfo is None else naive


@signed_in(Role.MEDIATOR)
async def schedule(request: Request) -> Response:
    user: User = request.state.user
    case, _ = await access_case(viewer_of(user), request.path_params["number"])
    async with checked_form(request) as form:
        values = form_text(form)
    try:
        mode = SessionMode(values.get("mode", "joint"))
        duration = parse_id(values.get("duration", "60"))
    except ValueError:
        raise SessionError("choose_one") from None
    await do_schedule_session(
        user, case, _local_datetime(values, "starts_at"), mode, duration, utcnow()
    )
    return RedirectResponse(f"/cases/{case.number}#sessions", status_code=303)


@signed_in(Role.MEDIATOR)
async def manage(request: Request) -> Response:
    user: User = request.state.user
    session, case, _ = await access_session(user, request.path_params["session_id"])
    async with checked_form(request) as form:
        values = form_text(form)
    if request.path_params["action"] == "reschedule":
        await do_reschedule_session(
            user,
            session,
            _local_datetime(values, "starts_at"),
            values.get("reason", ""),
            utcnow(),
        )
    elif request.path_params["action"] == "no-show":
        await do_record_no_show(user, session, values.get("side", ""), utcnow())
    else:
        raise CaseNotFound("not_found")
    return RedirectResponse(f"/cases/{case.number}#sessions", status_code=303)


@signed_in()
async def room(request: Request) -> Response:
    user: User = request.state.user
    session, case, _ = await access_session(user, request.path_params["session_id"])
    now = utcnow()
    participant = await participant_of(user, session, now)
    evidence = await Evidence.filter(case=case).order_by("id")
    parties = await Party.filter(case=case, user_id__isnull=False).values_list(
        "user_id", "side", "name"
    )
    return render(
        request,
        "mediator/room.html",
        {
            "session": session,
            "case": case,
            "participant": participant,
            "room_open": participant is not None,
            "start_room": starting_room(session.mode, participant) if participant else None,
            "opens_at": opens_at(session),
            "is_open": is_open(session, now),
            "evidence": evidence,
            "parties": parties,
            "agreement": await agreement_summary(case),
        },
    )


@signed_in()
async def calendar(request: Request) -> Response:
    user: User = request.state.user
    session, case, _ = await access_session(user, request.path_params["session_id"])
    url = f"{settings_of(request).base_url}/sessions/{session.id}"
    return Response(
        ics_for(session, case.number, url, utcnow()),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session.id}.ics"'},
    )


@signed_in()
async def transcript(request: Request) -> Response:
    user: User = request.state.user
    session, case, facts = await access_session(user, request.path_params["session_id"])
    record = await Transcript.get_or_none(session=session)
    if record is None:
        raise CaseNotFound("not_found")
    side = await Party.filter(case=case, user_id=user.id).values_list("side", flat=True)
    if request.method == "POST":
        async with checked_form(request):
            pass
        if not side:
            raise CaseNotFound("not_found")
        await do_confirm_transcript(user, record, str(side[0]), utcnow())
        return RedirectResponse(f"/sessions/{session.id}/transcript", status_code=303)
    return render(
        request,
        "disputant/transcript.html",
        {
            "session": session,
            "case": case,
            "transcript": record,
            "your_side": str(side[0]) if side else None,
            "staff": handles_case(viewer_of(user), facts),
        },
    )


# --- the WebSocket ----------------------------------------------------------------------------


def hub_of(websocket: WebSocket) -> Hub:
    hub: Hub = websocket.app.state.hub
    return hub


def rosters_of(websocket: WebSocket) -> RosterCache:
    state = websocket.app.state
    if not hasattr(state, "rosters"):
        state.rosters = RosterCache()
    rosters: RosterCache = state.rosters
    return rosters


async def authenticate(websocket: WebSocket) -> tuple[int, Participant] | int:
    user = await user_of_session(websocket.session) if "session" in websocket.scope else None
    if user is None:
        return CloseCode.UNAUTHORISED
    # One query for the user (a sign-out shuts them out at once); the session's roster is
    # cached briefly, for a storm of reconnects (see RosterCache).
    roster = await rosters_of(websocket).get(websocket.path_params["session_id"])
    if roster is None:
        return CloseCode.NOT_A_PARTICIPANT
    session = roster.session
    hub = hub_of(websocket)
    if session.status == SessionStatus.ENDED or hub.has_ended(session.id):
        # Told apart from a refusal, so a party who was offline at the end is not told
        # they were removed.
        return CloseCode.SESSION_ENDED
    participant = roster.participant(user, utcnow())
    if participant is None or hub.is_barred(session.id, user.id):
        return CloseCode.NOT_A_PARTICIPANT
    return session.id, participant


async def on_control(session_id: int, action: str) -> None:
    if action == "end":
        await do_end_session(session_id, utcnow(), reader=record_reader())


routes = [
    Route("/cases/{number:case}/sessions", schedule, methods=["POST"]),
    Route("/sessions/{session_id:id}", room),
    Route("/sessions/{session_id:id}/calendar.ics", calendar),
    Route("/sessions/{session_id:id}/transcript", transcript, methods=["GET", "POST"]),
    Route("/sessions/{session_id:id}/{action}", manage, methods=["POST"]),
    WebSocketRoute(
        "/ws/sessions/{session_id:id}",
        room_endpoint(hub_of, authenticate, enrich_post, on_control),
    ),
]
