"""Privacy: a caucus is the mediator's and that party's only; a concession reaches only the
mediator and its author; neither is replayed to anyone else or written into the transcript;
only the case's participants get into an open room."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support.rooms import (
    RESPONDENT,
    LiveRoom,
    RoomClient,
    enter,
    live_room,
    orm,
    refused,
    run_scenario,
    session_cookie,
    stored_rows,
)

APPLICANT_SECRET = "底线是两千八"
RESPONDENT_SECRET = "我们最多退两千"
CONCESSION = "其实可以接受一半"
CONCESSION_AMOUNT = "1840.00"


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("privacy")) as room:
        yield room


def _texts(client: RoomClient) -> list[str]:
    return [str(f["body"].get("text", "")) for f in client.of_type("message")]


def _leaks(client: RoomClient, other_side: str) -> list[dict[str, Any]]:
    """Frames a party should never have had: the other party's caucus, its secret, or the
    other party's concessions (in this module only the applicant makes concessions)."""
    secret = APPLICANT_SECRET if other_side == "applicant" else RESPONDENT_SECRET
    return [
        f
        for f in client.frames
        if f.get("room") == f"caucus:{other_side}"
        or secret in str(f)
        or (other_side == "applicant" and (CONCESSION in str(f) or CONCESSION_AMOUNT in str(f)))
        or (f["type"] == "message" and f["concession"] and f["sender"]["side"] == other_side)
    ]


async def _say_private_things(
    mediator: RoomClient, applicant: RoomClient, respondent: RoomClient
) -> None:
    await applicant.ack(await applicant.post(APPLICANT_SECRET, "caucus:applicant"))
    await respondent.ack(await respondent.post(RESPONDENT_SECRET, "caucus:respondent"))
    await mediator.ack(await mediator.post("单独沟通：您的底线？", "caucus:respondent"))
    await applicant.ack(await applicant.post(CONCESSION, "joint", concession=True))
    await applicant.ack(
        await applicant.post(
            "让步方案", "joint", kind="offer", amount=CONCESSION_AMOUNT, concession=True
        )
    )
    await respondent.ack(await respondent.post("公开发言", "joint"))
    # Typing in a caucus is ephemeral, and private too.
    await applicant.send({"type": "typing", "room": "caucus:applicant"})
    await mediator.ack(await mediator.post("记录：双方已陈述", "joint", kind="note"))


def test_caucus_and_concessions_never_reach_the_other_party_live_or_by_replay(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        position = {room: dict(p) for room, p in respondent.positions.items()}
        await _say_private_things(mediator, applicant, respondent)
        # The last joint message has arrived everywhere; so has anything sent before it.
        for client in (mediator, applicant, respondent):
            await client.wait(lambda f: f["type"] == "message" and f["kind"] == "note")
        await mediator.wait(lambda f: f["type"] == "typing")

        # Live: the mediator sees everything; each party its own caucus and concessions.
        assert {APPLICANT_SECRET, RESPONDENT_SECRET, CONCESSION} <= set(_texts(mediator))
        assert APPLICANT_SECRET in _texts(applicant) and CONCESSION in _texts(applicant)
        assert RESPONDENT_SECRET not in _texts(applicant)
        assert RESPONDENT_SECRET in _texts(respondent)
        assert _leaks(respondent, "applicant") == []
        assert _leaks(applicant, "respondent") == []
        assert [f for f in respondent.frames if f["type"] == "typing"] == []
        # Concessions are kept in their author's caucus (see test_sequence_privacy.py).
        kept = "caucus:applicant"
        assert [m["kind"] for m in mediator.messages(kept) if m["concession"]] == [
            "message",
            "offer",
        ]
        assert [m["kind"] for m in applicant.messages(kept) if m["concession"]] == [
            "message",
            "offer",
        ]

        # Replay after reconnecting from the old position, and from nothing at all, even
        # when asking for the other caucus by name.
        await respondent.close()
        for rooms in (
            position,
            {},
            {
                "joint": {"epoch": position["joint"]["epoch"], "seq": 0},
                "caucus:applicant": {"epoch": "", "seq": 0},
            },
        ):
            again = await enter(live.base, session_id, live.cookies["respondent"], "r", rooms)
            assert _leaks(again, "applicant") == []
            assert RESPONDENT_SECRET in _texts(again)
            assert "公开发言" in _texts(again)
            assert {r["room"] for r in again.of_type("welcome")[0]["rooms"]} == {
                "joint",
                "caucus:respondent",
            }
            await again.close()
        # The author and the mediator get the concession back on replay.
        for who, client in (("applicant", applicant), ("mediator", mediator)):
            await client.close()
            again = await enter(live.base, session_id, live.cookies[who], who)
            assert CONCESSION in _texts(again)
            offers = [m for m in again.messages(kept) if m["kind"] == "offer"]
            assert [m["body"].get("amount") for m in offers] == [CONCESSION_AMOUNT]
            if who == "applicant":
                assert _leaks(again, "respondent") == []
            await again.close()

    run_scenario(scenario)


def test_the_transcript_keeps_the_joint_room_and_notes_but_no_caucus_or_concession(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        from cases.sessions.models import MediationSession, Transcript

        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(
                live.base, session_id, live.cookies["respondent"], "respondent"
            )
            await applicant.ack(await applicant.post("请求退还团费", "joint"))
            await _say_private_things(mediator, applicant, respondent)
            # The end closes every socket, the mediator's too: its own control message,
            # not an ack, is what it gets back.
            end = await mediator.control("end")
            await mediator.wait(lambda f: f["type"] == "message" and f["client_id"] == end)
            for client in (mediator, applicant, respondent):
                assert await client.closed() == 4410
            transcript = None
            for _ in range(100):
                transcript = await Transcript.get_or_none(session_id=session_id)
                if transcript is not None:
                    break
                await asyncio.sleep(0.1)
            assert transcript is not None, "no transcript after the end"
            session = await MediationSession.get(id=session_id)
            assert session.status == "ended"

        text = transcript.text
        assert transcript.sha256 == hashlib.sha256(text.encode()).hexdigest()
        # The mediator's note, said as one (issue 11: every line of the transcript in words).
        for present in ("请求退还团费", "公开发言", "调解员记录：记录：双方已陈述"):
            assert present in text, present
        for absent in (
            APPLICANT_SECRET,
            RESPONDENT_SECRET,
            "单独沟通：您的底线",  # the caucus message itself
            CONCESSION,
            "让步方案",
            CONCESSION_AMOUNT,
        ):
            assert absent not in text, absent

    run_scenario(scenario)


def test_only_the_case_participants_get_into_an_open_room(live: LiveRoom) -> None:
    session_id = live.new_session()
    later = live.new_session(starts_in=timedelta(hours=2))

    async def scenario() -> None:
        cookies = live.cookies
        assert await refused(live.base, session_id, cookies["outsider"]) == 4403
        assert await refused(live.base, session_id, cookies["other_mediator"]) == 4403
        assert await refused(live.base, session_id, None) == 4401
        assert await refused(live.base, session_id, "mediation_session=forged") == 4401
        assert await refused(live.base, 999_999, cookies["mediator"]) == 4403
        # Not yet open: starts in two hours, the room opens ten minutes before.
        for who in ("mediator", "applicant", "respondent"):
            assert await refused(live.base, later, cookies[who]) == 4403
        # The participants themselves do get in.
        for who in ("mediator", "applicant", "respondent"):
            client = await enter(live.base, session_id, cookies[who], who)
            await client.close()

    run_scenario(scenario)


def _sign_out(base_url: str, cookie: str) -> None:
    name, value = cookie.split("=", 1)
    with httpx.Client(base_url=base_url) as http:
        http.cookies.set(name, value)  # the form's token goes into the session cookie
        page = http.get("/file")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:300]
        answer = http.post("/signout", data={"csrf_token": token.group(1)})
        assert answer.status_code in (200, 303), answer.text[:300]


def test_signing_out_shuts_the_room_to_every_copy_of_the_cookie_at_once(
    live: LiveRoom,
) -> None:
    """The room's door reads the session's people from a brief cache, for reconnect
    storms; the user is still read afresh each time, so a sign-out counts at once."""
    session_id = live.new_session()
    cookie = session_cookie(live.base, *RESPONDENT)

    async def scenario() -> None:
        # In and out (the door has just read this session's roster), then signed out.
        client = await enter(live.base, session_id, cookie, "respondent")
        await client.close()
        await asyncio.to_thread(_sign_out, live.base, cookie)
        assert await refused(live.base, session_id, cookie) == 4401
        assert await refused(live.base, session_id, live.cookies["respondent"]) == 4401

    try:
        run_scenario(scenario)
    finally:  # every cookie of the respondent is dead now: the other tests need a new one
        live.cookies["respondent"] = session_cookie(live.base, *RESPONDENT)


def test_a_party_cannot_answer_an_offer_it_may_not_see(live: LiveRoom) -> None:
    """A concession offer is the mediator's and its author's: the other party cannot accept
    or counter it by guessing its number (nor learn from the answer that it is an offer)."""
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(
                live.base, session_id, live.cookies["respondent"], "respondent"
            )
            hidden = await applicant.ack(
                await applicant.post("", kind="offer", amount="1500", concession=True)
            )
            stored = len(await stored_rows(session_id))
            for response in ("accept", "counter"):
                attempt = await respondent.post(
                    "",
                    kind="offer_response",
                    offer_seq=hidden["seq"],
                    response=response,
                    amount="1600",
                )
                assert await respondent.error(attempt) == "bad_offer_reference"
            assert len(await stored_rows(session_id)) == stored
            # The mediator, who sees it, may answer it, where it is: the applicant's caucus.
            assert hidden["room"] == "caucus:applicant"
            answer = await mediator.post(
                "",
                "caucus:applicant",
                kind="offer_response",
                offer_seq=hidden["seq"],
                response="reject",
            )
            await mediator.ack(answer)

    run_scenario(scenario)
