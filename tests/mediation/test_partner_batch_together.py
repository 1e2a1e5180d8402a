"""A partner's batch is filed together: one transaction, one statement per table for all its
plainly new items, and each case it files reads exactly like a case filed alone. Items that
cannot go together (a repeat of an open case or of another item, a key or reference seen
before, files, a refusal) are filed alone, and a batch whose together-transaction fails is
filed item by item with nothing lost and nothing filed twice."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.clock import utcnow
from cases.duplicates.models import CaseSource
from cases.models import Case, Invitation, Notice, Party, TimelineEvent
from cases.partners.models import OrderSnapshot
from cases.webhooks.actions import do_add_endpoint
from cases.webhooks.models import WebhookDelivery
from tests.support.concurrency import rendezvous
from tests.support.factories import api_filing_body, party_ids

SINGLE = "/api/v1/disputes"
BATCH = "/api/v1/disputes/batch"


def create_partner(client: TestClient, name: str = "某旅游平台") -> tuple[int, str]:
    async def create() -> tuple[int, str]:
        partner, key = await do_create_partner(name)
        await do_add_endpoint(
            partner.id,
            "https://hooks.example.com/mediation",
            ["dispute.filed", "mediation.mediator_assigned"],
            "the partner's receiver",
            utcnow(),
        )
        return partner.id, key

    return client.portal.call(create)


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def order(n: int) -> dict[str, Any]:
    return {
        "order_number": f"ORD-{n:05d}",
        "placed_at": "2026-11-20T09:30:00+08:00",
        "currency": "CNY",
        "total_amount": "3600.00",
        "merchant_name": "某某旅行社有限公司",
        "items": [
            {"name": "云南六日游", "quantity": 1, "unit_price": "3600.00", "amount": "3600.00"}
        ],
    }


def dispute(n: int, **overrides: Any) -> dict[str, Any]:
    body = api_filing_body(partner_reference=f"R-{n:05d}", evidence=[], **party_ids(n))
    return {**body, "order": order(n), **overrides}


def item(n: int, **overrides: Any) -> dict[str, Any]:
    return {"idempotency_key": f"key-{n}", "dispute": dispute(n, **overrides)}


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the ORM sends meanwhile (its debug log has one record each)."""
    seen: list[str] = []

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(str(record.msg))

    log = logging.getLogger("tortoise.db_client")
    handler, level = Seen(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def test_a_batch_of_new_disputes_costs_a_few_statements_not_a_few_per_item(
    client: TestClient,
) -> None:
    _, key = create_partner(client)
    items = [item(n) for n in range(1, 81)]

    with statements() as seen:
        response = client.post(BATCH, json={"items": items}, headers=auth(key))

    assert response.status_code == 207, response.text
    assert [r["status"] for r in response.json()["results"]] == [201] * 80
    # Filed alone, each item costs twenty-odd statements; together the batch costs about
    # thirty (one per table, plus the reads), so fewer than one per item.
    assert len(seen) < len(items), len(seen)
    numbers = [r["body"]["case_number"] for r in response.json()["results"]]
    assert len(set(numbers)) == 80

    async def counts() -> tuple[int, int, int, int]:
        return (
            await Case.all().count(),
            await Invitation.all().count(),
            await CaseSource.all().count(),
            await OrderSnapshot.all().count(),
        )

    assert client.portal.call(counts) == (80, 80, 80, 80)


async def record_of(number: str) -> dict[str, Any]:
    """Everything filing wrote for a case, without what differs between any two cases (the
    number, the parties' ID numbers, the invitation's link, the key, the times)."""
    case = await Case.get(number=number)

    def plain(text: str) -> str:
        text = text.replace(number, "<number>").replace(case.order_number or "-", "<order>")
        return re.sub(r"/invitations/\S+|/claims/\S+", "<link>", text)

    events = await TimelineEvent.filter(case=case).order_by("at", "id")
    parties = await Party.filter(case=case).order_by("side")
    notices = await Notice.filter(case=case).order_by("id")
    invitations = await Invitation.filter(case=case)
    sources = await CaseSource.filter(case=case)
    snapshots = await OrderSnapshot.filter(case=case)
    deliveries = await WebhookDelivery.filter(case=case).order_by("id")
    return {
        "case": (
            case.status,
            case.source,
            case.domain,
            case.category,
            str(case.claim_amount),
            plain(case.order_number or ""),
            # The time the respondent has to answer, the same however the case was filed.
            case.respondent_reply_due - case.created_at if case.respondent_reply_due else None,
            sorted(case.consents),
            case.updated_at >= case.created_at,
        ),
        "timeline": [
            (
                e.kind,
                e.actor_label,
                {k: plain(str(v)) for k, v in e.data.items() if k != "reply_due"},
            )
            for e in events
        ],
        "parties": [(p.side, p.kind, p.name, p.mobile, p.user_id) for p in parties],
        "notices": [(n.channel, n.recipient, plain(n.subject), plain(n.body)) for n in notices],
        "invitations": [(len(i.nonce), i.party_id == parties[1].id) for i in invitations],
        "sources": [
            (s.channel, s.merged, s.order_number is not None, bool(s.idempotency_key))
            for s in sources
        ],
        "snapshots": [(s.order_number is not None, len(s.sha256)) for s in snapshots],
        "webhooks": [(d.event_type, d.status) for d in deliveries],
    }


def test_a_case_filed_in_a_batch_reads_exactly_as_one_filed_alone(client: TestClient) -> None:
    _, key = create_partner(client)
    alone = client.post(SINGLE, json=dispute(1), headers=auth(key, **{"Idempotency-Key": "a-1"}))
    assert alone.status_code == 201, alone.text
    batch = client.post(BATCH, json={"items": [item(2), item(3)]}, headers=auth(key))
    assert batch.status_code == 207, batch.text
    together = batch.json()["results"][0]["body"]

    def answer_shape(answer: dict[str, Any]) -> Any:
        return (
            answer["status"],
            [(h["from"], h["to"]) for h in answer["history"]],
            [(t["kind"], t["what"], t["who"]) for t in answer["timeline"]],
            sorted(answer["order"]),
            answer["respondent_reply_due"] is not None,
        )

    assert answer_shape(together) == answer_shape(alone.json())
    first = client.portal.call(record_of, alone.json()["case_number"])
    second = client.portal.call(record_of, together["case_number"])
    # The parties' names and contacts are the factory's, the same for both.
    assert second == first
    assert first["webhooks"], "the partner is told of the filing"
    assert [kind for kind, _, _ in first["timeline"]][:2] == ["filed", "status_changed"]


def test_a_batch_files_new_items_together_and_the_rest_alone(client: TestClient) -> None:
    _, key = create_partner(client)
    earlier = client.post(SINGLE, json=dispute(1), headers=auth(key, **{"Idempotency-Key": "e-1"}))
    assert earlier.status_code == 201, earlier.text
    retold = {**dispute(1), "partner_reference": "R-AGAIN"}  # the same dispute, a new reference
    items = [
        item(2),
        item(3),
        {"idempotency_key": "key-repeat", "dispute": retold},  # merged into the earlier case
        item(4),
        {"idempotency_key": "key-4b", "dispute": {**dispute(4), "partner_reference": "R-4B"}},
        item(5, applicant_mobile="12345"),  # refused: 422
        {"idempotency_key": "e-1", "dispute": dispute(1)},  # the earlier key again: replayed
    ]

    response = client.post(BATCH, json={"items": items}, headers=auth(key))

    assert response.status_code == 207, response.text
    results = response.json()["results"]
    assert [(r["status"], r["replayed"]) for r in results] == [
        (201, False),
        (201, False),
        (200, False),
        (201, False),
        (200, False),
        (422, False),
        (201, True),
    ]
    assert results[2]["body"]["merged_into"] == earlier.json()["case_number"]
    assert results[4]["body"]["merged_into"] == results[3]["body"]["case_number"]
    assert results[6]["body"]["case_number"] == earlier.json()["case_number"]

    async def count() -> int:
        return await Case.all().count()

    assert client.portal.call(count) == 4  # the earlier case, 2, 3 and 4

    again = client.post(BATCH, json={"items": items}, headers=auth(key)).json()["results"]
    assert [r["status"] for r in again] == [r["status"] for r in results]
    assert all(r["replayed"] for r in again)
    assert client.portal.call(count) == 4


def test_a_batch_that_loses_a_race_for_a_reference_is_filed_item_by_item(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """While the batch holds its keys, a single request files another dispute under one of
    the batch's references. The batch's together-transaction then fails on the reference's
    unique index (on PostgreSQL; on SQLite the single request waits for the batch instead),
    and every item is filed alone: the clashing one is refused, none is lost."""
    _, key = create_partner(client)
    items = [item(n) for n in (1, 2, 3)]
    clash = dispute(9, partner_reference="R-00002")

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            batch = asyncio.create_task(http.post(BATCH, json={"items": items}, headers=auth(key)))
            await asyncio.sleep(0.2)  # the batch is inside, held at its rendezvous
            single = await http.post(
                SINGLE, json=clash, headers=auth(key, **{"Idempotency-Key": "clash"})
            )
            return [await batch, single]

    with (
        caplog.at_level(logging.INFO, logger="cases.partners.actions"),
        rendezvous("partner_batch", parties=2, wait=1.5),
    ):
        batch, single = client.portal.call(fire)

    assert batch.status_code == 207, batch.text
    results = batch.json()["results"]

    async def references() -> list[str | None]:
        return list(await Case.all().order_by("id").values_list("partner_reference", flat=True))

    filed = client.portal.call(references)
    # Each reference names one case, and every item of the batch has its answer.
    assert sorted(r for r in filed if r) == ["R-00001", "R-00002", "R-00003"]
    assert len(filed) == 3
    statuses = [r["status"] for r in results]
    if single.status_code == 201:  # the single request won the reference (PostgreSQL)
        assert statuses[0] == statuses[2] == 201
        assert statuses[1] != 201 or results[1]["replayed"]
        assert "filed one by one" in caplog.text
    else:  # the batch went first (SQLite's one writer): the single is the replay or refusal
        assert statuses == [201, 201, 201]
