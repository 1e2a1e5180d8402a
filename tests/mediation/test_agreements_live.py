"""The agreement, live in the session room: against a real server process, each version the
mediator saves or puts up for signature, and the effect of the last signature, reach the
parties' WebSockets as they happen; the room page shows the agreement card; the transcript
records the versions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    RESPONDENT,
    LiveRoom,
    enter,
    live_room,
    run_scenario,
)

PASSWORDS = {"mediator": MEDIATOR[1], "applicant": APPLICANT[1], "respondent": RESPONDENT[1]}


@pytest.fixture(scope="module")
def live(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRoom]:
    with live_room(template_database, tmp_path_factory.mktemp("agreement-live")) as room:
        yield room


def _client(live: LiveRoom, who: str) -> httpx.AsyncClient:
    name, value = live.cookies[who].split("=", 1)
    return httpx.AsyncClient(base_url=live.base, cookies={name: value}, timeout=30)


async def _token(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"{path}: {page.status_code} {page.text[:300]}"
    return found.group(1)


def _terms() -> dict[str, Any]:
    due = (
        datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=10)
    ).isoformat()
    return {
        "facts": "申请人参加旅行团，旅行社取消行程未退款。",
        "disputed_matters": "团费是否退还。",
        "responsibilities": "旅行社承担退款责任。",
        "other": "",
        "term_text": ["旅行社退还团费", ""],
        "term_obligor_side": ["respondent", ""],
        "term_amount": ["3680", ""],
        "term_manner": ["银行转账", ""],
        "term_due_on": [due, ""],
    }


def _agreement(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["kind"] == "agreement"


def test_versions_and_the_effect_reach_the_room_as_they_happen(live: LiveRoom) -> None:
    session_id = live.new_session()
    number = live.world.room.case_number

    async def scenario() -> None:
        applicant = await enter(live.base, session_id, live.cookies["applicant"], "applicant")
        respondent = await enter(live.base, session_id, live.cookies["respondent"], "respondent")
        async with _client(live, "mediator") as mediator:
            token = await _token(mediator, f"/cases/{number}/agreement/edit")
            saved = await mediator.post(
                f"/cases/{number}/agreement/versions", data={"csrf_token": token, **_terms()}
            )
            assert saved.status_code == 303, saved.text[:500]
            drafted = await applicant.wait(_agreement)
            assert drafted["body"]["version"] == 1
            assert drafted["body"]["status"] == "draft"
            assert drafted["body"]["url"] == f"/cases/{number}/agreement/1"
            assert len(drafted["body"]["sha256"]) == 64
            assert drafted["sender"]["id"] is None and drafted["room"] == "joint"
            await respondent.wait(_agreement)

            since = len(applicant.frames)
            token = await _token(mediator, f"/cases/{number}/agreement/1")
            frozen = await mediator.post(
                f"/cases/{number}/agreement/1/freeze", data={"csrf_token": token}
            )
            assert frozen.status_code == 303
            signing = await applicant.wait(_agreement, since=since)
            assert signing["body"]["status"] == "signing"
            assert signing["body"]["sha256"] == drafted["body"]["sha256"]

            since = len(respondent.frames)
            for who in ("applicant", "respondent", "mediator"):
                async with _client(live, who) if who != "mediator" else _same(mediator) as http:
                    token = await _token(http, f"/cases/{number}/agreement/1")
                    signed = await http.post(
                        f"/cases/{number}/agreement/1/sign",
                        data={
                            "csrf_token": token,
                            "method": "password",
                            "password": PASSWORDS[who],
                            "sha256": signing["body"]["sha256"],
                        },
                    )
                    assert signed.status_code == 303, signed.text[:500]
            effective = await respondent.wait(
                lambda f: _agreement(f) and f["body"]["status"] == "effective", since=since
            )
            assert effective["body"]["version"] == 1

            # The room page shows the card with the agreement as it now stands.
            room_page = await mediator.get(f"/sessions/{session_id}")
            assert 'id="agreement-card"' in room_page.text
            assert "agreement-status-effective" in room_page.text
            assert f"/cases/{number}/agreement/1" in room_page.text
        await applicant.close()
        await respondent.close()

    run_scenario(scenario)


class _same:
    """An async context that lends an open client without closing it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        return None
