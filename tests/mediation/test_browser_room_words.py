"""The room says what is happening in words: the connection's state ("已连接", "没有网络…"),
offers and counter-offers as real forms (amount, conditions, time to answer; never a browser
prompt), an accepted offer restated in full, every time in Beijing time even on a phone set
to another zone, live regions for screen readers, and the mediator asked before ending the
session with what will happen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

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
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, RoomWorld]]:
    with cheap_hashing():
        world = run_with_orm(database_url, lambda: build_room_world(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, world


def enter(page: Page, base: str, room: str, identifier: str, password: str) -> None:
    page.goto(f"{base}/signin?next={room}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(base + room)
    expect(page.locator("#conn")).to_have_class(LIVE)


def messages(page: Page, text: str) -> Locator:
    return page.locator("#messages li", has_text=text)


def no_prompts(page: Page) -> None:
    """Count any browser prompt or confirm instead of showing it (a room must not use one)."""
    page.add_init_script(
        "window.__prompts = 0;"
        "window.prompt = function () { window.__prompts += 1; return null; };"
        "window.confirm = function () { window.__prompts += 1; return false; };"
    )


def test_the_room_in_words(site: tuple[str, RoomWorld], browser: Browser, phones: Phones) -> None:
    from tests.support.browser import TIMEOUT_MS

    base, world = site
    room = f"/sessions/{world.session_id}"
    applicant = phones.new_page()
    # The respondent's phone is set to New York time: the room still shows Beijing time.
    respondent = phones.new_page(timezone_id="America/New_York")
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    mediator = context.new_page()
    for page in (applicant, respondent, mediator):
        no_prompts(page)
    try:
        enter(mediator, base, room, *MEDIATOR)
        enter(applicant, base, room, *APPLICANT)
        enter(respondent, base, room, *RESPONDENT)

        # The connection's state in words, in a live region; new messages in a log.
        for page in (applicant, respondent, mediator):
            expect(page.locator("#conn")).to_have_text("已连接")
            expect(page.locator("#conn")).to_have_attribute("aria-live", "polite")
            expect(page.locator("#messages")).to_have_attribute("role", "log")
            expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")

        # The applicant proposes terms in the form: amount, conditions, time to answer.
        applicant.locator(".offer-panel summary").tap()
        applicant.get_by_label("金额（元）").first.fill("3200")
        applicant.get_by_label("条件（如何、何时支付或履行）").first.fill("七日内银行转账")
        applicant.get_by_label("请对方在此时间前答复（北京时间，可不填）").first.fill(
            "2030-01-05T18:00"
        )
        applicant.get_by_role("button", name="提出", exact=True).tap()
        offer = messages(respondent, "七日内银行转账")
        expect(offer.locator(".amount")).to_have_text("方案 人民币3,200.00元")
        expect(offer.locator(".conditions")).to_have_text("条件：七日内银行转账")
        expect(offer.locator(".answer-by")).to_have_text("请于北京时间 2030/01/05 18:00 前答复")

        # Each message's time is Beijing time, on the New York phone too.
        stamp = offer.locator("time.at")
        at = stamp.get_attribute("datetime")
        assert at
        expected = datetime.fromisoformat(at).astimezone(SHANGHAI).strftime("%H:%M")
        expect(stamp).to_have_text(expected)
        expect(stamp).to_have_attribute("title", re.compile("北京时间$"))

        # The respondent counters in a form under the offer, not a prompt.
        offer.get_by_role("button", name="还价", exact=True).tap()
        counter = respondent.locator("#counter-form")
        expect(counter).to_be_visible()
        expect(respondent.locator("#counter-amount")).to_be_focused()
        counter.get_by_label("金额（元）").fill("3000")
        counter.get_by_label("条件（如何、何时支付或履行）").fill("分两期支付，每期1500元")
        counter.get_by_role("button", name="发送还价方案").tap()
        expect(counter).to_be_hidden()
        countered = messages(applicant, "分两期支付")
        expect(countered.locator(".amount")).to_contain_text("还价 人民币3,000.00元")
        expect(countered.locator(".conditions")).to_have_text("条件：分两期支付，每期1500元")
        phones.assert_fits(respondent)

        # The applicant accepts the counter-offer: every page restates it in full.
        countered.get_by_role("button", name="接受", exact=True).tap()
        for page in (applicant, respondent, mediator):
            box = page.locator("#accepted-offer")
            expect(box).to_be_visible()
            expect(box).to_have_attribute("aria-live", "polite")
            expect(box).to_contain_text(
                "已达成一致：某旅行社提出的人民币3,000.00元方案，已由张三接受。"
            )
            expect(box).to_contain_text("条件：分两期支付，每期1500元")
        phones.screenshot(applicant, "room-accepted-offer")

        # An amount the protocol refuses is explained, not shown as a code.
        applicant.get_by_label("金额（元）").first.fill("12.345")
        applicant.get_by_role("button", name="提出", exact=True).tap()
        expect(applicant.locator("#messages li.error")).to_have_text(
            "未发送：金额应为以元为单位的数字，最多两位小数。"
        )

        # Losing the network, then getting it back, in words.
        applicant.context.set_offline(True)
        expect(applicant.locator("#conn")).to_have_text(
            "没有网络。网络恢复后，您的消息会自动发出。"
        )
        applicant.context.set_offline(False)
        expect(applicant.locator("#conn")).to_have_text("已连接")

        # Ending the session asks first, saying what will happen; cancelling keeps it open.
        mediator.get_by_text("调解员操作", exact=True).click()
        mediator.get_by_role("button", name="结束调解", exact=True).click()
        dialog = mediator.locator("#end-confirm")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("此操作无法撤销")
        dialog.get_by_role("button", name="继续调解").click()
        expect(dialog).to_be_hidden()
        expect(applicant.locator("#conn")).to_have_text("已连接")
        mediator.get_by_role("button", name="结束调解", exact=True).click()
        dialog.get_by_role("button", name="结束调解").click()
        for page in (applicant, respondent, mediator):
            expect(page.locator("#conn")).to_have_class(re.compile(r"\bended\b"))
        for page in (applicant, respondent, mediator):
            assert page.evaluate("window.__prompts") == 0
    finally:
        context.close()
