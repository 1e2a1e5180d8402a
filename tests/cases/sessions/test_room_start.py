"""Where a participant's room page opens (cases.sessions.actions.starting_room): pure."""

from __future__ import annotations

import pytest

from cases.sessions.actions import starting_room
from cases.sessions.models import SessionMode
from realtime.protocol import Participant

MEDIATOR = Participant(1, "调解员", is_mediator=True, side=None)
APPLICANT = Participant(2, "张三", is_mediator=False, side="applicant")
RESPONDENT = Participant(3, "某旅行社", is_mediator=False, side="respondent")


@pytest.mark.parametrize(
    ("mode", "participant", "room"),
    [
        (SessionMode.JOINT, MEDIATOR, "joint"),
        (SessionMode.JOINT, APPLICANT, "joint"),
        (SessionMode.JOINT, RESPONDENT, "joint"),
        # 背对背: each party alone with the mediator first, never in the joint room.
        (SessionMode.BACK_TO_BACK, APPLICANT, "caucus:applicant"),
        (SessionMode.BACK_TO_BACK, RESPONDENT, "caucus:respondent"),
        # The mediator reads every room and chooses whom to talk to.
        (SessionMode.BACK_TO_BACK, MEDIATOR, "joint"),
        # As stored (the enum's value) it reads the same.
        ("back_to_back", APPLICANT, "caucus:applicant"),
        ("joint", APPLICANT, "joint"),
    ],
)
def test_starting_room(mode: SessionMode | str, participant: Participant, room: str) -> None:
    assert starting_room(mode, participant) == room
