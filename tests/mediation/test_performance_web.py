"""Performance of an agreement's terms through the case page: the obliged side marks, the
other side answers, nobody else changes anything; reminders go once however many job
processes run; the mediator's work queue lists what is overdue, of their own cases only."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import Role, User
from cases.models import Notice, TimelineEvent
from cases.performance.actions import do_send_performance_reminders
from cases.performance.models import PerformanceItem, PerformanceStatus
from mediation.settings import Settings
from tests.mediation.signed_agreement import SignedWorld, build_signed_world
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_organisation,
    create_staff,
    run,
    switch_to,
)
from tests.support.rooms import APPLICANT, MEDIATOR, OUTSIDER, RESPONDENT

# 10:00 in Shanghai on 1 December 2026.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def _csrf(client: TestClient, number: str) -> str:
    page = client.get(f"/cases/{number}")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _post(client: TestClient, world: SignedWorld, item: str, move: str, note: str = "") -> Any:
    token = _csrf(client, world.case_number)
    return client.post(
        f"/cases/{world.case_number}/performance/{world.item_ids[item]}/{move}",
        data={"csrf_token": token, "note": note},
        follow_redirects=False,
    )


def _item(client: TestClient, world: SignedWorld, item: str) -> PerformanceItem:
    found: PerformanceItem = run(client, PerformanceItem.get, id=world.item_ids[item])
    return found


def _events(client: TestClient, kind: str) -> int:
    count: int = run(client, TimelineEvent.filter(kind=kind).count)
    return count


def test_the_obliged_side_marks_and_the_other_side_confirms(
    client: TestClient, settings: Settings
) -> None:
    world = run(client, build_signed_world, settings)

    switch_to(client, *RESPONDENT)  # the respondent owes the refund (term 1)
    page = client.get(f"/cases/{world.case_number}").text
    assert "标记为已履行" in page and "第1项" in page
    marked = _post(client, world, "refund", "performed", "已于12月1日银行转账3000元")
    assert marked.status_code == 303
    item = _item(client, world, "refund")
    assert item.status == PerformanceStatus.PERFORMED
    assert item.performed_note == "已于12月1日银行转账3000元"
    # The applicant (the other side) is told, by email and SMS.
    told = run(client, Notice.filter(subject__contains="Performance to confirm").all)
    assert sorted(n.recipient for n in told) == ["13812345678", "zhangsan@example.com"]

    switch_to(client, *APPLICANT)
    page = client.get(f"/cases/{world.case_number}").text
    assert "确认已履行" in page and "已于12月1日银行转账3000元" in page
    assert _post(client, world, "refund", "confirm", "已收到").status_code == 303
    item = _item(client, world, "refund")
    assert item.status == PerformanceStatus.CONFIRMED and item.answer_note == "已收到"
    told = run(client, Notice.filter(subject__contains="Performance confirmed").all)
    assert sorted(n.recipient for n in told) == ["13900001111", "service@travel.example.com"]
    assert _events(client, "performance_marked") == 1
    assert _events(client, "performance_confirmed") == 1
    assert "履行已确认" in client.get(f"/cases/{world.case_number}").text


def test_a_dispute_needs_a_note_goes_back_to_the_obliged_side_and_tells_the_mediator(
    client: TestClient, settings: Settings
) -> None:
    world = run(client, build_signed_world, settings)
    run(client, User.filter(id=world.user_ids["mediator"]).update, email="wang@org.example")

    switch_to(client, *APPLICANT)  # the applicant owes the withdrawal (term 2)
    assert _post(client, world, "withdraw", "performed").status_code == 303

    switch_to(client, *RESPONDENT)
    without_note = _post(client, world, "withdraw", "dispute", "   ")
    assert without_note.status_code == 422
    assert "请说明哪些内容未履行。" in without_note.text
    assert _item(client, world, "withdraw").status == PerformanceStatus.PERFORMED

    disputed = _post(client, world, "withdraw", "dispute", "投诉仍未撤回")
    assert disputed.status_code == 303
    assert _item(client, world, "withdraw").status == PerformanceStatus.DISPUTED
    told = run(client, Notice.filter(subject__contains="Performance disputed").all)
    assert sorted(n.recipient for n in told) == [
        "13812345678",
        "wang@org.example",
        "zhangsan@example.com",
    ]

    # The obliged side may perform and mark it again.
    switch_to(client, *APPLICANT)
    assert _post(client, world, "withdraw", "performed", "已撤回").status_code == 303
    item = _item(client, world, "withdraw")
    assert item.status == PerformanceStatus.PERFORMED and item.answer_note == ""


def test_nobody_else_changes_anything(client: TestClient, settings: Settings) -> None:
    world = run(client, build_signed_world, settings)
    create_staff(client, "other_mediator_1", Role.MEDIATOR, create_organisation(client, "X1").id)
    before = _events(client, "performance_marked")

    # The other side cannot mark the respondent's term performed.
    switch_to(client, *APPLICANT)
    refused = _post(client, world, "refund", "performed", "我替他标记")
    assert refused.status_code == 403
    assert "只有负有该项义务的一方可以标记已履行。" in refused.text
    # Nor answer a claim that was never made.
    early = _post(client, world, "refund", "confirm")
    assert early.status_code == 409

    # The mediator watches but does not mark.
    switch_to(client, *MEDIATOR)
    page = client.get(f"/cases/{world.case_number}").text
    assert "第1项" in page and "标记为已履行" not in page
    by_mediator = _post(client, world, "refund", "performed")
    assert by_mediator.status_code == 403
    assert "只有当事人可以标记或答复协议的履行。" in by_mediator.text

    # Outsiders do not learn the case exists.
    for who in (OUTSIDER, ("other_mediator_1", STAFF_PASSWORD)):
        switch_to(client, *who)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text)
        assert token
        hidden = client.post(
            f"/cases/{world.case_number}/performance/{world.item_ids['refund']}/performed",
            data={"csrf_token": token.group(1), "note": "x"},
        )
        assert hidden.status_code == 404
        assert "案件不存在，或您无权查看。" in hidden.text

    # The obliged side marks; the obliged side cannot also confirm its own claim.
    switch_to(client, *RESPONDENT)
    assert _post(client, world, "refund", "performed").status_code == 303
    own = _post(client, world, "refund", "confirm")
    assert own.status_code == 403
    assert "只有对方当事人可以确认该项履行或提出异议。" in own.text
    # A term of another case, an unknown move and a missing CSRF token change nothing.
    token = _csrf(client, world.case_number)
    assert (
        client.post(
            f"/cases/{world.case_number}/performance/{world.item_ids['refund'] + 99}/performed",
            data={"csrf_token": token},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/cases/{world.case_number}/performance/{world.item_ids['refund']}/erase",
            data={"csrf_token": token},
        ).status_code
        == 404
    )
    switch_to(client, *APPLICANT)
    no_csrf = client.post(
        f"/cases/{world.case_number}/performance/{world.item_ids['refund']}/confirm",
        data={"note": ""},
    )
    assert no_csrf.status_code == 403

    assert _item(client, world, "refund").status == PerformanceStatus.PERFORMED
    assert _events(client, "performance_marked") == before + 1
    assert _events(client, "performance_confirmed") == 0


async def _reminder_notices(subject: str) -> list[str]:
    return sorted(
        await Notice.filter(subject__contains=subject).values_list("recipient", flat=True)
    )


async def test_reminders_go_once_even_when_job_runs_race(db: None, settings: Settings) -> None:
    """Proves the reminder's claim on PostgreSQL only (SQLite runs one transaction at a time
    per process): the runs are held inside the transaction after the claim
    (`performance_reminder`), so without it several send the reminder, every time."""
    world = await build_signed_world(
        settings,
        effective_at=NOW - timedelta(days=3),
        refund_due=date(2026, 12, 3),  # two days left on 1 December
        withdraw_due=date(2026, 12, 20),
    )
    await User.filter(id=world.user_ids["mediator"]).update(
        email="wang@org.example", mobile="13600001234"
    )

    # Three days before: nothing yet.
    assert await do_send_performance_reminders(NOW - timedelta(days=1)) == 0

    with rendezvous("performance_reminder"):
        sent = await asyncio.gather(*(do_send_performance_reminders(NOW) for _ in range(4)))
    assert sum(sent) == 1
    assert await _reminder_notices("Performance due") == [
        "13900001111",
        "service@travel.example.com",
    ]
    assert await do_send_performance_reminders(NOW + timedelta(days=1)) == 0

    # The day after the due day: the mediator hears, once.
    after = NOW + timedelta(days=3)
    with rendezvous("performance_reminder"):
        sent = await asyncio.gather(*(do_send_performance_reminders(after) for _ in range(4)))
    assert sum(sent) == 1
    assert await _reminder_notices("Performance overdue") == ["13600001234", "wang@org.example"]
    assert await do_send_performance_reminders(after + timedelta(days=5)) == 0
    assert len(await _reminder_notices("Performance due")) == 2  # not sent again

    # A term marked performed is not chased.
    await PerformanceItem.filter(id=world.item_ids["withdraw"]).update(
        status=PerformanceStatus.PERFORMED
    )
    assert await do_send_performance_reminders(datetime(2026, 12, 25, 2, tzinfo=UTC)) == 0


async def test_an_item_first_seen_overdue_reminds_only_the_mediator(
    db: None, settings: Settings
) -> None:
    await build_signed_world(
        settings,
        effective_at=NOW - timedelta(days=30),
        refund_due=date(2026, 11, 20),
        withdraw_due=date(2026, 12, 30),
    )
    assert await do_send_performance_reminders(NOW) == 1
    assert await _reminder_notices("Performance due") == []
    # The mediator here has neither email nor mobile: the reminder is claimed all the same,
    # and not retried every round.
    assert await do_send_performance_reminders(NOW + timedelta(hours=1)) == 0


async def _second_case_with_overdue_term(settings: Settings, mediator_id: int) -> str:
    """Another case, handled by another mediator, with an overdue term."""
    from cases.actions import Filer
    from cases.agreements.models import AgreementStatus, AgreementVersion
    from cases.intake import file_dispute
    from cases.models import Case
    from cases.status import Status
    from tests.support.factories import filing_fields, party_ids

    case = await file_dispute(settings, filing_fields(**party_ids(2)), [], Filer(), NOW)
    await Case.filter(id=case.id).update(status=Status.SETTLED, mediator_id=mediator_id)
    version = await AgreementVersion.create(
        case=case,
        number=1,
        template="peoples",
        status=AgreementStatus.EFFECTIVE,
        drafted_by_id=mediator_id,
        created_at=NOW,
        effective_at=NOW - timedelta(days=40),
    )
    await PerformanceItem.create(
        version=version,
        case=case,
        term_number=1,
        obligor_side="respondent",
        description="另一案件的付款义务",
        due_on=date(2026, 11, 1),
    )
    return case.number


def test_the_mediator_sees_overdue_and_disputed_terms_of_their_own_cases(
    client: TestClient, settings: Settings
) -> None:
    today = datetime.now(UTC)
    world = run(
        client,
        build_signed_world,
        settings,
        effective_at=today - timedelta(days=30),
        refund_due=(today - timedelta(days=5)).date(),
        withdraw_due=(today + timedelta(days=30)).date(),
    )
    other = create_staff(
        client, "other_mediator_1", Role.MEDIATOR, create_organisation(client, "X2").id
    )
    elsewhere = run(client, _second_case_with_overdue_term, settings, other.id)

    switch_to(client, *MEDIATOR)
    work = client.get("/work").text
    assert "调解协议：履行逾期或有异议" in work
    assert world.case_number in work and "已逾期" in work
    assert elsewhere not in work
    assert "另一案件" not in work

    switch_to(client, "other_mediator_1", STAFF_PASSWORD)
    theirs = client.get("/work").text
    assert elsewhere in theirs and world.case_number not in theirs

    # Once performed and confirmed, it leaves the list.
    run(
        client,
        PerformanceItem.filter(id=world.item_ids["refund"]).update,
        status=PerformanceStatus.CONFIRMED,
    )
    switch_to(client, *MEDIATOR)
    assert "没有逾期或有异议的履行事项。" in client.get("/work").text
