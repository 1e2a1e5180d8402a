"""One dispute, one number through the partner API: a partner's filing of a dispute that
has an open case answers 200 with `merged_into`, files nothing new, and replays as usual."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.duplicates.models import CaseSource
from cases.models import Case, Evidence
from tests.support.factories import PNG_BYTES, api_filing_body, party_ids
from tests.support.live_server import run_server, run_with_orm
from tests.support.required import required_module

URL = "/api/v1/disputes"
RETOLD = "我10月报名了云南六日游，旅行社在出发前三天单方面取消了行程，团费至今没有退还。"


def create_partner(client: TestClient, name: str) -> str:
    async def create() -> str:
        _, key = await do_create_partner(name)
        return key

    return client.portal.call(create)


def headers(key: str, idempotency_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key}


def test_a_second_partners_filing_of_the_same_dispute_is_merged(client: TestClient) -> None:
    trip = create_partner(client, "某旅游平台")
    shop = create_partner(client, "某电商平台")
    first = client.post(URL, json=api_filing_body("T-1"), headers=headers(trip, "t-1"))
    assert first.status_code == 201, first.text
    number = first.json()["case_number"]

    body = api_filing_body("S-7", evidence=[("截图.png", PNG_BYTES)], facts=RETOLD)
    merged = client.post(URL, json=body, headers=headers(shop, "s-7"))

    assert merged.status_code == 200, merged.text
    answer = merged.json()
    assert answer["merged_into"] == number
    assert answer["case_number"] == number
    assert answer["partner_reference"] == "S-7"  # its own, not the first partner's
    assert answer["status"] == "awaiting_consent"
    assert re.match(r"^\d{4}-\d\d-\d\dT", answer["created_at"])
    assert "idempotent-replayed" not in merged.headers
    # As the API's description says (DisputeStatus, every property present).
    components = client.get("/api/v1/openapi.json").json()["components"]
    status_schema = components["schemas"]["DisputeStatus"]
    # Its $refs point into the document's components: validate with them at hand.
    rooted = {**status_schema, "components": components}
    required_module("jsonschema").Draft202012Validator(rooted).validate(answer)
    assert set(answer) == set(status_schema["properties"])

    async def stored() -> tuple[int, list[tuple[str, str | None, str | None]], list[str]]:
        sources = await CaseSource.filter(case__number=number).order_by("id")
        files = await Evidence.filter(case__number=number).order_by("id")
        return (
            await Case.all().count(),
            [(str(s.channel), s.partner_reference, s.idempotency_key) for s in sources],
            [e.filename for e in files],
        )

    cases, sources, files = client.portal.call(stored)
    assert cases == 1
    assert sources == [("partner", "T-1", "t-1"), ("partner", "S-7", "s-7")]
    assert files == ["合同.pdf", "截图.png"]

    # A retry of the merged request replays the same answer.
    again = client.post(URL, json=body, headers=headers(shop, "s-7"))
    assert (again.status_code, again.json()) == (200, answer)
    assert again.headers["idempotent-replayed"] == "true"


def test_a_filing_of_another_dispute_is_a_case_of_its_own(client: TestClient) -> None:
    trip = create_partner(client, "某旅游平台")
    first = client.post(URL, json=api_filing_body("T-1"), headers=headers(trip, "t-1"))
    other = client.post(
        URL, json=api_filing_body("T-2", **party_ids(3)), headers=headers(trip, "t-2")
    )
    assert (first.status_code, other.status_code) == (201, 201), other.text
    assert "merged_into" not in other.json()
    assert other.json()["case_number"] != first.json()["case_number"]


def test_two_partners_filing_one_dispute_at_once_over_http_make_one_case(
    database_url: str, tmp_path: Path
) -> None:
    """A real server process, each filing held half a second right after looking for an
    open case (PAUSE_POINTS): without the pair's lock both would find none and open two
    cases (PostgreSQL); with it the second is merged. Run with DATABASE_URL=postgres://...
    too; on SQLite the database serialises the two."""

    async def seed() -> tuple[str, str]:
        _, trip = await do_create_partner("某旅游平台")
        _, shop = await do_create_partner("某电商平台")
        return trip, shop

    trip, shop = run_with_orm(database_url, seed)
    env = {
        "DATABASE_URL": database_url,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "PAUSE_POINTS": "dispute_lock=0.5",
    }
    with run_server(env) as base_url:

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                return await asyncio.gather(
                    http.post(URL, json=api_filing_body("T-1"), headers=headers(trip, "t-1")),
                    http.post(
                        URL,
                        json=api_filing_body("S-1", facts=RETOLD),
                        headers=headers(shop, "s-1"),
                    ),
                )

        responses = asyncio.run(fire())

    summary = [(r.status_code, r.text) for r in responses]
    assert sorted(r.status_code for r in responses) == [200, 201], summary
    merged = next(r.json() for r in responses if r.status_code == 200)
    created = next(r.json() for r in responses if r.status_code == 201)
    assert merged["merged_into"] == created["case_number"], summary

    async def stored() -> tuple[int, int]:
        return await Case.all().count(), await CaseSource.all().count()

    assert run_with_orm(database_url, stored) == (1, 2)
