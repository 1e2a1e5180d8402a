"""The case page's step bar and next-step banner in a browser, for each role at each stage:
the applicant and the respondent on phones, the mediator at a desk. The banner is the first
thing on a phone's screen, says what this viewer must do now and by when, and its button
leads there. The case is moved between stages directly in the database: how it gets there
is the other tests' business; what each viewer is told is this one's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import (
    APPLICANT,
    MEDIATOR,
    RESPONDENT,
    RoomWorld,
    build_room_world,
    cheap_hashing,
)

if TYPE_CHECKING:
    from mediation.settings import Settings
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
DUE = date(2030, 1, 15)


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, RoomWorld, str]]:
    with cheap_hashing():
        # The session opens in a day: the room is not open yet.
        world = run_with_orm(
            database_url, lambda: build_room_world(settings, starts_in=timedelta(days=1))
        )
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, world, database_url


def sign_in(page: Page, base: str, target: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/signin?next={target}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(base + target)


def stage(database_url: str, number: str, status: str, **extra: Any) -> None:
    """Put the case at `status`, with open deadlines {regime: due_on} and other facts."""

    async def move() -> None:
        from cases.deadlines.models import CaseDeadline, DeadlineStatus
        from cases.endings.models import EndRecord
        from cases.models import Case

        case = await Case.get(number=number)
        await Case.filter(id=case.id).update(
            status=status, respondent_reply_due=extra.get("reply_due")
        )
        await CaseDeadline.filter(case=case).delete()
        now = datetime.now(UTC)
        for regime, due in extra.get("deadlines", {}).items():
            await CaseDeadline.create(
                case=case,
                regime=regime,
                started_on=due - timedelta(days=10),
                due_on=due,
                status=DeadlineStatus.OPEN,
                created_at=now,
            )
        if extra.get("end_record"):
            await EndRecord.filter(case=case).delete()
            await EndRecord.create(case=case, ending=status, created_at=now)

    run_with_orm(database_url, move)


def banner(page: Page) -> Any:
    return page.locator(".next-banner")


def check(page: Page, current: str, text: str, due: str | None, button: str | None) -> None:
    expect(page.locator(".step-bar [aria-current=step]")).to_contain_text(current)
    expect(banner(page).locator(".next-text")).to_have_text(text)
    if due is None:
        expect(banner(page).locator(".next-due")).to_have_count(0)
    else:
        expect(banner(page).locator(".next-due")).to_have_text(due)
    if button is None:
        expect(banner(page).get_by_role("link")).to_have_count(0)
    else:
        expect(banner(page).get_by_role("link", name=button)).to_be_visible()


def test_step_bar_and_banner_for_each_role_at_each_stage(
    site: tuple[str, RoomWorld, str], browser: Browser, phones: Phones
) -> None:
    from tests.support.browser import TIMEOUT_MS

    base, world, database_url = site
    number = world.case_number
    page_path = f"/cases/{number}"
    applicant, respondent = phones.new_page(), phones.new_page()
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    mediator = context.new_page()
    try:
        sign_in(applicant, base, page_path, *APPLICANT)
        sign_in(respondent, base, page_path, *RESPONDENT)
        sign_in(mediator, base, page_path, *MEDIATOR)
        by_end = f"截止时间：北京时间 {DUE.isoformat()} 当日结束前"

        # On a phone the banner is the first thing on the screen, above the case's facts.
        box = banner(applicant).bounding_box()
        assert box is not None and box["y"] + box["height"] < 844
        facts = applicant.locator("h1.case-number").bounding_box()
        assert facts is not None and facts["y"] > box["y"]
        phones.assert_fits(applicant)

        # Waiting for the respondent: the applicant is told when the answer is due.
        reply = datetime(2029, 12, 8, 12, 28, tzinfo=UTC)
        stage(database_url, number, "awaiting_consent", reply_due=reply)
        applicant.reload()
        check(
            applicant,
            "被申请人答复",
            "现在无需操作：正在等待被申请人答复。",
            "截止时间：北京时间 2029年12月8日 20:28",
            None,
        )
        phones.screenshot(applicant, "steps-awaiting-consent")

        # Choosing a mediator together.
        stage(database_url, number, "assigning", deadlines={"party_choice": DUE})
        for page in (applicant, respondent):
            page.reload()
            check(page, "调解员", "请与对方共同选择一名调解员。", by_end, "选择调解员")
        mediator.reload()

        # The mediator is asked to accept.
        stage(database_url, number, "awaiting_mediator", deadlines={"mediator_answer": DUE})
        mediator.reload()
        check(mediator, "调解员", "请在披露利害关系后，决定接受或拒绝本案。", by_end, "答复指派")
        applicant.reload()
        check(applicant, "调解员", "现在无需操作：已请调解员接受本案。", by_end, None)

        # In mediation with a session tomorrow: attend it; the mediator too.
        stage(database_url, number, "in_mediation", deadlines={"online_mediation": DUE})
        for page in (applicant, mediator):
            page.reload()
            expect(page.locator(".step-bar [aria-current=step]")).to_contain_text("调解")
            expect(banner(page).locator(".next-text")).to_have_text(
                "请参加在线调解会议。会议室在开始前10分钟开放。"
            )
            expect(banner(page).locator(".next-due")).to_contain_text("北京时间")
        banner(applicant).get_by_role("link", name="查看会议").click()
        expect(applicant).to_have_url(re.compile(r"#sessions$"))

        # Settled: each party may apply for judicial confirmation within its 30 days.
        stage(database_url, number, "settled", deadlines={"judicial_confirmation": DUE})
        respondent.reload()
        check(
            respondent,
            "达成协议或终止",
            "协议已经生效。您可以申请法院司法确认，使协议可以申请强制执行。",
            by_end,
            "申请司法确认",
        )
        banner(respondent).get_by_role("link", name="申请司法确认").click()
        expect(respondent).to_have_url(f"{base}/cases/{number}/court/confirmation")
        mediator.reload()
        check(mediator, "达成协议或终止", "本案已没有需要您办理的事项。", None, None)

        # Failed: the applicant may ask for a transfer; the mediator completes the record.
        stage(database_url, number, "failed", end_record=True)
        applicant.reload()
        check(
            applicant,
            "达成协议或终止",
            "调解未能达成协议。您可以申请将案件移送法院。",
            None,
            "申请移送法院立案",
        )
        phones.screenshot(applicant, "steps-failed")
        mediator.reload()
        check(
            mediator,
            "达成协议或终止",
            "请完成调解终止记录（无争议的基本事实和终止原因）。",
            None,
            "完善记录",
        )
        respondent.goto(base + page_path)
        check(respondent, "达成协议或终止", "本案已没有需要您办理的事项。", None, None)

        # At the court.
        stage(database_url, number, "transferred")
        applicant.reload()
        check(applicant, "法院", "现在无需操作：法院正在审查材料。", None, None)

        # Refused: the bar ends at the respondent's step.
        stage(database_url, number, "refused")
        applicant.reload()
        expect(applicant.locator(".step-bar .step-ended")).to_contain_text("被申请人答复")
        expect(applicant.locator(".step-bar .step-done")).to_have_count(1)
        phones.screenshot(applicant, "steps-refused")
    finally:
        context.close()
