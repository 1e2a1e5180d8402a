"""An offer's terms as a frame carries them: the amount, the conditions, and an optional time
by which to answer (the room's offer form), checked before anything is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from realtime.protocol import FrameError, Participant, Post, parse_frame

PARTY = Participant(user_id=1, name="张三", is_mediator=False, side="applicant")


def frame(**fields: Any) -> str:
    return json.dumps({"room": "joint", "client_id": "c" * 16, **fields})


def post(raw: str) -> Post:
    parsed = parse_frame(raw, PARTY)
    assert isinstance(parsed, Post)
    return parsed


def test_an_offer_keeps_its_conditions_and_time_to_answer() -> None:
    got = post(
        frame(
            type="offer", amount="3200", text="七日内银行转账", answer_by="2026-12-05T18:00+08:00"
        )
    )
    assert got.body == {
        "amount": "3200.00",
        "text": "七日内银行转账",
        "answer_by": "2026-12-05T18:00+08:00",
    }
    # The time to answer is optional.
    assert "answer_by" not in post(frame(type="offer", amount="1", answer_by="")).body
    assert "answer_by" not in post(frame(type="offer", amount="1")).body


def test_a_counter_offer_keeps_its_time_to_answer() -> None:
    got = post(
        frame(
            type="offer_response",
            offer_seq=3,
            response="counter",
            amount="3000",
            text="分两期",
            answer_by="2026-12-05T10:30:00+08:00",
        )
    )
    assert got.body["answer_by"] == "2026-12-05T10:30+08:00"
    assert got.body["amount"] == "3000.00"


@pytest.mark.parametrize("value", ["tomorrow", "2026-12-05T18:00", 20261205, "9" * 50])
def test_a_time_to_answer_without_a_zone_or_not_a_time_is_refused(value: object) -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(frame(type="offer", amount="1", answer_by=value), PARTY)
    assert refused.value.code == "bad_answer_by"
