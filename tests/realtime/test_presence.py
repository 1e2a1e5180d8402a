"""Presence counts connections, not users: a user with the room open twice (two tabs, a
phone and a laptop) who closes one stays online, for everyone and in the remaining tab, and
goes offline only with the last one. The same across two processes is in
test_two_processes.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.rooms import LiveRoom, RoomClient, enter, live_room, run_scenario

# Long enough for a wrong "offline" to have come, had it been sent.
SETTLE_SECONDS = 1.0


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("presence")) as room:
        yield room


def online(client: RoomClient) -> set[int]:
    """Who `client` is showing online: the last presence frame of each user."""
    seen: dict[int, bool] = {}
    for frame in client.of_type("presence"):
        seen[frame["user"]["id"]] = frame["online"]
    return {user for user, on in seen.items() if on}


async def closing_one_of_two_tabs(
    bases: list[str], cookies: dict[str, str], session_id: int, respondent_id: int
) -> None:
    """The mediator on the first server, the respondent's tabs on the first and the last."""
    mediator = await enter(bases[0], session_id, cookies["mediator"], "mediator")
    tab_a = await enter(bases[0], session_id, cookies["respondent"], "respondent-a")
    tab_b = await enter(bases[-1], session_id, cookies["respondent"], "respondent-b")
    for client in (mediator, tab_a, tab_b):
        await client.wait(lambda f, c=client: respondent_id in online(c))
    await tab_a.close()
    await asyncio.sleep(SETTLE_SECONDS)
    for client in (mediator, tab_b):
        assert respondent_id in online(client), client.name
    # Someone arriving now is told the respondent is there.
    applicant = await enter(bases[0], session_id, cookies["applicant"], "applicant")
    await asyncio.sleep(SETTLE_SECONDS)
    assert respondent_id in online(applicant)
    # The last tab closes: now offline, for everyone.
    await tab_b.close()
    for client in (mediator, applicant):
        await client.wait(lambda f, c=client: respondent_id not in online(c))


def test_closing_one_of_two_tabs_keeps_the_user_online(live: LiveRoom) -> None:
    session_id = live.new_session()
    respondent_id = live.world.room.user_ids["respondent"]
    run_scenario(
        lambda: closing_one_of_two_tabs(live.bases, live.cookies, session_id, respondent_id)
    )
