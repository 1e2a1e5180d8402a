"""Receiving filings over real HTTP: signed POSTs to a running desk (docs/court-wire.md)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from cases.court.privilege import filter_for_court
from courtdesk.db import migrate
from courtdesk.models import Filing
from courtwire import ecf
from tests.cases.test_privilege import rich_record
from tests.courtdesk.support import (
    Desk,
    cloudevent,
    package,
    post_filing,
    run_desk,
    signed_headers,
    with_desk_orm,
)


def stored(desk: Desk) -> list[dict[str, Any]]:
    async def work() -> list[dict[str, Any]]:
        return list(await Filing.all().values("filing_id", "status", "receipt_id", "kind"))

    return with_desk_orm(desk.database_url, work)


def test_first_receipt_then_the_same_receipt_for_a_retry(desk: Desk) -> None:
    filing_id, body = cloudevent(package("transfer"))
    with desk.client() as client:
        first = post_filing(client, filing_id, body)
        assert first.status_code == 201
        receipt = first.json()
        assert receipt["filing_id"] == filing_id
        assert receipt["status"] == "received"
        uuid.UUID(receipt["receipt_id"])
        datetime.fromisoformat(receipt["received_at"])
        # A retry: the same id and bytes, a fresh timestamp (and so a fresh signature).
        time.sleep(1.1)
        again = post_filing(client, filing_id, body)
    assert again.status_code == 200
    assert again.content == first.content
    assert [row["filing_id"] for row in stored(desk)] == [filing_id]


def test_the_same_id_with_another_body_is_refused(desk: Desk) -> None:
    data = package("transfer")
    filing_id, body = cloudevent(data)
    _, other = cloudevent({**data, "claim_amount": "9999.00"}, filing_id)
    with desk.client() as client:
        assert post_filing(client, filing_id, body).status_code == 201
        reused = post_filing(client, filing_id, other)
    assert reused.status_code == 409
    assert reused.json() == {"error": "filing_id_reused"}
    rows = stored(desk)
    assert len(rows) == 1


def test_bad_signature_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    filing_id, body = cloudevent(package("transfer"))
    wrong_secret = "whsec_" + "b3RoZXItc2VjcmV0LW5vdC10aGUtcGxhdGZvcm1zIQ=="
    with desk.client() as client:
        forged = post_filing(client, filing_id, body, secret=wrong_secret)
        # Signed correctly, then the body changed on the way.
        headers = signed_headers(filing_id, body)
        tampered = client.post("/api/v1/filings", content=body + b" ", headers=headers)
        unsigned = client.post(
            "/api/v1/filings",
            content=body,
            headers={"content-type": "application/cloudevents+json", "webhook-id": filing_id},
        )
    assert (forged.status_code, forged.json()) == (401, {"error": "bad_signature"})
    assert (tampered.status_code, tampered.json()) == (401, {"error": "bad_signature"})
    assert (unsigned.status_code, unsigned.json()) == (401, {"error": "missing_headers"})
    assert stored(desk) == []


def test_a_stale_or_future_timestamp_is_refused(desk: Desk) -> None:
    filing_id, body = cloudevent(package("transfer"))
    now = int(time.time())
    with desk.client() as client:
        stale = post_filing(client, filing_id, body, timestamp=now - 301 - 5)
        future = post_filing(client, filing_id, body, timestamp=now + 301 + 5)
        fresh = post_filing(client, filing_id, body, timestamp=now - 200)
    assert (stale.status_code, stale.json()) == (401, {"error": "timestamp_out_of_tolerance"})
    assert (future.status_code, future.json()) == (401, {"error": "timestamp_out_of_tolerance"})
    assert fresh.status_code == 201


def test_an_invalid_package_is_refused_with_every_problem_and_nothing_stored(desk: Desk) -> None:
    data = package("transfer")
    data["claim_amount"] = "三千"
    data["parties"] = [p for p in data["parties"] if p["side"] == "applicant"]
    data["evidence"][0]["sha256"] = "not-a-digest"
    data["failure"] = None
    filing_id, body = cloudevent(data)
    with desk.client() as client:
        response = post_filing(client, filing_id, body)
        not_json = post_filing(client, filing_id, b"{not json")
        wrong_id = post_filing(client, str(uuid.uuid4()), cloudevent(package())[1])
    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "invalid_package"
    problems = {(d["field"], d["error"]) for d in answer["details"]}
    assert problems == {
        ("data.claim_amount", "not_an_amount"),
        ("data.parties", "no_respondent"),
        ("data.evidence[0].sha256", "not_a_sha256"),
        ("data.failure", "required"),
    }
    assert not_json.status_code == 422
    assert not_json.json()["details"] == [{"field": "body", "error": "not_json"}]
    assert wrong_id.status_code == 422
    assert {"field": "id", "error": "does_not_match_webhook_id"} in wrong_id.json()["details"]
    assert stored(desk) == []


def test_an_unknown_content_type_is_refused(desk: Desk) -> None:
    filing_id, body = cloudevent(package("transfer"))
    with desk.client() as client:
        response = post_filing(client, filing_id, body, content_type="text/plain")
    assert (response.status_code, response.json()) == (415, {"error": "unsupported_media_type"})
    assert stored(desk) == []


def test_concurrent_identical_posts_make_one_filing(desk_database_url: str) -> None:
    """Eight identical posts at once to the desk's own process, which is started with a
    one-second pause after a filing is checked as new and before it is stored
    (`desk_receive`): every post passes the check, so only the unique filing id keeps one
    (on SQLite and PostgreSQL alike; without it several are stored, every time)."""
    filing_id, body = cloudevent(package("confirmation"))
    headers = signed_headers(filing_id, body)
    start = threading.Barrier(8)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    with run_desk(desk_database_url, PAUSE_POINTS="desk_receive=1.0") as desk:

        def post() -> None:
            with httpx.Client(base_url=desk.url, timeout=20.0) as client:
                start.wait()
                response = client.post("/api/v1/filings", content=body, headers=headers)
            with lock:
                answers.append(response)

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * 7 + [201], [a.text for a in answers]
        assert len({a.content for a in answers}) == 1  # every one the same receipt
        rows = stored(desk)
        assert len(rows) == 1 and rows[0]["kind"] == "confirmation"


def test_an_ecf_filing_gets_a_schema_valid_message_receipt(desk: Desk) -> None:
    filing_id = str(uuid.uuid4())
    court_package = filter_for_court(rich_record())
    xml = ecf.build_core_filing(court_package, filing_id, datetime(2026, 11, 27, 10, tzinfo=UTC))
    with desk.client() as client:
        first = post_filing(client, filing_id, xml, content_type="application/xml")
        again = post_filing(client, filing_id, xml, content_type="application/xml")
    assert first.status_code == 201, first.text
    assert first.headers["content-type"].startswith("application/xml")
    receipt = ecf.parse_message_receipt(first.content, schema=ecf.message_receipt_validator())
    assert receipt.filing_id == filing_id
    assert receipt.ok
    assert (again.status_code, again.content) == (200, first.content)

    async def read() -> Filing:
        return await Filing.get(filing_id=filing_id)

    filing = with_desk_orm(desk.database_url, read)
    assert filing.wire_format == "ecf"
    assert filing.kind == "transfer"
    assert filing.case_number == court_package.case_number
    assert filing.package["failure"]["reasons_for_failure"] == (
        court_package.failure.reasons_for_failure if court_package.failure else None
    )
    assert [e["sha256"] for e in filing.package["evidence"]] == [
        e.sha256 for e in court_package.evidence
    ]


def test_an_ecf_filing_that_is_not_schema_valid_is_refused(desk: Desk) -> None:
    filing_id = str(uuid.uuid4())
    xml = ecf.build_core_filing(
        filter_for_court(rich_record()), filing_id, datetime(2026, 11, 27, 10, tzinfo=UTC)
    )
    root = etree.fromstring(xml)
    case = root.find("civil:CivilCase", ecf.NSMAP)
    assert case is not None
    amount = case.find("civil:AmountInControversy", ecf.NSMAP)
    assert amount is not None
    amount.set(f"{{{ecf.NS_NC}}}currencyCode", "RMB")  # not ISO 4217: the schema says no
    broken = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with desk.client() as client:
        response = post_filing(client, filing_id, broken, content_type="application/xml")
    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "invalid_package"
    assert answer["details"][0]["error"] == "not_schema_valid"
    assert stored(desk) == []


def test_a_busy_database_answers_503_with_retry_after_and_stores_nothing(tmp_path: Path) -> None:
    # The embedded desk's SQLite file, held by another writer longer than the desk waits for it.
    path = tmp_path / "courtdesk.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    filing_id, body = cloudevent(package("transfer"))
    with run_desk(f"sqlite://{path}") as desk, desk.client() as client:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            busy = post_filing(client, filing_id, body)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert busy.status_code == 503
        assert busy.json() == {"error": "busy"}
        assert busy.headers["retry-after"] == "5"
        assert stored(desk) == []
        # The relay's retry is taken once the database is free again.
        assert post_filing(client, filing_id, body).status_code == 201
