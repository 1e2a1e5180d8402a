"""The clerks' decisions as actions on the desk's own database (no server in these tests)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from courtdesk import decisions
from courtdesk.accounts import create_clerk
from courtdesk.errors import DeskError
from courtdesk.models import (
    Clerk,
    Decision,
    DocketCounter,
    Filing,
    FilingStatus,
    OutboxMessage,
    OutboxStatus,
)
from courtdesk.receiving import receive_filing
from courtwire.case_numbers import CHANGNING_COURT, CourtCaseNumber, parse_case_number
from tests.courtdesk.support import (
    FILING_SECRET,
    cloudevent,
    is_uri_reference,
    package,
    signed_headers,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def clerk() -> Clerk:
    return await create_clerk("wangfang", "王芳", "clerk-password-1", NOW)


async def receive(kind: str = "transfer", **changes: Any) -> str:
    filing_id, body = cloudevent(package(kind, **changes))
    answer = await receive_filing(
        secret=FILING_SECRET,
        headers=signed_headers(filing_id, body, timestamp=int(NOW.timestamp())),
        content_type="application/cloudevents+json",
        body=body,
        now=NOW,
    )
    assert answer.status == 201, answer.body
    return filing_id


async def test_docketing_numbers_per_year_and_type_without_gaps(desk_db: str) -> None:
    who = await clerk()
    transfers = [await receive("transfer") for _ in range(3)]
    confirmations = [await receive("confirmation") for _ in range(2)]
    numbers = []
    # Interleaved: each type counts on its own.
    for filing_id in [transfers[0], confirmations[0], transfers[1], confirmations[1], transfers[2]]:
        filing = await Filing.get(filing_id=filing_id)
        decision = await decisions.docket(
            filing_id, who, decisions.default_type_code(filing.kind), NOW
        )
        numbers.append(decision.court_case_number)
    assert numbers == [
        "(2026)沪0105民初1号",
        "(2026)沪0105诉前调确1号",
        "(2026)沪0105民初2号",
        "(2026)沪0105诉前调确2号",
        "(2026)沪0105民初3号",
    ]
    for number in numbers:
        assert number is not None
        parsed = parse_case_number(number)
        assert parsed.court_code == CHANGNING_COURT == "沪0105"
    filing = await Filing.get(filing_id=transfers[2])
    assert (filing.docket_year, filing.docket_type, filing.docket_serial) == (2026, "民初", 3)
    assert filing.court_case_number == str(CourtCaseNumber(2026, "沪0105", "民初", 3))


async def test_the_year_is_shanghai_time_and_serials_restart_each_year(desk_db: str) -> None:
    who = await clerk()
    late = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on 1 January 2027 there
    first = await decisions.docket(await receive(), who, "民初", late)
    second = await decisions.docket(await receive(), who, "民初", new_year)
    third = await decisions.docket(await receive(), who, "民诉前调", new_year)
    assert first.court_case_number == "(2026)沪0105民初1号"
    assert second.court_case_number == "(2027)沪0105民初1号"
    assert third.court_case_number == "(2027)沪0105民诉前调1号"


async def test_a_filing_is_docketed_at_most_once(desk_db: str) -> None:
    who = await clerk()
    filing_id = await receive()
    await decisions.docket(filing_id, who, "民初", NOW)
    with pytest.raises(DeskError) as refused:
        await decisions.docket(filing_id, who, "民初", NOW)
    assert refused.value.code == "already_docketed"
    assert refused.value.params == {"number": "(2026)沪0105民初1号"}
    counter = await DocketCounter.get(year=2026, type_code="民初")
    assert counter.last_serial == 1
    assert await Decision.filter(action="docketed").count() == 1


async def test_a_docketing_that_fails_returns_its_serial(desk_db: str) -> None:
    """The outbox row is written in the decision's transaction: if it cannot be written, the
    status, the decision and the serial all roll back with it."""
    who = await clerk()
    first = await receive()
    second = await receive()
    taken = await decisions.accept(first, who, NOW)
    # A callback id that already exists makes the outbox insert fail inside the docketing.
    with pytest.raises(IntegrityError):
        await decisions.docket(second, who, "民初", NOW, callback_id=taken.callback_id)
    filing = await Filing.get(filing_id=second)
    assert filing.status == FilingStatus.RECEIVED
    assert filing.court_case_number is None
    assert await Decision.filter(filing_id=filing.id).count() == 0
    assert await OutboxMessage.filter(filing_id=filing.id).count() == 0
    counter = await DocketCounter.get_or_none(year=2026, type_code="民初")
    assert counter is None or counter.last_serial == 0
    # And the next docketing takes serial 1: no gap.
    decision = await decisions.docket(second, who, "民初", NOW)
    assert decision.court_case_number == "(2026)沪0105民初1号"


async def test_each_decision_writes_its_callback_to_the_outbox(desk_db: str) -> None:
    who = await clerk()
    filing_id = await receive("confirmation")
    filing = await Filing.get(filing_id=filing_id)
    steps = [
        await decisions.accept(filing_id, who, NOW),
        await decisions.docket(filing_id, who, "诉前调确", NOW + timedelta(minutes=1)),
        await decisions.reject(
            filing_id, who, "  协议内容违反法律强制性规定  ", NOW + timedelta(minutes=2)
        ),
    ]
    rows = await OutboxMessage.filter(filing_id=filing.id).order_by("id")
    assert [row.msg_id for row in rows] == [step.callback_id for step in steps]
    assert all(row.status == OutboxStatus.PENDING for row in rows)
    assert {row.path for row in rows} == {"/api/v1/court/callbacks"}
    events = [json.loads(row.body) for row in rows]
    assert [e["type"] for e in events] == [
        "cn.court.filing.accepted.v1",
        "cn.court.filing.docketed.v1",
        "cn.court.filing.rejected.v1",
    ]
    last = events[-1]
    assert last["id"] == steps[-1].callback_id
    assert last["source"] == "urn:cn:court:%E6%B2%AA0105"
    assert is_uri_reference(last["source"])
    assert last["subject"] == filing_id
    assert last["data"] == {
        "filing_id": filing_id,
        "case_number": filing.case_number,
        "status": "rejected",
        "court_case_number": "(2026)沪0105诉前调确1号",
        "reason": "协议内容违反法律强制性规定",
        "decided_at": (NOW + timedelta(minutes=2)).isoformat(),
    }
    assert events[0]["data"]["court_case_number"] is None
    filing = await Filing.get(filing_id=filing_id)
    assert filing.status == FilingStatus.REJECTED
    assert filing.reason == "协议内容违反法律强制性规定"


async def test_return_needs_a_reason(desk_db: str) -> None:
    who = await clerk()
    filing_id = await receive()
    for blank in ["", "   \n "]:
        with pytest.raises(DeskError) as refused:
            await decisions.return_for_correction(filing_id, who, blank, NOW)
        assert refused.value.code == "reason_required"
    with pytest.raises(DeskError) as refused:
        await decisions.return_for_correction(filing_id, who, "补" * 1001, NOW)
    assert refused.value.code == "reason_too_long"
    assert (await Filing.get(filing_id=filing_id)).status == FilingStatus.RECEIVED
    assert await OutboxMessage.all().count() == 0
    await decisions.return_for_correction(filing_id, who, "缺少被申请人的送达地址", NOW)
    filing = await Filing.get(filing_id=filing_id)
    assert (filing.status, filing.reason) == (FilingStatus.RETURNED, "缺少被申请人的送达地址")
    # Returned is final: no docketing afterwards.
    with pytest.raises(DeskError) as refused:
        await decisions.docket(filing_id, who, "民初", NOW)
    assert refused.value.code == "already_decided"


async def test_confirmation_decisions_only_for_docketed_confirmation_filings(desk_db: str) -> None:
    who = await clerk()
    transfer = await receive("transfer")
    confirmation = await receive("confirmation")
    with pytest.raises(DeskError) as refused:
        await decisions.confirm(confirmation, who, NOW)
    assert refused.value.code == "confirmation_needs_docket"
    await decisions.accept(confirmation, who, NOW)
    with pytest.raises(DeskError) as refused:
        await decisions.reject(confirmation, who, "理由", NOW)
    assert refused.value.code == "confirmation_needs_docket"
    await decisions.docket(transfer, who, "民初", NOW)
    with pytest.raises(DeskError) as refused:
        await decisions.confirm(transfer, who, NOW)
    assert refused.value.code == "not_a_confirmation"
    with pytest.raises(DeskError) as refused:
        await decisions.reject(confirmation, who, " ", NOW)
    assert refused.value.code == "reason_required"

    await decisions.docket(confirmation, who, "诉前调确", NOW)
    decision = await decisions.confirm(confirmation, who, NOW)
    assert decision.court_case_number == "(2026)沪0105诉前调确1号"
    with pytest.raises(DeskError) as refused:
        await decisions.reject(confirmation, who, "理由", NOW)
    assert refused.value.code == "already_decided"
    assert (await Filing.get(filing_id=confirmation)).status == FilingStatus.CONFIRMED


async def test_what_may_follow_what(desk_db: str) -> None:
    who = await clerk()
    filing_id = await receive("confirmation")
    filing = await Filing.get(filing_id=filing_id)
    assert [a.value for a in decisions.allowed_actions(filing)] == [
        "accepted",
        "returned",
        "docketed",
    ]
    await decisions.accept(filing_id, who, NOW)
    with pytest.raises(DeskError) as refused:
        await decisions.accept(filing_id, who, NOW)
    assert refused.value.code == "already_accepted"
    filing = await Filing.get(filing_id=filing_id)
    assert [a.value for a in decisions.allowed_actions(filing)] == ["returned", "docketed"]
    await decisions.docket(filing_id, who, "诉前调确", NOW)
    filing = await Filing.get(filing_id=filing_id)
    assert [a.value for a in decisions.allowed_actions(filing)] == ["confirmed", "rejected"]
    transfer = await Filing.get(filing_id=await receive("transfer"))
    await decisions.docket(transfer.filing_id, who, "民初", NOW)
    assert decisions.allowed_actions(await Filing.get(id=transfer.id)) == []


async def test_unknown_type_codes_and_filings_are_refused(desk_db: str) -> None:
    who = await clerk()
    filing_id = await receive()
    for code in ["民终", "", "刑初"]:
        with pytest.raises(DeskError) as refused:
            await decisions.docket(filing_id, who, code, NOW)
        assert refused.value.code == "unknown_type_code"
    with pytest.raises(DeskError) as refused:
        await decisions.accept(str(uuid.uuid4()), who, NOW)
    assert (refused.value.code, refused.value.status_code) == ("filing_not_found", 404)
    assert await DocketCounter.all().count() == 0


async def test_accepting_in_bulk_skips_what_cannot_be_accepted(desk_db: str) -> None:
    who = await clerk()
    waiting = [await receive() for _ in range(3)]
    docketed = await receive()
    await decisions.docket(docketed, who, "民初", NOW)
    missing = str(uuid.uuid4())
    accepted, refused = await decisions.accept_many(
        [waiting[0], docketed, waiting[1], waiting[0], missing, waiting[2]], who, NOW
    )
    assert accepted == waiting
    assert [(fid, e.code) for fid, e in refused] == [
        (docketed, "already_docketed"),
        (missing, "filing_not_found"),
    ]
    assert await Filing.filter(status=FilingStatus.ACCEPTED).count() == 3
    assert await OutboxMessage.all().count() == 4  # three acceptances and the docketing
