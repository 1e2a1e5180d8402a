"""A room with a long history: a fresh page gets its newest part, a stale resume reloads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rooms import LiveRoom, enter, live_room, run_scenario

REPLAY_LIMIT = 30


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    env = {"ROOM_REPLAY_LIMIT": str(REPLAY_LIMIT)}
    with live_room(template_database, tmp_path_factory.mktemp("history"), env) as room:
        yield room


def test_a_long_history_is_truncated_for_a_fresh_page_and_resets_a_resume(live: LiveRoom) -> None:
    """A page load gets the newest REPLAY_LIMIT messages and where they start (never a reset
    it would meet again on every reload); a resume that far behind is told to reload."""
    session_id = live.new_session()

    async def scenario() -> None:
        mediator = await enter(live.base, session_id, live.cookies["mediator"], "mediator")
        early = await enter(live.base, session_id, live.cookies["applicant"], "early")
        position = dict(early.positions["joint"])
        await early.socket.close()
        for n in range(REPLAY_LIMIT + 10):
            await mediator.ack(await mediator.post(f"第{n + 1}条"))

        fresh = await enter(live.base, session_id, live.cookies["respondent"], "fresh")
        [notice] = fresh.of_type("history_truncated")
        assert notice["from_seq"] == 11
        assert fresh.seqs() == list(range(11, REPLAY_LIMIT + 11))
        assert not fresh.of_type("reset")

        behind = await enter(
            live.base, session_id, live.cookies["applicant"], "behind", {"joint": position}
        )
        assert [f["reason"] for f in behind.of_type("reset")] == ["too_far_behind"]
        assert behind.seqs() == []

    run_scenario(scenario)
