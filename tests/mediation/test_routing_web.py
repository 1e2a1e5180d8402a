"""Routing over HTTP: the parties' joint choice, the mediator's answer, who may do what, what
each viewer is shown, and extending the mediation time limit with the parties' consent.

The routes read the real clock, so the case is filed and routed "now" and due dates are
computed by the engine from what is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_register_disputant
from cases.accounts.models import Role
from cases.clock import say_date
from cases.deadlines.calendar_cn import official_calendar
from cases.deadlines.models import CaseDeadline, DeadlineStatus
from cases.deadlines.rules import Extension, Regime, Unit, deadline_for
from cases.models import Case, Side
from cases.routing.assignment import do_appoint, do_choose_mediator, do_mediator_answer
from cases.routing.models import MediatorChoice
from cases.status import Status
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_and_consent,
    filing_fields,
    new_mediator,
    new_organisation,
    party_ids,
    run,
    switch_to,
)

APPLICANT, RESPONDENT, BYSTANDER = "13812345678", "13700003333", "13700002222"
PARTY_PASSWORD = "party password 1"
# Triage reasons as staff read them (zh_CN).
REASON_TEXTS = ("游客对旅游经营者的投诉。", "该调解组织受理此类纠纷。")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@dataclass
class World:
    number: str
    case_id: int
    wang: int  # the tour_refund specialist, the parties' and the scorer's choice
    li: int
    zhao: int


def build_world(client: TestClient, settings: Settings) -> World:
    org = run(client, new_organisation, "TQO", track="administrative", categories=("tour_refund",))
    wang = run(
        client,
        new_mediator,
        "wang",
        org.id,
        display_name="调解员 王建国",
        email="wang@mediators.example.com",
        specialties=["tour_refund"],
    )
    li = run(client, new_mediator, "li", org.id, display_name="调解员 李晓红")
    zhao = run(client, new_mediator, "zhao", org.id, display_name="调解员 赵敏")
    create_staff(client, "tqo_admin", Role.ORG_ADMIN, org.id)
    users = {}
    for mobile, name in ((APPLICANT, "张三"), (RESPONDENT, "李四"), (BYSTANDER, "王五")):
        users[mobile] = run(
            client,
            do_register_disputant,
            identifier=mobile,
            password=PARTY_PASSWORD,
            display_name=name,
        )
    case = run(
        client,
        file_and_consent,
        settings,
        datetime.now(UTC),
        filer_user_id=users[APPLICANT].id,
        respondent_user_id=users[RESPONDENT].id,
        **party_ids(1),
    )
    assert case.status == Status.ASSIGNING
    return World(case.number, case.id, wang.id, li.id, zhao.id)


@pytest.fixture
def world(client: TestClient, settings: Settings) -> World:
    return build_world(client, settings)


def fetch(client: TestClient, fn: Any, **filters: Any) -> Any:
    return run(client, fn, **filters)


def case_of(client: TestClient, world: World) -> Case:
    return fetch(client, Case.get, id=world.case_id)


def post(client: TestClient, path: str, token_from: str, **data: str) -> Any:
    token = csrf_of(client, token_from)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def section(page: str, heading: str) -> str:
    """The part of a page from an <h2> heading to the next one."""
    match = re.search(rf"<h2>{re.escape(heading)}</h2>(.*?)(?=<h2>|$)", page, re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def assert_nothing_of_the_case(text: str) -> None:
    # The number itself appears only in the language switch link, which echoes the path.
    for secret in (filing_fields()["facts"], "张三", "李四", "调解员 王建国", "分派"):
        assert secret not in text


def choose_jointly_now(client: TestClient, world: World, mediator_id: int) -> None:
    for side in (Side.APPLICANT, Side.RESPONDENT):
        case = case_of(client, world)
        run(client, do_choose_mediator, case, side, mediator_id, datetime.now(UTC))


def accept_now(client: TestClient, world: World, mediator_id: int) -> None:
    from cases.accounts.models import User

    mediator = fetch(client, User.get, id=mediator_id)
    run(
        client,
        do_mediator_answer,
        mediator,
        case_of(client, world),
        accept=True,
        has_tie=False,
        statement="",
        decline_reason="",
        now=datetime.now(UTC),
    )


def test_parties_choose_a_mediator_who_then_accepts(client: TestClient, world: World) -> None:
    page_path = f"/cases/{world.number}"
    switch_to(client, APPLICANT, PARTY_PASSWORD)
    page = client.get(page_path).text
    roster = page[page.index('<ul class="roster">') :]
    for name in ("调解员 王建国", "调解员 李晓红", "调解员 赵敏"):
        assert name in roster
    assert f'action="/cases/{world.number}/choose-mediator"' in page

    response = post(
        client, f"/cases/{world.number}/choose-mediator", page_path, mediator_id=str(world.wang)
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{world.number}#routing"
    assert "您的选择" in client.get(page_path).text
    assert case_of(client, world).status == Status.ASSIGNING

    switch_to(client, RESPONDENT, PARTY_PASSWORD)
    assert "对方的选择" in client.get(page_path).text
    response = post(
        client, f"/cases/{world.number}/choose-mediator", page_path, mediator_id=str(world.wang)
    )
    assert response.status_code == 303
    case = case_of(client, world)
    assert (case.status, case.mediator_id) == (Status.AWAITING_MEDIATOR, world.wang)

    switch_to(client, "wang", STAFF_PASSWORD)
    work = client.get("/work")
    assert work.status_code == 200
    assert world.number in section(work.text, "等待调解员确认")
    page = client.get(page_path).text
    assert "您对本次委派的答复" in page
    assert f'action="/cases/{world.number}/answer"' in page

    response = post(
        client, f"/cases/{world.number}/answer", page_path, answer="accept", has_tie="no"
    )
    assert response.status_code == 303
    case = case_of(client, world)
    assert case.status == Status.IN_MEDIATION
    row = fetch(
        client, CaseDeadline.get, case_id=world.case_id, regime=Regime.ONLINE_MEDIATION.value
    )
    assert (
        row.due_on == deadline_for(Regime.ONLINE_MEDIATION, row.started_on, official_calendar()).due
    )
    page = client.get(page_path).text
    assert '<span class="status status-in_mediation">调解中</span>' in page
    deadlines = page[page.index('<section class="card" id="deadlines">') :]
    assert "调解期限（30 日）" in deadlines
    assert f"{say_date(row.due_on, 'zh_CN')}届满" in deadlines
    assert "等待调解员确认" not in client.get("/work").text


def test_only_the_assigned_mediator_may_answer(client: TestClient, world: World) -> None:
    choose_jointly_now(client, world, world.wang)
    before = case_of(client, world)

    switch_to(client, "zhao", STAFF_PASSWORD)
    response = post(client, f"/cases/{world.number}/answer", "/work", answer="accept", has_tie="no")

    assert response.status_code == 404
    assert_nothing_of_the_case(response.text)
    after = case_of(client, world)
    assert (after.status, after.mediator_id) == (before.status, before.mediator_id)
    assert after.status == Status.AWAITING_MEDIATOR


def test_only_a_party_may_choose_a_mediator(client: TestClient, world: World) -> None:
    switch_to(client, BYSTANDER, PARTY_PASSWORD)
    response = post(
        client, f"/cases/{world.number}/choose-mediator", "/cases", mediator_id=str(world.wang)
    )

    assert response.status_code == 404
    assert_nothing_of_the_case(response.text)
    assert fetch(client, MediatorChoice.filter(case_id=world.case_id).count) == 0
    assert case_of(client, world).status == Status.ASSIGNING


def test_staff_see_triage_reasons_and_scores_but_parties_do_not(
    client: TestClient, world: World
) -> None:
    assert run(client, do_appoint, world.case_id, datetime.now(UTC)) == world.wang
    page_path = f"/cases/{world.number}"

    for username in ("tqo_admin", "wang"):
        switch_to(client, username, STAFF_PASSWORD)
        page = client.get(page_path).text
        reasons = page[page.index('<ul class="reasons">') :]
        assert "分派理由" in page
        for text in REASON_TEXTS:
            assert text in reasons
        assert "分派记录" in page
        scores = page[page.index('<table class="scores">') : page.index("</table>")]
        assert "候选人" in scores and "得分" in scores
        assert [
            name for name in ("调解员 王建国", "调解员 李晓红", "调解员 赵敏") if name in scores
        ] == [
            "调解员 王建国",
            "调解员 李晓红",
            "调解员 赵敏",
        ]
        assert (
            scores.index("调解员 王建国")
            < scores.index("调解员 李晓红")
            < scores.index("调解员 赵敏")
        )

    for party in (APPLICANT, RESPONDENT):
        switch_to(client, party, PARTY_PASSWORD)
        page = client.get(page_path).text
        assert "调解员 王建国" in page  # the mediator's name, nothing of how they were picked
        for hidden in (
            "分派理由",
            "分派记录",
            "得分",
            "候选人",
            'class="scores"',
            'class="reasons"',
            *REASON_TEXTS,
        ):
            assert hidden not in page, hidden


def test_an_extension_needs_the_parties_consent(client: TestClient, world: World) -> None:
    choose_jointly_now(client, world, world.wang)
    accept_now(client, world, world.wang)
    before = fetch(client, CaseDeadline.get, case_id=world.case_id, regime="online_mediation")
    page_path = f"/cases/{world.number}"
    switch_to(client, "wang", STAFF_PASSWORD)
    assert f'action="/cases/{world.number}/deadline/extend"' in client.get(page_path).text

    refused = post(
        client,
        f"/cases/{world.number}/deadline/extend",
        page_path,
        days="15",
        reason="双方同意延长",
    )
    assert refused.status_code == 422
    unchanged = fetch(client, CaseDeadline.get, id=before.id)
    assert (unchanged.due_on, unchanged.extensions) == (before.due_on, [])

    accepted = post(
        client,
        f"/cases/{world.number}/deadline/extend",
        page_path,
        days="15",
        reason="双方同意延长",
        parties_consent="on",
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/cases/{world.number}#deadlines"
    extended = fetch(client, CaseDeadline.get, id=before.id)
    expected = deadline_for(
        Regime.ONLINE_MEDIATION,
        before.started_on,
        official_calendar(),
        extensions=[Extension(15, Unit.CALENDAR_DAYS, "双方同意延长")],
    ).due
    assert expected is not None and before.due_on is not None and expected > before.due_on
    assert (extended.due_on, extended.status) == (expected, DeadlineStatus.OPEN)
    assert extended.extensions == [{"days": 15, "unit": "calendar_days", "reason": "双方同意延长"}]
    page = client.get(page_path).text
    deadlines = page[page.index('<section class="card" id="deadlines">') :]
    deadlines = deadlines[: deadlines.index("</section>")]  # not the timeline's history
    assert f"{say_date(expected, 'zh_CN')}届满" in deadlines
    assert f"{say_date(before.due_on, 'zh_CN')}届满" not in deadlines
    assert "经当事人同意延长期限" in page  # on the timeline


def test_parties_are_told_in_plain_words_why_their_case_went_to_this_organisation(
    client: TestClient, world: World
) -> None:
    assert run(client, do_appoint, world.case_id, datetime.now(UTC)) == world.wang
    page_path = f"/cases/{world.number}"
    plain = (
        "这是游客对旅游经营者的投诉，由旅游投诉受理机构办理。",
        "这家调解组织受理这类纠纷。",
    )
    for party in (APPLICANT, RESPONDENT):
        switch_to(client, party, PARTY_PASSWORD)
        page = client.get(page_path).text
        why = page[page.index("为什么由这家调解组织办理您的案件") :]
        for text in plain:
            assert text in why
    switch_to(client, "wang", STAFF_PASSWORD)
    staff_page = client.get(page_path).text
    assert "为什么由这家调解组织办理您的案件" not in staff_page  # staff read the rules instead
