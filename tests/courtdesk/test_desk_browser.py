"""A clerk in a real browser: signs in (after one wrong password), finds a transferred case in
the inbox, opens it and dockets it, and sees the court case number (案号)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.courtdesk.support import CLERK, Desk, send

if TYPE_CHECKING:
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "is_mobile": False, "has_touch": False}
CASE_NUMBER = re.compile(r"^\(\d{4}\)沪0105民初[1-9]\d*号$")


def test_a_clerk_dockets_a_transferred_case(desk: Desk, phones: Phones) -> None:
    with desk.client() as client:
        transfer, data = send(client, "transfer")
        send(client, "confirmation")

    page = phones.new_page(**DESKTOP)
    page.goto(f"{desk.url}/inbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/inbox$"))
    page.get_by_label("用户名").fill(CLERK[0])
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    page.get_by_label("密码").fill(CLERK[2])
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="待办")).to_be_visible()
    page.get_by_label("类型").select_option("transfer")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("调解不成转立案")
    phones.screenshot(page, "desk-inbox")
    page.get_by_role("link", name=data["case_number"]).click()

    expect(page.get_by_role("heading", name="调解不成记录")).to_be_visible()
    expect(page.get_by_text(data["failure"]["reasons_for_failure"])).to_be_visible()
    expect(page.get_by_label("立案类型")).to_have_value("民初")
    docket = page.locator("form.decision details.confirm-step")
    docket.locator("summary").click()
    expect(docket).to_contain_text("不能在此撤销")
    docket.get_by_role("button", name="确认立案", exact=True).click()

    number = page.locator("#court-case-number")
    expect(number).to_have_text(CASE_NUMBER)
    expect(page.locator("#filing-status")).to_have_text("已立案")
    court_case_number = number.inner_text()
    expect(page.get_by_role("status")).to_have_text(f"已立案，案号 {court_case_number}。")
    expect(page.locator("#history")).to_contain_text("王芳")
    phones.screenshot(page, "desk-docketed")
    assert page.url.endswith(f"/filings/{transfer}")

    # Back in the inbox, the rest is accepted in bulk.
    page.get_by_role("link", name="待办").first.click()
    page.get_by_label("全选本页").check()
    expect(page.locator('input[name="filing"]:checked')).to_have_count(1)  # the waiting one
    page.get_by_role("button", name="接收所选").click()
    expect(page.get_by_role("status")).to_have_text("已接收 1 件。")

    # The same pages work on a phone.
    phone = phones.new_page()
    phone.goto(f"{desk.url}/signin")
    phone.get_by_label("用户名").fill(CLERK[0])
    phone.get_by_label("密码").fill(CLERK[2])
    phone.get_by_role("button", name="登录").click()
    expect(phone.get_by_role("heading", name="待办")).to_be_visible()
    phones.assert_fits(phone)
    phone.goto(f"{desk.url}/filings/{transfer}")
    expect(phone.locator("#court-case-number")).to_have_text(court_case_number)
    phones.assert_fits(phone)
