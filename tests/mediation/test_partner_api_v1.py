"""Partner API v1 over HTTP: the list (cursor, filters), a dispute with its history, batch
filing (a result per item, partial success, replays, racing copies), and that a partner never
sees another partner's disputes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.clock import utcnow
from cases.models import Case
from cases.partners.rules import Position, encode_cursor
from tests.support.concurrency import rendezvous
from tests.support.factories import api_filing_body, party_ids

LIST = "/api/v1/disputes"
BATCH = "/api/v1/disputes/batch"


def create_partner(client: TestClient, name: str) -> str:
    async def create() -> str:
        return (await do_create_partner(name))[1]

    return client.portal.call(create)


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def file_one(client: TestClient, key: str, n: int, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        LIST,
        # Each its own dispute (its own applicant and merchant): the same one again would be
        # merged into the first (one dispute, one number).
        json=api_filing_body(
            partner_reference=f"ORD-{n:04d}", evidence=[], **{**party_ids(n), **overrides}
        ),
        headers=auth(key, **{"Idempotency-Key": f"one-{n}"}),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def case_count(client: TestClient) -> int:
    async def count() -> int:
        return await Case.all().count()

    return client.portal.call(count)


@pytest.fixture
def key(client: TestClient) -> str:
    return create_partner(client, "某旅游平台")


def test_the_list_pages_through_every_dispute_once_by_cursor(client: TestClient, key: str) -> None:
    filed = [file_one(client, key, n)["case_number"] for n in range(5)]

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(LIST, params=params, headers=auth(key))
        assert page.status_code == 200, page.text
        pages += 1
        seen += [item["case_number"] for item in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        assert "CNM" not in cursor and "{" not in cursor  # opaque

    assert pages == 3
    assert seen == filed  # oldest change first, each once


def test_the_list_filters_by_status_and_updated_since(client: TestClient, key: str) -> None:
    first = file_one(client, key, 1)

    async def age_it() -> None:
        await Case.filter(number=first["case_number"]).update(
            updated_at=utcnow() - timedelta(days=3), status="refused"
        )

    client.portal.call(age_it)
    second = file_one(client, key, 2)

    def numbers(**params: str) -> list[str]:
        response = client.get(LIST, params=params, headers=auth(key))
        assert response.status_code == 200, response.text
        return [item["case_number"] for item in response.json()["data"]]

    since = (utcnow() - timedelta(days=1)).isoformat()
    assert numbers(updated_since=since) == [second["case_number"]]
    assert numbers(status="refused") == [first["case_number"]]
    assert numbers(status="refused,awaiting_consent") == [
        first["case_number"],
        second["case_number"],
    ]
    assert numbers(status="settled") == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "not_a_status"}, "status_invalid"),
        ({"updated_since": "yesterday"}, "updated_since_invalid"),
        ({"updated_since": "2026-12-03T08:00:00"}, "updated_since_invalid"),  # no offset
        ({"cursor": "garbage!"}, "cursor_invalid"),
        ({"cursor": "WzEsMl0"}, "cursor_invalid"),  # base64 of [1,2]: not ours
        ({"limit": "0"}, "limit_invalid"),
        ({"limit": "201"}, "limit_invalid"),
        ({"limit": "２"}, "limit_invalid"),  # a full-width digit
    ],
)
def test_a_bad_list_query_is_a_clear_400(
    client: TestClient, key: str, params: dict[str, str], code: str
) -> None:
    response = client.get(LIST, params=params, headers=auth(key))

    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["message"] and response.json()["message"] != code


def test_a_partner_never_sees_another_partners_disputes(client: TestClient, key: str) -> None:
    mine = file_one(client, key, 1)["case_number"]
    other_key = create_partner(client, "某电商平台")
    theirs = client.post(
        LIST,
        json=api_filing_body(partner_reference="THEIRS-1", evidence=[]),
        headers=auth(other_key, **{"Idempotency-Key": "theirs-1"}),
    ).json()["case_number"]

    listed = client.get(LIST, headers=auth(other_key)).json()["data"]
    assert [item["case_number"] for item in listed] == [theirs]
    # A cursor is no key to another partner's list either: it only names a position.
    crafted = encode_cursor(Position(utcnow() - timedelta(days=365), 1))
    listed = client.get(LIST, params={"cursor": crafted}, headers=auth(other_key)).json()
    assert [item["case_number"] for item in listed["data"]] == [theirs]
    for path in (f"/api/v1/disputes/{mine}", f"/api/v1/disputes/{mine}/order"):
        refused = client.get(path, headers=auth(other_key))
        assert refused.status_code == 404, path
        assert mine not in refused.text
    attach = client.post(
        f"/api/v1/disputes/{mine}/attachments",
        params={"filename": "a.pdf"},
        content=b"%PDF-1.4\n",
        headers=auth(other_key),
    )
    assert attach.status_code == 404
    assert client.get(f"/api/v1/disputes/{mine}", headers=auth(key)).status_code == 200


def test_a_dispute_reads_with_its_history_in_words_and_codes(client: TestClient, key: str) -> None:
    number = file_one(client, key, 1)["case_number"]

    english = client.get(
        f"/api/v1/disputes/{number}", headers=auth(key, **{"Accept-Language": "en"})
    )
    chinese = client.get(f"/api/v1/disputes/{number}", headers=auth(key))

    assert english.status_code == 200, english.text
    body = english.json()
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds[0] == "filed", kinds
    assert all(event["what"] for event in body["timeline"])
    assert body["history"] and body["history"][-1]["to"] == "awaiting_consent"
    assert body["updated_at"] and body["order"] is None
    assert english.json()["timeline"][0]["what"] != chinese.json()["timeline"][0]["what"]


def _items(*numbers: int, **overrides: Any) -> list[dict[str, Any]]:
    return [
        {
            "idempotency_key": f"batch-{n}",
            "dispute": api_filing_body(
                partner_reference=f"B-{n:04d}", evidence=[], **{**party_ids(100 + n), **overrides}
            ),
        }
        for n in numbers
    ]


def test_a_batch_files_each_item_on_its_own_and_says_how_each_went(
    client: TestClient, key: str
) -> None:
    good = _items(1, 2)
    invalid = _items(3, applicant_mobile="12345")  # a field error: 422
    malformed = [{"idempotency_key": "batch-4", "dispute": {"facts": ["not", "text"]}}]
    no_key = [{"dispute": api_filing_body(partner_reference="B-0005", evidence=[])}]
    reused = [{**_items(1)[0], "dispute": {**good[0]["dispute"], "claim_amount": "1.00"}}]
    items = [*good, *invalid, *malformed, *no_key, *reused]

    response = client.post(BATCH, json={"items": items}, headers=auth(key))

    assert response.status_code == 207, response.text
    body = response.json()
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [(0, 201), (1, 201), (2, 422), (3, 400), (4, 400), (5, 422)]
    results = body["results"]
    assert results[2]["body"]["fields"]["applicant_mobile"]["code"] == "mobile_invalid"
    assert results[3]["body"]["error"] == "invalid_field_type"
    assert results[4]["body"]["error"] == "idempotency_key_required"
    assert results[5]["body"]["error"] == "idempotency_key_reused"
    assert (body["created"], body["replayed"], body["refused"]) == (2, 0, 4)
    assert case_count(client) == 2

    again = client.post(BATCH, json={"items": good}, headers=auth(key)).json()
    assert [(r["status"], r["replayed"]) for r in again["results"]] == [(201, True)] * 2
    assert [r["body"]["case_number"] for r in again["results"]] == [
        r["body"]["case_number"] for r in results[:2]
    ]
    assert (again["created"], again["replayed"]) == (0, 2)
    assert case_count(client) == 2


def test_an_item_key_is_the_same_key_as_a_single_filings(client: TestClient, key: str) -> None:
    """One namespace: a filing sent singly and then in a batch (or the reverse) is one case."""
    item = _items(7)[0]
    single = client.post(
        LIST, json=item["dispute"], headers=auth(key, **{"Idempotency-Key": "batch-7"})
    )
    assert single.status_code == 201
    batch = client.post(BATCH, json={"items": [item]}, headers=auth(key)).json()
    assert batch["results"][0]["replayed"] is True
    assert batch["results"][0]["body"]["case_number"] == single.json()["case_number"]
    assert case_count(client) == 1


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"items": []},
        {"items": {}},
        {"items": _items(1), "extra": 1},
        {"things": _items(1)},
        "text",
    ],
)
def test_a_batch_of_the_wrong_shape_is_refused_whole(
    client: TestClient, key: str, body: Any
) -> None:
    response = client.post(BATCH, json=body, headers=auth(key))

    assert response.status_code == 400
    assert response.json()["error"] == "batch_invalid"
    assert case_count(client) == 0


def test_a_batch_of_more_than_500_is_refused_whole(client: TestClient, key: str) -> None:
    item = {"idempotency_key": "k", "dispute": {}}
    response = client.post(BATCH, json={"items": [item] * 501}, headers=auth(key))

    assert response.status_code == 400
    assert response.json()["error"] == "batch_invalid"


def test_racing_copies_of_a_batch_file_each_item_once(client: TestClient, key: str) -> None:
    """Two copies of one batch at once: the items' keys are claimed in the transaction that
    files them together, so the second copy waits for the first, then files its items one
    by one and each replays the first answer. Held at `partner_batch` (the keys claimed) so
    both copies are inside at once; serial on SQLite."""
    items = _items(11, 12, 13)

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    *(http.post(BATCH, json={"items": items}, headers=auth(key)) for _ in range(2))
                )
            )

    with rendezvous("partner_batch", parties=2) as point:
        responses = client.portal.call(fire)

    assert point.arrived >= 1
    assert [r.status_code for r in responses] == [207, 207]
    results = [r.json()["results"] for r in responses]
    for first, second in zip(*results, strict=True):
        assert first["status"] == second["status"] == 201, (first, second)
        assert first["body"]["case_number"] == second["body"]["case_number"]
        assert [first["replayed"], second["replayed"]].count(True) == 1
    assert case_count(client) == 3


def test_a_single_filing_and_a_batch_item_racing_with_one_key_file_once(
    client: TestClient, key: str
) -> None:
    """The header's key and an item's key are one namespace, claimed in the filing's
    transaction: sent both ways at once, one case; the other answer replays it."""
    item = _items(21)[0]

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    http.post(
                        LIST,
                        json=item["dispute"],
                        headers=auth(key, **{"Idempotency-Key": item["idempotency_key"]}),
                    ),
                    http.post(BATCH, json={"items": [item]}, headers=auth(key)),
                )
            )

    with rendezvous("partner_filing", parties=2) as point:
        single, batch = client.portal.call(fire)

    assert point.arrived >= 1
    result = batch.json()["results"][0]
    assert single.status_code == 201 and result["status"] == 201, (single.text, result)
    assert result["body"]["case_number"] == single.json()["case_number"]
    assert [single.headers.get("idempotent-replayed") == "true", result["replayed"]].count(
        True
    ) == 1
    assert case_count(client) == 1
