"""The case page's step bar and next-step banner in a browser, for each role at each stage:
the applicant and the respondent on phones, the mediator at a desk. The banner is the first
thing on a phone's screen, says what this viewer must do now and by when, and its button
leads there. The case is moved between stages directly in the database: how it gets there
is the other tests' business; what each viewer is told is this one's.

Covered: the applicant, the respondent and the mediator from the invitation to the court
(the first test); an organisation's administrator (appointing, then told who acts), the draft
agreement (the mediator), signing (each party told to sign, then to wait), performing the
terms (the party who owes one, the other side answering what was marked performed) and a
filing the court returned for correction (the second test). Not in a browser: the mediator's
"draft the agreement from the accepted offer" (it needs an offer accepted in a room; the table
tests in tests/cases/test_steps.py cover it)."""

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
        by_end = "截止时间：北京时间 2030年1月15日 当日结束前"

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


# --- the administrator, the agreement, performance and a returned filing ----------------------

ADMIN = ("orgadmin1", "org admin pass 1")


@pytest.fixture
def signed_site(database_url: str, settings: Settings) -> Iterator[tuple[str, Any, str]]:
    """A case with an effective agreement and its terms (the respondent owes a refund, the
    applicant the withdrawal of a complaint), its session over, and an organisation admin."""
    from tests.mediation.signed_agreement import build_signed_world

    async def build() -> Any:
        from cases.accounts.actions import do_create_staff
        from cases.accounts.models import Role
        from cases.models import Case
        from cases.sessions.models import MediationSession, SessionStatus

        world = await build_signed_world(
            settings, refund_due=date(2030, 1, 10), withdraw_due=date(2030, 1, 20)
        )
        case = await Case.get(id=world.case_id)
        await do_create_staff(
            username=ADMIN[0],
            password=ADMIN[1],
            role=Role.ORG_ADMIN,
            display_name="组织管理员",
            organisation_id=case.organisation_id,
        )
        await MediationSession.filter(case_id=case.id).update(status=SessionStatus.ENDED)
        return world

    with cheap_hashing():
        world = run_with_orm(database_url, build)
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, world, database_url


def agreement_at(database_url: str, world: Any, status: str, signed: tuple[str, ...]) -> None:
    """The version at `status`, signed by `signed` only."""

    async def move() -> None:
        from cases.agreements.models import (
            AgreementSignature,
            AgreementVersion,
            SignatureMethod,
            SignerRole,
        )

        version = await AgreementVersion.get(id=world.version_id)
        version.status = status
        await version.save(update_fields=["status"])
        await AgreementSignature.filter(version=version).delete()
        for role in signed:
            await AgreementSignature.create(
                version=version,
                role=SignerRole(role),
                signer_id=world.user_ids[role],
                method=SignatureMethod.PASSWORD,
                signed_sha256=version.sha256,
                attestation="0" * 64,
                signed_at=datetime.now(UTC),
            )

    run_with_orm(database_url, move)


def term_performed(database_url: str, item_id: int) -> None:
    async def move() -> None:
        from cases.performance.models import PerformanceItem, PerformanceStatus

        await PerformanceItem.filter(id=item_id).update(
            status=PerformanceStatus.PERFORMED, performed_at=datetime.now(UTC)
        )

    run_with_orm(database_url, move)


def returned_transfer(database_url: str, case_id: int) -> None:
    async def move() -> None:
        from cases.models import CourtFiling, FilingKind, FilingStatus

        now = datetime.now(UTC)
        await CourtFiling.create(
            filing_id="f-returned-1",
            case_id=case_id,
            kind=FilingKind.TRANSFER,
            status=FilingStatus.RETURNED,
            court_reason="请补充被申请人的统一社会信用代码。",
            created_at=now,
            updated_at=now,
        )

    run_with_orm(database_url, move)


def test_step_bar_and_banner_for_the_admin_the_agreement_performance_and_correction(
    signed_site: tuple[str, Any, str], browser: Browser, phones: Phones
) -> None:
    from tests.support.browser import TIMEOUT_MS

    base, world, database_url = signed_site
    number = world.case_number
    page_path = f"/cases/{number}"
    applicant, respondent = phones.new_page(), phones.new_page()
    contexts = [browser.new_context(**DESKTOP) for _ in range(2)]
    for context in contexts:
        context.set_default_timeout(TIMEOUT_MS)
    mediator, admin = (context.new_page() for context in contexts)
    try:
        sign_in(applicant, base, page_path, *APPLICANT)
        sign_in(respondent, base, page_path, *RESPONDENT)
        sign_in(mediator, base, page_path, *MEDIATOR)
        sign_in(admin, base, page_path, *ADMIN)
        by_end = "截止时间：北京时间 2030年1月15日 当日结束前"
        nothing = "本案已没有需要您办理的事项。"

        # Being assigned: the organisation's admin appoints, by the appointment's limit.
        stage(database_url, number, "assigning", deadlines={"appointment": DUE})
        admin.reload()
        check(admin, "调解员", "请为本案指派调解员。", by_end, "指派调解员")
        banner(admin).get_by_role("link", name="指派调解员").click()
        expect(admin).to_have_url(re.compile(r"#routing$"))
        applicant.reload()
        check(applicant, "调解员", "现在无需操作：正在为本案指派调解员。", by_end, None)

        # The mediator was asked; then mediation is under way: the admin is told who acts.
        stage(database_url, number, "awaiting_mediator", deadlines={"mediator_answer": DUE})
        admin.reload()
        check(admin, "调解员", "现在无需操作：已请调解员接受本案。", by_end, None)
        stage(database_url, number, "in_mediation", deadlines={"online_mediation": DUE})
        admin.reload()
        check(
            admin,
            "调解",
            "现在无需操作：调解员正在与双方当事人进行调解。",
            by_end,
            None,
        )

        # A draft agreement: the mediator checks it and opens it for signature.
        agreement_at(database_url, world, "draft", ())
        mediator.reload()
        check(mediator, "调解", "请核对协议草稿，并提交各方签署。", by_end, "打开草稿")
        banner(mediator).get_by_role("link", name="打开草稿").click()
        expect(mediator).to_have_url(f"{base}{page_path}/agreement")
        mediator.goto(base + page_path)
        applicant.reload()
        check(
            applicant,
            "调解",
            "现在无需操作：调解员将安排在线调解会议并通知您。",
            by_end,
            None,
        )

        # Open for signature, signed by the mediator: each party is told to read and sign.
        agreement_at(database_url, world, "signing", ("mediator",))
        for page in (applicant, respondent):
            page.reload()
            check(page, "调解", "请阅读调解协议并签署。", by_end, "阅读并签署")
        phones.screenshot(applicant, "steps-sign-agreement")
        banner(applicant).get_by_role("link", name="阅读并签署").click()
        expect(applicant).to_have_url(f"{base}{page_path}/agreement")
        mediator.reload()
        check(mediator, "调解", "现在无需操作：正在等待其他各方签署。", by_end, None)
        # The applicant signed: they wait; the respondent still signs.
        agreement_at(database_url, world, "signing", ("mediator", "applicant"))
        applicant.goto(base + page_path)
        check(applicant, "调解", "现在无需操作：正在等待其他各方签署。", by_end, None)

        # In effect: each party performs the terms it owes, by the earliest term's day.
        agreement_at(database_url, world, "effective", ("mediator", "applicant"))
        stage(database_url, number, "settled", deadlines={"judicial_confirmation": DUE})
        perform = "请履行协议中由您履行的条款，并逐项标记为已履行。"
        respondent.reload()
        check(
            respondent,
            "达成协议或终止",
            perform,
            "截止时间：北京时间 2030年1月10日 当日结束前",
            "查看待履行条款",
        )
        banner(respondent).get_by_role("link", name="查看待履行条款").click()
        expect(respondent).to_have_url(re.compile(r"#performance$"))
        expect(respondent.locator("#performance")).to_be_visible()
        applicant.reload()
        check(
            applicant,
            "达成协议或终止",
            perform,
            "截止时间：北京时间 2030年1月20日 当日结束前",
            "查看待履行条款",
        )
        # The respondent marked the refund performed: the applicant answers first.
        term_performed(database_url, world.item_ids["refund"])
        applicant.reload()
        check(
            applicant,
            "达成协议或终止",
            "对方表示已履行协议的一项条款：请确认已履行，或提出异议。",
            None,
            "确认或提出异议",
        )
        phones.screenshot(applicant, "steps-answer-performance")
        respondent.reload()
        check(
            respondent,
            "达成协议或终止",
            "协议已经生效。您可以申请法院司法确认，使协议可以申请强制执行。",
            by_end,
            "申请司法确认",
        )
        for page in (mediator, admin):
            page.reload()
            check(page, "达成协议或终止", nothing, None, None)

        # The court returned a transfer: the applicant corrects it, everyone else waits.
        returned_transfer(database_url, world.case_id)
        stage(database_url, number, "returned_for_correction")
        applicant.reload()
        check(
            applicant,
            "法院",
            "法院退回了材料：请按法院要求补正后重新提交。",
            None,
            "补正并重新提交",
        )
        phones.screenshot(applicant, "steps-returned")
        banner(applicant).get_by_role("link", name="补正并重新提交").click()
        expect(applicant).to_have_url(f"{base}{page_path}/court/correction")
        waiting = "法院退回了材料，需由申请人补正。您无需操作。"
        for page in (respondent, mediator, admin):
            page.reload()
            check(page, "法院", waiting, None, None)
    finally:
        for context in contexts:
            context.close()
