"""Evidence at the source: the order snapshot (digest of the canonical JSON as received, the
time of receipt, shown on the case page as provided) and attachments sent to their own
endpoint, checked like web uploads."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.accounts.models import Role
from cases.clock import utcnow
from cases.evidence_files import MAX_EVIDENCE_BYTES
from cases.models import Case, Evidence, TimelineEvent
from cases.partners.models import OrderSnapshot
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    PDF_BYTES,
    STAFF_PASSWORD,
    api_filing_body,
    create_staff,
    run,
    sign_in,
    uscc,
)

URL = "/api/v1/disputes"

ORDER: dict[str, Any] = {
    "order_number": "CT-20261101-88",
    "placed_at": "2026-11-01T09:30:00+08:00",
    "paid_at": "2026-11-01T09:31:12+08:00",
    "currency": "CNY",
    "total_amount": "3680.00",
    "paid_amount": "3680.00",
    "merchant_name": "上海某某国际旅行社有限公司",
    "merchant_uscc": uscc(),
    "items": [
        {
            "name": "云南六日游（成人）",
            "sku": "YN-6D",
            "quantity": 2,
            "unit_price": "1840.00",
            "amount": "3680.00",
        }
    ],
    "booking": {
        "reference": "BK-7731",
        "product": "云南六日游",
        "departure_at": "2026-11-20T07:00:00+08:00",
        "return_at": "2026-11-25T21:00:00+08:00",
        "travellers": 2,
        "itinerary": "昆明—大理—丽江",
    },
    "chat_excerpt": [
        {"at": "2026-11-17T10:00:00+08:00", "speaker": "customer", "text": "为什么取消了行程？"},
        {"at": "2026-11-17T10:05:00+08:00", "speaker": "platform", "text": "已为您联系商家。"},
    ],
}


def key_of(client: TestClient, name: str = "某旅游平台") -> str:
    async def create() -> str:
        return (await do_create_partner(name))[1]

    return client.portal.call(create)


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture
def key(client: TestClient) -> str:
    return key_of(client)


def file_with(client: TestClient, key: str, order: Any, idem: str = "o-1") -> Any:
    body = {**api_filing_body(evidence=[]), "order": order}
    return client.post(URL, json=body, headers=auth(key, **{"Idempotency-Key": idem}))


def test_the_order_is_kept_as_received_with_its_digest_and_time(
    client: TestClient, key: str
) -> None:
    response = file_with(client, key, ORDER)

    assert response.status_code == 201, response.text
    canonical = json.dumps(ORDER, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    summary = response.json()["order"]
    assert summary["sha256"] == digest
    assert summary["order_number"] == "CT-20261101-88"
    assert summary["received_at"]
    number = response.json()["case_number"]

    snapshot = client.get(f"{URL}/{number}/order", headers=auth(key))
    assert snapshot.status_code == 200
    assert snapshot.json()["order"] == ORDER
    assert snapshot.json()["canonical_json"] == canonical
    assert snapshot.json()["sha256"] == digest

    async def stored() -> OrderSnapshot:
        return await OrderSnapshot.get(case__number=number)  # one filing: one snapshot

    row = run(client, stored)
    assert row.canonical == canonical and row.sha256 == digest


def test_a_dispute_without_an_order_has_no_snapshot(client: TestClient, key: str) -> None:
    number = client.post(
        URL, json=api_filing_body(evidence=[]), headers=auth(key, **{"Idempotency-Key": "n-1"})
    ).json()["case_number"]

    answer = client.get(f"{URL}/{number}/order", headers=auth(key))

    assert answer.status_code == 404
    assert answer.json()["error"] == "no_order_snapshot"


@pytest.mark.parametrize(
    ("order", "where", "code"),
    [
        (None, "order", "invalid_field_type"),
        ("CT-1", "order", "invalid_field_type"),
        ({**ORDER, "order_number": ""}, "order.order_number", "required"),
        ({**ORDER, "order_number": "x" * 65}, "order.order_number", "too_long"),
        ({k: v for k, v in ORDER.items() if k != "placed_at"}, "order.placed_at", "required"),
        ({**ORDER, "placed_at": "2026-11-01 09:30"}, "order.placed_at", "time_invalid"),
        ({**ORDER, "total_amount": 3680}, "order.total_amount", "invalid_field_type"),
        ({**ORDER, "total_amount": "-1"}, "order.total_amount", "amount_invalid"),
        ({**ORDER, "currency": "USD"}, "order.currency", "currency_invalid"),
        ({**ORDER, "merchant_uscc": "913101050000000000"}, "order.merchant_uscc", "uscc_invalid"),
        (
            {**ORDER, "items": [{"name": "x", "quantity": 0, "amount": "1"}]},
            "order.items.0.quantity",
            "count_invalid",
        ),
        (
            {**ORDER, "items": [{"name": "x", "quantity": True, "amount": "1"}]},
            "order.items.0.quantity",
            "invalid_field_type",
        ),
        ({**ORDER, "items": [{"quantity": 1, "amount": "1"}] * 101}, "order.items", "too_many"),
        (
            {
                **ORDER,
                "chat_excerpt": [
                    {"at": "2026-11-17T10:00:00+08:00", "speaker": "bot", "text": "x"}
                ],
            },
            "order.chat_excerpt.0.speaker",
            "choose_one",
        ),
        ({**ORDER, "booking": {"product": "x", "pets": 1}}, "order.booking.pets", "unknown_field"),
        ({**ORDER, "gift": True}, "order.gift", "unknown_field"),
    ],
)
def test_anything_wrong_in_the_order_is_a_field_error_and_nothing_is_filed(
    client: TestClient, key: str, order: Any, where: str, code: str
) -> None:
    response = file_with(client, key, order)

    assert response.status_code == 422, response.text
    fields = response.json()["fields"]
    assert fields[where]["code"] == code, fields
    assert fields[where]["message"] and fields[where]["message"] != code

    async def nothing() -> tuple[int, int]:
        return await Case.all().count(), await OrderSnapshot.all().count()

    assert run(client, nothing) == (0, 0)


def test_the_case_page_shows_the_order_as_the_platform_provided_it(
    client: TestClient, key: str
) -> None:
    number = file_with(client, key, ORDER).json()["case_number"]
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    sign_in(client, "admin", STAFF_PASSWORD)

    page = client.get(f"/cases/{number}")

    assert page.status_code == 200
    html = page.text
    section = html[html.index('id="order-1"') :]
    section = section[: section.index("</section>")]
    assert "某旅游平台" in section
    assert "CT-20261101-88" in section
    assert "云南六日游（成人）" in section and "昆明—大理—丽江" in section
    assert "为什么取消了行程？" in section
    assert "2026年11月1日 09:30" in section  # Beijing time, in words
    assert "2026-11-01T" not in section  # no ISO timestamps on a page
    assert (
        hashlib.sha256(
            json.dumps(ORDER, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
        in section
    )


def attach(
    client: TestClient, key: str, number: str, data: bytes, filename: str = "收据.pdf"
) -> Any:
    return client.post(
        f"{URL}/{number}/attachments",
        params={"filename": filename},
        content=data,
        headers=auth(key, **{"Content-Type": "application/octet-stream"}),
    )


def test_an_attachment_is_checked_like_a_web_upload_and_kept_once(
    client: TestClient, key: str
) -> None:
    number = file_with(client, key, ORDER).json()["case_number"]

    first = attach(client, key, number, PDF_BYTES)
    again = attach(client, key, number, PDF_BYTES, filename="收据-副本.pdf")

    assert first.status_code == 201, first.text
    assert first.json()["media_type"] == "application/pdf"
    assert first.json()["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert again.status_code == 200 and again.json()["already_attached"] is True

    async def stored() -> tuple[list[str], list[str]]:
        evidence = await Evidence.filter(case__number=number)
        events = await TimelineEvent.filter(case__number=number, kind="evidence_added")
        return [e.filename for e in evidence], [e.actor_label for e in events]

    assert run(client, stored) == (["收据.pdf"], ["partner:某旅游平台"])


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"MZ\x90\x00 an executable", "invoice.pdf", 422, "evidence_type_not_allowed"),
        (b"#!/bin/sh\nrm -rf /\n", "run.sh", 422, "evidence_type_not_allowed"),
        (PDF_BYTES, "", 400, "filename_required"),
        (PDF_BYTES, "\r", 422, "filename_required"),  # as described, but blank
        (PDF_BYTES, "   ", 422, "filename_required"),
        (b"\0" * (MAX_EVIDENCE_BYTES + 1), "big.pdf", 413, "request_too_large"),
    ],
)
def test_a_refused_attachment_changes_nothing(
    client: TestClient, key: str, data: bytes, filename: str, status: int, code: str
) -> None:
    number = file_with(client, key, ORDER).json()["case_number"]

    response = attach(client, key, number, data, filename)

    assert response.status_code == status, response.text
    body = response.json()
    assert code in (body.get("error"), *(f["code"] for f in body.get("files", [])))

    async def count() -> int:
        return await Evidence.filter(case__number=number).count()

    assert run(client, count) == 0


def test_one_file_attached_twice_at_once_is_one_evidence_item(client: TestClient, key: str) -> None:
    """Both uploads are held where the case's evidence is read (`add_evidence`): the case
    row's lock makes the second wait and report the first's item instead of failing."""
    number = file_with(client, key, ORDER).json()["case_number"]

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    *(
                        http.post(
                            f"{URL}/{number}/attachments",
                            params={"filename": f"收据{n}.pdf"},
                            content=PDF_BYTES,
                            headers=auth(key),
                        )
                        for n in range(2)
                    )
                )
            )

    with rendezvous("add_evidence", parties=2) as point:
        responses = client.portal.call(fire)

    assert point.arrived >= 1
    assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]

    async def count() -> int:
        return await Evidence.filter(case__number=number).count()

    assert run(client, count) == 1


def test_a_case_holds_each_filings_order_and_each_partner_reads_its_own(
    client: TestClient, key: str
) -> None:
    """A filing merged into an open case of the same dispute (one dispute, one number)
    brings its own order: the case keeps both and the page shows both as provided."""
    number = file_with(client, key, ORDER).json()["case_number"]
    other_order = {**ORDER, "order_number": "MT-555", "items": []}

    async def merged() -> None:
        other, _ = await do_create_partner("某外卖平台")
        canonical = json.dumps(
            other_order, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        await OrderSnapshot.create(
            case=await Case.get(number=number),
            partner=other,
            order_number="MT-555",
            canonical=canonical,
            sha256=hashlib.sha256(canonical.encode()).hexdigest(),
            received_at=utcnow(),
        )

    run(client, merged)
    mine = client.get(f"{URL}/{number}/order", headers=auth(key))
    assert mine.json()["order"]["order_number"] == "CT-20261101-88"
    create_staff(client, "admin", Role.PLATFORM_ADMIN)
    sign_in(client, "admin", STAFF_PASSWORD)
    html = client.get(f"/cases/{number}").text
    first = html[html.index('id="order-1"') : html.index('id="order-2"')]
    second = html[html.index('id="order-2"') :]
    assert "CT-20261101-88" in first and "某旅游平台" in first
    assert (
        "MT-555" in second.split("</section>")[0] and "某外卖平台" in second.split("</section>")[0]
    )
