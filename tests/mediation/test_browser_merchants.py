"""Merchants answer first, in real browsers: the merchant's handler proposes a refund at a
desk (desktop viewport), the consumer accepts it with one tap on a phone, and the settlement
with its performance item appears; the settlement record opens in plain words. Pages fit a
phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accessibility import assert_accessible
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import cheap_hashing

if TYPE_CHECKING:
    from mediation.settings import Settings
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PASSWORD = "merchant password 1"
CONSUMER = "13812345678"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


async def _seed(settings: Settings) -> str:
    from cases.access import viewer_of
    from cases.accounts.actions import do_create_staff, do_register_disputant
    from cases.accounts.models import Role
    from cases.actions import Filer
    from cases.clock import utcnow
    from cases.intake import file_dispute
    from cases.negotiation.actions import do_move_enrolment, do_request_enrolment
    from cases.negotiation.rules import EnrolmentStatus
    from tests.support.factories import filing_fields, new_mediator, new_organisation, uscc

    now = utcnow()
    org = await new_organisation(
        "TQO", track="administrative", categories=("tour_refund", "tour_contract")
    )
    await new_mediator("wang", org.id, specialties=["tour_refund"])
    code = uscc("91310105MA1FL7777")
    admin = await do_create_staff(
        username="admin", password=PASSWORD, role=Role.PLATFORM_ADMIN, display_name="管理员"
    )
    merchant = await do_request_enrolment(
        uscc=code,
        name="上海某某国际旅行社有限公司",
        answer_days=10,
        handler_username="shop",
        handler_password=PASSWORD,
        handler_name="客服小王",
        handler_email=None,
        handler_mobile=None,
        now=now,
    )
    await do_move_enrolment(viewer_of(admin), merchant.id, EnrolmentStatus.ENROLLED, now)
    consumer = await do_register_disputant(
        identifier=CONSUMER, password=PASSWORD, display_name="张三"
    )
    case = await file_dispute(
        settings, filing_fields(respondent_id_number=code), [], Filer(user_id=consumer.id), now
    )
    return case.number


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, str]]:
    with cheap_hashing():
        number = run_with_orm(database_url, lambda: _seed(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, number


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str, target: str, identifier: str) -> None:
    page.goto(f"{base}/signin?next={target}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill(identifier)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(base + target)


def test_merchant_proposes_at_a_desk_and_the_consumer_accepts_on_a_phone(
    site: tuple[str, str], desk: Page, phones: Phones
) -> None:
    from cases.clock import local_date, utcnow

    base, number = site
    due = local_date(utcnow()) + timedelta(days=7)
    perform_by, said_by = due.isoformat(), f"{due.year}年{due.month}月{due.day}日"

    # The merchant's handler, at a desk: the inbox shows the dispute and its deadline.
    sign_in(desk, base, "/merchant", "shop")
    row = desk.locator(".merchant-inbox li", has_text=number)
    expect(row).to_contain_text("请于")
    assert not ISO_DATE.search(row.inner_text())
    assert_accessible(desk, "the merchant's inbox")
    row.get_by_role("link", name=number).click()
    expect(desk.locator("h1.case-number")).to_have_text(number)
    expect(desk.get_by_text("旅行社单方取消行程")).to_be_visible()
    desk.get_by_label("解决方式").select_option("refund")
    desk.get_by_label("金额（元）").fill("3680")
    desk.get_by_label("条件").fill("原路退回支付账户")
    desk.get_by_label("履行期限（日期）").fill(perform_by)
    desk.get_by_role("button", name="发送方案").click()
    expect(desk.locator(".negotiation-thread")).to_contain_text("等待消费者答复")
    assert_accessible(desk, "the merchant's dispute page, with its proposal")

    # The consumer, on a phone: one tap accepts.
    phone = phones.new_page()
    sign_in(phone, base, f"/cases/{number}", CONSUMER)
    proposal = phone.locator("#proposal")
    expect(proposal).to_contain_text("人民币3,680.00元")
    expect(proposal).to_contain_text("原路退回支付账户")
    phones.assert_fits(phone)
    assert_accessible(phone, "the consumer's case page, with the merchant's proposal")
    phone.get_by_role("button", name="接受此方案").tap()
    expect(phone.locator(".status").first).to_have_text(re.compile("已与经营者协商和解"))
    item = phone.locator("#remedy-performance")
    expect(item).to_contain_text("退款 人民币3,680.00元")
    expect(item).to_contain_text(said_by)
    expect(item).to_contain_text("待履行")
    phones.assert_fits(phone)
    phones.screenshot(phone, "merchants-settled-phone")

    # The settlement record, in plain words.
    phone.get_by_role("link", name="和解记录", exact=True).click()
    expect(phone.locator(".statement")).to_contain_text("上海某某国际旅行社有限公司")
    expect(phone.locator(".statement")).to_contain_text("张三")
    # A record in plain words: dates as records write them, never as stored.
    assert not ISO_DATE.search(phone.locator("main").inner_text())
    assert_accessible(phone, "the settlement record")
    phones.assert_fits(phone)

    # The merchant sees the settlement and may mark the remedy performed.
    desk.reload()
    expect(desk.locator("#remedy-performance")).to_be_visible()
    expect(desk.get_by_role("button", name="标记为已履行")).to_be_visible()


def _expire_after_the_deadline(database_url: str) -> list[int]:
    async def work() -> list[int]:
        from cases.clock import utcnow
        from cases.negotiation.actions import do_expire_negotiations

        return await do_expire_negotiations(utcnow() + timedelta(days=30))

    return run_with_orm(database_url, work)


def test_on_phones_a_question_is_answered_and_the_deadline_sends_the_case_on(
    site: tuple[str, str], phones: Phones, database_url: str
) -> None:
    base, number = site

    # The merchant's handler on a phone: the inbox and the dispute fit the screen.
    shop = phones.new_page()
    sign_in(shop, base, "/merchant", "shop")
    phones.assert_fits(shop)
    shop.get_by_role("link", name=number).tap()
    expect(shop.locator("h1.case-number")).to_have_text(number)
    phones.assert_fits(shop)
    shop.get_by_label("您的问题").fill("请提供付款截图和订单号")
    shop.get_by_role("button", name="发送询问").tap()
    expect(shop.locator(".negotiation-thread")).to_contain_text("请提供付款截图和订单号")
    phones.screenshot(shop, "merchants-portal-phone")

    # The consumer replies in the thread, on a phone.
    phone = phones.new_page()
    sign_in(phone, base, f"/cases/{number}", CONSUMER)
    phone.get_by_label("您的回复").fill("订单号 T20261001")
    phone.get_by_role("button", name="发送回复").tap()
    expect(phone.locator(".replies")).to_contain_text("订单号 T20261001")
    phones.assert_fits(phone)

    # Nobody settles; the time limit passes and the job sends the case on to routing.
    assert len(_expire_after_the_deadline(database_url)) == 1
    phone.reload()
    expect(phone.locator("#negotiation")).to_contain_text("期限内未能和解：已转入调解")
    expect(phone.locator(".status").first).to_have_text(re.compile("正在分派调解员"))
    expect(phone.locator(".negotiation-thread")).to_contain_text("订单号 T20261001")
    shop.reload()
    expect(shop.get_by_role("button", name="发送方案")).to_have_count(0)
