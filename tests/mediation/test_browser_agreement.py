"""The agreement in real browsers: the mediator drafts it at a desk in the editor (adding a
term row), the parties in the room on phones see the agreement card change as versions are
saved and put up for signature, each signs on a phone (password, then SMS code), and the
last signature makes the card say it is in effect. Pages fit a phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

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
LIVE = re.compile(r"\blive\b")


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, RoomWorld, str]]:
    with cheap_hashing():
        world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, world, database_url


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str, target: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/signin?next={target}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(base + target)


def latest_code(database_url: str, mobile: str) -> str:
    async def read() -> str:
        from cases.models import Notice

        notice = (
            await Notice.filter(recipient=mobile, subject__contains="Signing code")
            .order_by("-id")
            .first()
        )
        assert notice is not None
        found = re.search(r"验证码：(\d{6})", notice.body)
        assert found
        return found.group(1)

    return run_with_orm(database_url, read)


def test_drafting_and_signing_in_browsers(
    site: tuple[str, RoomWorld, str], desk: Page, phones: Phones
) -> None:
    base, world, database_url = site
    room = f"/sessions/{world.session_id}"
    number = world.case_number
    due = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=14)

    party = phones.new_page()
    other = phones.new_page()
    for page, who in ((party, APPLICANT), (other, RESPONDENT)):
        sign_in(page, base, room, *who)
        expect(page.locator("#conn")).to_have_class(LIVE)
        expect(page.locator("#agreement-card")).to_be_hidden()

    # The editor works on a phone too.
    pocket = phones.new_page()
    sign_in(pocket, base, f"/cases/{number}/agreement/edit", *MEDIATOR)
    expect(pocket.locator("[data-term-row]")).to_have_count(2)
    phones.assert_fits(pocket)
    phones.screenshot(pocket, "agreement-editor-phone")

    # The mediator drafts in the editor, adding a second term with the button.
    sign_in(desk, base, f"/cases/{number}/agreement/edit", *MEDIATOR)
    expect(desk.get_by_label("纠纷的主要事实")).not_to_be_empty()  # prefilled from the case
    desk.get_by_label("争议事项").fill("团费3680元是否应当全额退还。")
    desk.get_by_label("各方责任").fill("旅行社单方取消行程，应承担退款责任。")
    rows = desk.locator("[data-term-row]")
    expect(rows).to_have_count(2)  # two spare rows to start with
    desk.get_by_role("button", name="增加一项条款").click()
    expect(rows).to_have_count(3)
    first, third = rows.nth(0), rows.nth(2)
    first.get_by_label("约定内容").fill("旅行社向申请人退还团费")
    first.get_by_label("履行义务人").select_option("respondent")
    first.get_by_label("金额（元，如有）").fill("3680")
    first.get_by_label("履行方式").fill("银行转账")
    first.get_by_label("履行期限").fill(due.isoformat())
    third.get_by_label("约定内容").fill("申请人收到退款后撤回投诉")
    third.get_by_label("履行义务人").select_option("applicant")
    third.get_by_label("履行方式").fill("书面")
    third.get_by_label("履行期限").fill((due + timedelta(days=7)).isoformat())
    desk.get_by_role("button", name="保存为新版本").click()
    expect(desk).to_have_url(f"{base}/cases/{number}/agreement/1")
    expect(desk.locator(".agreement-text")).to_contain_text("人民调解协议书")
    expect(desk.locator(".agreement-text")).to_contain_text("2. 申请人收到退款后撤回投诉")

    for page in (party, other):
        card = page.locator("#agreement-card")
        expect(card).to_be_visible()
        expect(card).to_contain_text("第1版")
        expect(card).to_contain_text("草稿")
        expect(page.locator("#messages li.kind-agreement")).to_have_count(1)
    phones.screenshot(party, "agreement-room-draft")

    desk.get_by_role("button", name="提交签署").click()
    expect(desk.locator(".agreement-status-signing")).to_be_visible()
    for page in (party, other):
        expect(page.locator("#agreement-status")).to_have_text("待签署")
        expect(page.locator("#agreement-link")).to_have_text("阅读并签署")
    phones.screenshot(party, "agreement-room-signing")

    # The applicant signs on the phone with the account password.
    party.locator("#agreement-link").evaluate("a => a.removeAttribute('target')")
    party.locator("#agreement-link").tap()
    expect(party).to_have_url(f"{base}/cases/{number}/agreement/1")
    phones.assert_fits(party)
    phones.screenshot(party, "agreement-sign-page")
    party.get_by_label("账户密码").fill(APPLICANT[1])
    party.locator("#sign form").first.get_by_role("checkbox").check()
    party.get_by_role("button", name="使用密码签署").tap()
    expect(party.get_by_text("您已签署调解协议。")).to_be_visible()

    # The respondent signs with an SMS code.
    other.goto(f"{base}/cases/{number}/agreement")
    other.locator(".code-sign summary").tap()
    other.get_by_role("button", name="发送验证码").tap()
    expect(other.get_by_text("6位验证码已发送，10分钟内有效。")).to_be_visible()
    other.get_by_label("短信验证码").fill(latest_code(database_url, RESPONDENT[0]))
    other.locator(".code-sign").get_by_role("checkbox").check()
    other.get_by_role("button", name="使用验证码签署").tap()
    expect(other.get_by_text("您已签署调解协议。")).to_be_visible()
    phones.assert_fits(other)

    # The mediator's signature is the last: the agreement is in effect.
    desk.goto(f"{base}/cases/{number}/agreement/1")
    desk.get_by_label("账户密码").fill(MEDIATOR[1])
    desk.locator("#sign form").first.get_by_role("checkbox").check()
    desk.get_by_role("button", name="使用密码签署").click()
    expect(desk.get_by_text("您完成了最后一个签名，协议已经生效。")).to_be_visible()
    expect(desk.locator(".agreement-status-effective").first).to_be_visible()

    party.goto(f"{base}{room}")
    expect(party.locator("#agreement-status")).to_have_text("已生效")
    party.goto(f"{base}/cases/{number}/agreement")
    expect(party.locator(".signatures li.signed")).to_have_count(3)
    phones.assert_fits(party)
    phones.screenshot(party, "agreement-effective")
