"""The offers made in live sessions are part of the case, shown to each person as the room
would show them: never another side's caucus or concession (Art. 18)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from mediation.settings import Settings
from realtime.models import RoomMessage
from tests.support.factories import cheap_password_hashing, run, switch_to
from tests.support.rooms import APPLICANT, MEDIATOR, OUTSIDER, RESPONDENT, build_room_world

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def test_offer_history_follows_the_room_privacy(client: TestClient, settings: Settings) -> None:
    world = run(client, build_room_world, settings)
    users = world.user_ids

    async def offers() -> None:
        rows = [
            ("joint", 1, users["applicant"], "applicant", {"amount": "3600.00"}, False),
            ("caucus:applicant", 1, users["applicant"], "applicant", {"amount": "2111.00"}, False),
            ("joint", 2, users["respondent"], "respondent", {"amount": "1777.00"}, True),
            ("joint", 3, users["respondent"], "respondent", {"response": "accept"}, False),
        ]
        for room, seq, sender, side, body, concession in rows:
            await RoomMessage.create(
                session_id=world.session_id,
                room=room,
                seq=seq,
                sender_id=sender,
                sender_name=side,
                sender_side=side,
                kind="offer_response" if "response" in body else "offer",
                body={**body, "text": "", **({"offer_seq": 1} if "response" in body else {})},
                concession=concession,
                client_id=f"{room}-{seq}-offer",
                created_at=NOW,
            )

    run(client, offers)
    page = f"/cases/{world.case_number}"

    switch_to(client, *APPLICANT)
    seen = client.get(page).text
    # In words, as a record says money (人民币3,600.00元), never "¥" or "#n".
    assert "人民币3,600.00元" in seen and "人民币2,111.00元" in seen
    assert "1,777" not in seen and "1777" not in seen
    assert "respondent接受了applicant提出的人民币3,600.00元方案。" in seen
    assert "¥" not in seen

    switch_to(client, *RESPONDENT)
    seen = client.get(page).text
    assert "人民币3,600.00元" in seen and "人民币1,777.00元" in seen
    assert "2,111" not in seen and "2111" not in seen

    switch_to(client, *MEDIATOR)
    seen = client.get(page).text
    assert all(amount in seen for amount in ("3,600.00元", "2,111.00元", "1,777.00元"))

    switch_to(client, *OUTSIDER)
    refused = client.get(page)
    assert refused.status_code == 404
    assert "3600" not in refused.text
