"""Per-key rate limits: 429 with Retry-After past a key's budget, per key (another partner is
not slowed), in one process; and one budget for two server processes sharing Redis."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from mediation.app import create_app
from mediation.settings import Settings
from tests.support.live_server import run_server, run_with_orm

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIST = "/api/v1/disputes"


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    slow = settings.with_(partner_rate_per_second=0.5, partner_rate_burst=2)
    with TestClient(create_app(slow, background_jobs=False)) as client:
        yield client


def key_of(client: TestClient, name: str) -> str:
    async def create() -> str:
        return (await do_create_partner(name))[1]

    return client.portal.call(create)


def test_past_its_budget_a_key_gets_429_with_retry_after(limited: TestClient) -> None:
    key = key_of(limited, "某旅游平台")
    other = key_of(limited, "某电商平台")
    headers = {"Authorization": f"Bearer {key}"}

    answers = [limited.get(LIST, headers=headers) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.json()["error"] == "rate_limited"
    assert refused.json()["message"] and refused.json()["message"] != "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    # Each key has its own budget.
    assert limited.get(LIST, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # A request without a valid key is refused for that (401), and spends no one's budget.
    assert limited.get(LIST, headers={"Authorization": "Bearer nope.nope"}).status_code == 401


def test_the_budget_refills_with_time(limited: TestClient) -> None:
    headers = {"Authorization": f"Bearer {key_of(limited, '某旅游平台')}"}
    assert [limited.get(LIST, headers=headers).status_code for _ in range(3)] == [200, 200, 429]

    time.sleep(2.1)  # 0.5 tokens a second: one token back

    assert limited.get(LIST, headers=headers).status_code == 200


def test_two_server_processes_sharing_redis_share_one_budget(database_url: str) -> None:
    """Each process alone would allow 3; sharing Redis, the key has 3 in all."""

    async def seed() -> str:
        return (await do_create_partner("某旅游平台"))[1]

    key = run_with_orm(database_url, seed)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "PARTNER_RATE_PER_SECOND": "0.01",
        "PARTNER_RATE_BURST": "3",
        "PARTNER_RATE_REDIS_PREFIX": f"test:{uuid.uuid4().hex}:",
        "MEDIATION_BACKGROUND_JOBS": "0",
    }
    headers = {"Authorization": f"Bearer {key}"}
    with run_server(env) as first, run_server(env) as second:
        statuses = [
            httpx.get(f"{base}{LIST}", headers=headers).status_code
            for base in (first, second, first, second, first, second)
        ]

    assert statuses == [200, 200, 200, 429, 429, 429]
