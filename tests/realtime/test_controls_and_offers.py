"""Offers and their answers, evidence shown in the room, and the mediator's controls: mute,
remove and end (with the transcript the parties then confirm over HTTP)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.rooms import (
    LiveRoom,
    enter,
    live_room,
    orm,
    refused,
    run_scenario,
    stored_rows,
)


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("controls")) as room:
        yield room


def test_offer_counter_accept_is_delivered_to_all_and_kept_as_history(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(
                live.base, session_id, live.cookies["respondent"], "respondent"
            )
            offer = (
                await applicant.ack(
                    await applicant.post("退还全部团费", kind="offer", amount="3680")
                )
            )["seq"]
            counter = (
                await respondent.ack(
                    await respondent.post(
                        "扣除已产生费用",
                        kind="offer_response",
                        offer_seq=offer,
                        response="counter",
                        amount="2500.5",
                    )
                )
            )["seq"]
            accept = (
                await applicant.ack(
                    await applicant.post(
                        "", kind="offer_response", offer_seq=counter, response="accept"
                    )
                )
            )["seq"]
            # A counter-offer can itself be answered; so can the original offer, by a reject.
            reject = (
                await respondent.ack(
                    await respondent.post(
                        "", kind="offer_response", offer_seq=offer, response="reject"
                    )
                )
            )["seq"]
            assert [offer, counter, accept, reject] == [1, 2, 3, 4]
            for client in (mediator, applicant, respondent):
                await client.wait_seq(4)
                kinds = [(m["kind"], m["body"].get("response")) for m in client.messages()]
                assert kinds == [
                    ("offer", None),
                    ("offer_response", "counter"),
                    ("offer_response", "accept"),
                    ("offer_response", "reject"),
                ]
            rows = await stored_rows(session_id, "joint")
            assert [(r.seq, r.kind, r.sender_side) for r in rows] == [
                (1, "offer", "applicant"),
                (2, "offer_response", "respondent"),
                (3, "offer_response", "applicant"),
                (4, "offer_response", "respondent"),
            ]
            assert rows[0].body == {"amount": "3680.00", "text": "退还全部团费"}
            assert rows[1].body == {
                "offer_seq": 1,
                "response": "counter",
                "text": "扣除已产生费用",
                "amount": "2500.50",
            }
            assert rows[2].body == {"offer_seq": 2, "response": "accept", "text": ""}
            # An answer to an answer that is not a counter-offer is refused.
            bad = await applicant.post(
                "", kind="offer_response", offer_seq=accept, response="accept"
            )
            assert await applicant.error(bad) == "bad_offer_reference"
            assert len(await stored_rows(session_id)) == 4

    run_scenario(scenario)


def test_evidence_shown_in_the_room_carries_its_filename_and_hash(live: LiveRoom) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(
                live.base, session_id, live.cookies["respondent"], "respondent"
            )
            # The client names only the evidence; what travels comes from the case record.
            shown = await applicant.post(
                "", kind="evidence", evidence_id=live.world.evidence_id, filename="fake.exe"
            )
            await applicant.ack(shown)
            expected = {
                "evidence_id": live.world.evidence_id,
                "filename": "旅游合同.pdf",
                "sha256": live.world.evidence_sha256,
                "media_type": "application/pdf",
            }
            for client in (mediator, applicant, respondent):
                frame = await client.wait(
                    lambda f: f["type"] == "message" and f["kind"] == "evidence"
                )
                assert frame["body"] == expected
            rows = await stored_rows(session_id)
            assert [(r.kind, r.body) for r in rows] == [("evidence", expected)]

    run_scenario(scenario)


def test_a_muted_party_cannot_post_until_unmuted(live: LiveRoom) -> None:
    session_id = live.new_session()
    applicant_id = live.world.room.user_ids["applicant"]

    async def scenario() -> None:
        async with orm(live.database_url):
            mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
            respondent = await enter(
                live.base, session_id, live.cookies["respondent"], "respondent"
            )
            await mediator.ack(await mediator.control("mute", user_id=applicant_id))
            for client in (mediator, applicant, respondent):
                control = await client.wait(
                    lambda f: f["type"] == "message" and f["kind"] == "control"
                )
                assert control["body"]["action"] == "mute"
                assert control["body"]["user_id"] == applicant_id
            stored = len(await stored_rows(session_id))
            for room in ("joint", "caucus:applicant"):
                attempt = await applicant.post("我还有话说", room)
                assert await applicant.error(attempt) == "muted"
            offer = await applicant.post("", kind="offer", amount="100")
            assert await applicant.error(offer) == "muted"
            assert len(await stored_rows(session_id)) == stored
            # The others are not muted.
            await respondent.ack(await respondent.post("我可以说"))
            # Still muted after reconnecting, and told so on arrival.
            await applicant.close()
            applicant = await enter(live.base, session_id, live.cookies["applicant"], "again")
            assert applicant.of_type("welcome")[0]["muted"] is True
            attempt = await applicant.post("现在呢")
            assert await applicant.error(attempt) == "muted"
            await mediator.ack(await mediator.control("unmute", user_id=applicant_id))
            await applicant.wait(
                lambda f: f["type"] == "message" and f["body"].get("action") == "unmute"
            )
            ack = await applicant.ack(await applicant.post("谢谢"))
            await respondent.wait_seq(ack["seq"])

    run_scenario(scenario)


def test_a_removed_party_is_disconnected_and_cannot_come_back(live: LiveRoom) -> None:
    session_id = live.new_session()
    respondent_id = live.world.room.user_ids["respondent"]

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await mediator.ack(await mediator.control("remove", user_id=respondent_id))
        # The removal reaches the removed party first, then its socket closes.
        await respondent.wait(lambda f: f["type"] == "message" and f["kind"] == "control")
        assert await respondent.closed() == 4404
        assert await refused(live.base, session_id, live.cookies["respondent"]) in (4403, 4404)
        # The room carries on for the others.
        ack = await applicant.ack(await applicant.post("继续"))
        await mediator.wait_seq(ack["seq"])
        assert not mediator.is_closed and not applicant.is_closed

    run_scenario(scenario)


def test_ending_closes_every_socket_and_leaves_a_transcript_the_parties_confirm(
    live: LiveRoom,
) -> None:
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        await applicant.ack(await applicant.post("同意以两千五百元和解"))
        await mediator.ack(await mediator.post("双方达成一致", kind="note"))
        end = await mediator.control("end")
        for client in (mediator, applicant, respondent):
            control = await client.delivered(end)
            assert control["body"]["action"] == "end"
            assert await client.closed() == 4410
        for who in ("mediator", "applicant", "respondent"):
            # Ended, told apart from a refusal (the door's roster may be a moment old).
            assert await refused(live.base, session_id, live.cookies[who]) == 4410

    run_scenario(scenario)

    async def ended() -> tuple[str, str, str]:
        from cases.sessions.models import MediationSession, Transcript

        async with orm(live.database_url):
            for _ in range(100):
                transcript = await Transcript.get_or_none(session_id=session_id)
                if transcript is not None:
                    session = await MediationSession.get(id=session_id)
                    return str(session.status), transcript.text, transcript.sha256
                await asyncio.sleep(0.1)
        raise AssertionError("no transcript")

    status, text, sha256 = asyncio.run(ended())
    assert status == "ended"
    assert sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert "同意以两千五百元和解" in text and "双方达成一致" in text

    for who in ("applicant", "respondent"):
        name, value = live.cookies[who].split("=", 1)
        with httpx.Client(base_url=live.base, cookies={name: value}) as http:
            page = http.get(f"/sessions/{session_id}/transcript")
            assert page.status_code == 200
            assert sha256 in page.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token, page.text[:500]
            answer = http.post(
                f"/sessions/{session_id}/transcript", data={"csrf_token": token.group(1)}
            )
            assert answer.status_code == 303, answer.text[:500]
            again = http.get(f"/sessions/{session_id}/transcript")
            # The confirmation form is gone (the sign-out form keeps its token).
            forms = page.text.count('name="csrf_token"')
            assert again.text.count('name="csrf_token"') == forms - 1
    # The outsider can neither read nor confirm it.
    name, value = live.cookies["outsider"].split("=", 1)
    with httpx.Client(base_url=live.base, cookies={name: value}) as http:
        assert http.get(f"/sessions/{session_id}/transcript").status_code == 404

    async def confirmations() -> dict[str, str]:
        from cases.sessions.models import Transcript

        async with orm(live.database_url):
            transcript = await Transcript.get(session_id=session_id)
            return dict(transcript.confirmations)

    assert set(asyncio.run(confirmations())) == {"applicant", "respondent"}
