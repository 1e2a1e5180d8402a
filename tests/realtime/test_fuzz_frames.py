"""Property-based fuzzing of the room's WebSocket frames (issue 9), against a real server.

Whatever the mediator or a party sends (structured frames with hostile values, arbitrary
JSON, garbage text and bytes): it is answered with an error frame or an acknowledgement, the
sender's connection and everyone else's stay open, and everything stored afterwards replays
to a newcomer and makes a transcript, with every string storable text.

Bounded (max_examples below, no deadline) so that it runs in CI on SQLite and on PostgreSQL
with Redis; the number of frames sent and the time are printed."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from realtime.text import first_bad_string
from tests.support.rooms import LiveRoom, RoomClient, enter, live_room, orm, run_scenario

# Each a fresh session and a list of up to 12 frames; FUZZ_MAX_EXAMPLES runs it longer.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "120"))
PARTICIPANTS = ("mediator", "applicant", "respondent")

# Strings that broke a door before, mixed with ordinary ones.
NASTY = ["\ud800", "\udfff", "\ud83d", "\x00", "\x1b", "\x7f", "\ufffe", "\u202e", "长", "😀"]
texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=8).map("".join),
    st.sampled_from(["", " ", "x" * 4001, "方案"]),
)
integers = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([2**31 - 1, 2**31, 2**63, -(2**63), 10**30]),
)
json_values = st.recursive(
    st.none() | st.booleans() | integers | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
KINDS = ["message", "offer", "offer_response", "evidence", "note", "control", "typing"]
KINDS += ["resume", "ping", "agreement", "shout"]
ROOMS = ["joint", "caucus:applicant", "caucus:respondent", "lobby", "caucus:"]
structured = st.fixed_dictionaries(
    {
        "type": st.sampled_from(KINDS) | texts,
        "room": st.sampled_from(ROOMS) | json_values,
        "client_id": st.uuids().map(lambda u: f"fuzz-{u.hex}") | json_values,
    },
    optional={
        "text": texts | json_values,
        "amount": st.sampled_from(["10", "1280.50", "-1", "1e9", "NaN", "1,000"]) | json_values,
        "offer_seq": integers | json_values,
        "response": st.sampled_from(["accept", "reject", "counter"]) | json_values,
        "evidence_id": integers | json_values,
        "concession": st.booleans() | json_values,
        "action": st.sampled_from(["open_caucus", "close_caucus", "mute", "unmute"]) | json_values,
        "side": st.sampled_from(["applicant", "respondent"]) | json_values,
        "user_id": integers | json_values,
        "rooms": json_values,
    },
)
# A frame as it goes on the wire: JSON with \u escapes (so lone surrogates travel, as they
# did in the attack), raw text, or a binary frame.
wire = st.one_of(
    structured.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=50),
    st.binary(max_size=50),
    st.sampled_from(["[" * 5000, '{"n": ' + "9" * 5000 + "}", "{" + '"a":' * 3]),
)


def _closes_the_room(raw: str | bytes) -> bool:
    """A mediator's valid `remove` or `end` closes connections on purpose."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(frame, dict)
        and frame.get("type") == "control"
        and frame.get("action") in ("remove", "end")
    )


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("fuzz-frames")) as room:
        yield room


async def _answered(client: RoomClient) -> None:
    """Wait until the server has handled everything `client` sent (frames are handled in
    order, so a pong means the frames before the ping were answered)."""
    mark = len(client.frames)
    await client.send({"type": "ping"})
    await client.wait(lambda f: f["type"] == "pong", within=10, since=mark)


def _check_stored(rows: list[Any]) -> None:
    for row in rows:
        for value in (row.body, row.sender_name, row.room, row.kind, row.client_id):
            assert first_bad_string(value) is None, (row.id, value)
        json.dumps(row.body, ensure_ascii=False).encode("utf-8")


def test_fuzzed_frames_get_an_answer_never_drop_anyone_and_store_only_good_text(
    live: LiveRoom,
) -> None:
    sent = [0]
    started = time.monotonic()

    @given(frames=st.lists(st.tuples(st.sampled_from(PARTICIPANTS), wire), min_size=1, max_size=12))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,  # nothing written into the checkout; failures print their example
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def fuzz(frames: list[tuple[str, str | bytes]]) -> None:
        assume(not any(_closes_the_room(raw) for _, raw in frames))
        session_id = live.new_session()

        async def scenario() -> None:
            from cases.sessions.actions import make_transcript
            from cases.sessions.models import MediationSession
            from mediation.web import record_reader
            from realtime.models import RoomMessage

            async with orm(live.database_url):
                clients = {
                    who: await enter(live.base, session_id, live.cookies[who], who)
                    for who in PARTICIPANTS
                }
                for who, raw in frames:
                    await clients[who].socket.send(raw)
                    await _answered(clients[who])
                    sent[0] += 1
                    for name, client in clients.items():
                        assert not client.is_closed, f"{name} dropped after {raw!r}"
                rows = list(await RoomMessage.filter(session_id=session_id).order_by("id"))
                _check_stored(rows)
                # A newcomer's replay of everything stored goes through, in order.
                late = await enter(live.base, session_id, live.cookies["mediator"], "late")
                replayed = [f for f in late.frames if f["type"] == "message"]
                assert len(replayed) == len(rows)
                assert not late.is_closed
                for client in [*clients.values(), late]:
                    await client.close()
                session = await MediationSession.get(id=session_id)
                transcript = await make_transcript(
                    session, session.starts_at, reader=record_reader()
                )
                transcript.text.encode("utf-8")

        run_scenario(scenario)

    fuzz()
    print(
        f"frame fuzzing: {sent[0]} frames in {MAX_EXAMPLES} examples, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert sent[0] > MAX_EXAMPLES  # the lists were not all filtered away
