"""Decisions reach the platform as signed callbacks, delivered from the desk's outbox to a
real HTTP receiver that checks the Standard Webhooks signature as the platform does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cases.court.privilege import filter_for_court
from courtdesk.models import OutboxMessage, OutboxStatus
from courtwire import ecf
from tests.cases.test_privilege import rich_record
from tests.courtdesk.support import (
    CALLBACK_SECRET,
    Desk,
    PlatformStub,
    csrf_of,
    make_clerk,
    post_filing,
    run_desk,
    send,
    signed_in_client,
    with_desk_orm,
)


def outbox_rows(desk: Desk) -> list[dict[str, Any]]:
    async def work() -> list[dict[str, Any]]:
        return list(
            await OutboxMessage.all()
            .order_by("id")
            .values("msg_id", "status", "attempts", "last_status_code", "content_type")
        )

    return with_desk_orm(desk.database_url, work)


def wait_for_status(desk: Desk, status: OutboxStatus, count: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = outbox_rows(desk)
        if len(rows) == count and all(row["status"] == status for row in rows):
            return
        time.sleep(0.2)
    raise AssertionError(f"outbox not all {status}: {outbox_rows(desk)}")


def test_decisions_are_delivered_signed_to_the_platform(desk_database_url: str) -> None:
    make_clerk(desk_database_url)
    with (
        PlatformStub() as platform,
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        filing_id, data = send(clerk, "confirmation")
        token = csrf_of(clerk.get("/inbox").text)
        for action, form in [
            ("accept", {}),
            ("docket", {"type_code": "诉前调确"}),
            ("confirm", {}),
        ]:
            response = clerk.post(
                f"/filings/{filing_id}/{action}", data={"csrf_token": token, **form}
            )
            assert response.status_code == 303
        received = platform.wait_for_callbacks(3)
        wait_for_status(desk, OutboxStatus.DELIVERED, 3)
        page = clerk.get(f"/filings/{filing_id}").text
    assert all(callback.verified for callback in received), [c.error for c in received]
    events = [json.loads(callback.body) for callback in received]
    # Delivered in the order decided; each with its own webhook id, the event's id.
    assert [e["data"]["status"] for e in events] == ["accepted", "docketed", "confirmed"]
    assert [c.headers["webhook-id"] for c in received] == [e["id"] for e in events]
    assert len({e["id"] for e in events}) == 3
    assert {c.headers["content-type"] for c in received} == {"application/cloudevents+json"}
    assert [row["msg_id"] for row in outbox_rows(desk)] == [e["id"] for e in events]
    docketed = events[1]
    assert docketed["type"] == "cn.court.filing.docketed.v1"
    assert docketed["subject"] == filing_id
    assert docketed["data"]["case_number"] == data["case_number"]
    assert docketed["data"]["court_case_number"] == "(2026)沪0105诉前调确1号"
    assert events[2]["data"]["court_case_number"] == "(2026)沪0105诉前调确1号"
    assert page.count("已通知调解平台") == 3


def test_an_ecf_filing_is_docketed_and_returned_with_review_callbacks(
    desk_database_url: str,
) -> None:
    make_clerk(desk_database_url)
    sent_at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    with (
        PlatformStub() as platform,
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        ids = [str(uuid.uuid4()), str(uuid.uuid4())]
        for filing_id in ids:
            xml = ecf.build_core_filing(filter_for_court(rich_record()), filing_id, sent_at)
            response = post_filing(clerk, filing_id, xml, content_type="application/xml")
            assert response.status_code == 201
        token = csrf_of(clerk.get("/inbox").text)
        clerk.post(f"/filings/{ids[0]}/docket", data={"csrf_token": token, "type_code": "民初"})
        clerk.post(
            f"/filings/{ids[1]}/return",
            data={"csrf_token": token, "reason": "请补充调解不成记录的签字页"},
        )
        received = platform.wait_for_callbacks(2)
        wait_for_status(desk, OutboxStatus.DELIVERED, 2)
    assert all(callback.verified for callback in received)
    schema = ecf.review_callback_validator()
    results = {}
    for callback in received:
        assert callback.headers["content-type"] == "application/xml"
        result = ecf.parse_review_callback(callback.body, schema=schema)
        results[result.filing_id] = result
    docketed, returned = results[ids[0]], results[ids[1]]
    assert (docketed.status, docketed.case_docket_id) == ("accepted", "(2026)沪0105民初1号")
    assert docketed.case_tracking_id == rich_record().case_number
    assert (returned.status, returned.reason) == ("rejected", "请补充调解不成记录的签字页")


def test_a_callback_the_platform_cannot_verify_is_not_counted_as_delivered(
    desk_database_url: str,
) -> None:
    make_clerk(desk_database_url)
    other_secret = "whsec_" + "YW5vdGhlci1wbGF0Zm9ybS1jYWxsYmFjay1zZWNyZXQ="
    assert other_secret != CALLBACK_SECRET
    with (
        PlatformStub(secret=other_secret) as platform,
        run_desk(desk_database_url, platform_url=platform.url) as desk,
        signed_in_client(desk) as clerk,
    ):
        filing_id, _ = send(clerk)
        token = csrf_of(clerk.get("/inbox").text)
        clerk.post(f"/filings/{filing_id}/accept", data={"csrf_token": token})
        received = platform.wait_for_callbacks(1)
        # A 401 is a permanent refusal: the row is given up on (an admin must look), never
        # marked delivered.
        wait_for_status(desk, OutboxStatus.DEAD, 1)
    assert not received[0].verified and received[0].error == "bad_signature"
    assert outbox_rows(desk)[0]["last_status_code"] == 401


def test_callbacks_wait_in_the_outbox_while_the_platform_is_down(desk_database_url: str) -> None:
    make_clerk(desk_database_url)
    with run_desk(desk_database_url) as desk, signed_in_client(desk) as clerk:
        filing_id, _ = send(clerk)
        token = csrf_of(clerk.get("/inbox").text)
        clerk.post(f"/filings/{filing_id}/docket", data={"csrf_token": token, "type_code": "民初"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and outbox_rows(desk)[0]["attempts"] == 0:
            time.sleep(0.2)
    rows = outbox_rows(desk)
    assert len(rows) == 1
    assert rows[0]["status"] == OutboxStatus.PENDING  # kept, to be retried
    assert rows[0]["attempts"] >= 1
    assert rows[0]["last_status_code"] is None  # nobody answered


def test_a_separate_relay_process_delivers_when_the_server_does_not(
    desk_database_url: str, tmp_path: Path
) -> None:
    make_clerk(desk_database_url)
    with (
        PlatformStub() as platform,
        run_desk(desk_database_url, platform_url=platform.url, DESK_RELAY="0") as desk,
        signed_in_client(desk) as clerk,
    ):
        filing_id, _ = send(clerk)
        token = csrf_of(clerk.get("/inbox").text)
        clerk.post(f"/filings/{filing_id}/accept", data={"csrf_token": token})
        time.sleep(1.0)
        assert platform.callbacks == []  # the server itself sends nothing
        env = {
            **os.environ,
            "MEDIATION_DATA_DIR": str(tmp_path),
            "DESK_DATABASE_URL": desk_database_url,
            "PLATFORM_URL": platform.url,
            "COURT_CALLBACK_SECRET": CALLBACK_SECRET,
            "DESK_RELAY_INTERVAL": "0.3",
        }
        relay = subprocess.Popen(
            [sys.executable, "-m", "courtdesk", "relay"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            received = platform.wait_for_callbacks(1)
            wait_for_status(desk, OutboxStatus.DELIVERED, 1)
        finally:
            relay.terminate()
            relay.wait(timeout=10)
    assert received[0].verified
    assert json.loads(received[0].body)["data"]["status"] == "accepted"
