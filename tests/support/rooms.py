"""A case in mediation with a session open now, and signed-in WebSocket clients for it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from mediation.settings import Settings
from tests.support.factories import STAFF_PASSWORD

APPLICANT = ("13812345678", "applicant pass 1")
RESPONDENT = ("13900001111", "respondent pass 1")
MEDIATOR = ("room_mediator", STAFF_PASSWORD)
OUTSIDER = ("13700002222", "outsider pass 1")


@dataclass(frozen=True)
class RoomWorld:
    session_id: int
    case_number: str
    user_ids: dict[str, int]


async def build_room_world(
    settings: Settings, starts_in: timedelta = timedelta(minutes=5)
) -> RoomWorld:
    from cases.actions import Filer
    from cases.models import Case, Invitation
    from cases.status import Status
    from mediation.accounts import do_create_staff, do_register_disputant
    from mediation.assignment import do_respondent_consents
    from mediation.intake import file_dispute
    from mediation.models import MediationSession, Organisation, Role, Track
    from tests.support.factories import filing_fields

    now = datetime.now(UTC)
    org = await Organisation.create(
        code="ROOMORG",
        name="调解组织",
        name_en="Org",
        track=Track.PEOPLES,
        categories=["tour_refund"],
        service_areas=["长宁区"],
    )
    mediator = await do_create_staff(
        username=MEDIATOR[0],
        password=MEDIATOR[1],
        role=Role.MEDIATOR,
        display_name="调解员 王",
        organisation_id=org.id,
    )
    applicant = await do_register_disputant(
        identifier=APPLICANT[0], password=APPLICANT[1], display_name="张三"
    )
    respondent = await do_register_disputant(
        identifier=RESPONDENT[0], password=RESPONDENT[1], display_name="某旅行社"
    )
    outsider = await do_register_disputant(
        identifier=OUTSIDER[0], password=OUTSIDER[1], display_name="李四"
    )
    case = await file_dispute(settings, filing_fields(), [], Filer(user_id=applicant.id), now)
    invitation = await Invitation.get(case=case)
    await do_respondent_consents(invitation, respondent.id, now)
    # Straight to mediation: how the mediator got here is the routing tests' business.
    await Case.filter(id=case.id).update(
        status=Status.IN_MEDIATION, mediator_id=mediator.id, organisation_id=org.id
    )
    session = await MediationSession.create(
        case_id=case.id, starts_at=now + starts_in, scheduled_by=mediator, created_at=now
    )
    return RoomWorld(
        session.id,
        case.number,
        {
            "applicant": applicant.id,
            "respondent": respondent.id,
            "mediator": mediator.id,
            "outsider": outsider.id,
        },
    )


def session_cookie(base_url: str, identifier: str, password: str) -> str:
    """Sign in over HTTP and return the session cookie header value."""
    with httpx.Client(base_url=base_url) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        answer = http.post(
            "/signin",
            data={"csrf_token": token.group(1), "identifier": identifier, "password": password},
        )
        assert answer.status_code in (200, 303), answer.text[:500]
        value = http.cookies.get("mediation_session")
        assert value, "not signed in"
        return f"mediation_session={value}"


def ws_url(base_url: str, session_id: int) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/sessions/{session_id}"


async def join(
    base_url: str, session_id: int, cookie: str, rooms: dict[str, Any] | None = None
) -> ClientConnection:
    socket = await connect(ws_url(base_url, session_id), additional_headers={"Cookie": cookie})
    await socket.send(json.dumps({"type": "resume", "rooms": rooms or {}}))
    return socket


async def frames_until(
    socket: ClientConnection, predicate: Any, limit: int = 200
) -> list[dict[str, Any]]:
    """Read frames (skipping pings) until one satisfies `predicate`; returns all read."""
    seen = []
    for _ in range(limit):
        frame = json.loads(await socket.recv())
        if frame.get("type") == "ping":
            continue
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame in {seen[-5:]}")
