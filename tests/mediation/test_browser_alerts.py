"""Early warnings in a real browser: a surge of filings seeded against one category raises
an alert; governance staff find it, acknowledge it with a note, draft a suggestion letter
from it, edit and issue it, and download the PDF, read back with pdftotext and checked
against the SHA-256 the page shows. The alert's page holds no party's personal data, passes
the accessibility check and fits a phone."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PASSWORD = "governance password 1"
ADDRESSEE = "上海某某国际旅行社有限公司"


async def _seed(settings: Settings) -> int:
    from cases.accounts.actions import do_create_staff
    from cases.accounts.models import Role
    from cases.clock import utcnow
    from tests.support.warning_figures import seeded_surge

    await do_create_staff(
        username="gov", password=PASSWORD, role=Role.GOVERNANCE, display_name="区司法局 王科长"
    )
    return await seeded_surge(settings, utcnow())


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, int]]:
    with cheap_hashing():
        alert_id = run_with_orm(database_url, lambda: _seed(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, alert_id


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str, target: str) -> None:
    page.goto(f"{base}/signin?next={target}")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill("gov")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(base + target)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


def test_a_surge_is_acknowledged_and_a_letter_issued(
    site: tuple[str, int], desk: Page, phones: Phones, tmp_path: Path
) -> None:
    base, alert_id = site
    sign_in(desk, base, "/governance/alerts")
    row = desk.locator(".alerts li", has_text="旅游费用退还")
    expect(row).to_contain_text("纠纷申请量激增")
    expect(row).to_contain_text("新预警")
    row.get_by_role("link", name="旅游费用退还").click()
    expect(desk).to_have_url(f"{base}/governance/alerts/{alert_id}")
    expect(desk.locator("h1")).to_have_text("旅游费用退还")
    expect(desk.locator("figure.chart svg")).to_be_visible()
    expect(desk.locator("#what")).to_contain_text("纠纷申请量激增")
    html = desk.content()
    for personal in ("张三", "13812345678", "310105199003"):
        assert personal not in html, personal
    assert_accessible(desk, "an alert")

    desk.get_by_label("备注（办结时必填）").fill("已转区市场监管局核实")
    desk.get_by_role("button", name="确认预警").click()
    expect(desk.locator(".alert-state")).to_have_text("已确认")
    expect(desk.locator(".alert-history")).to_contain_text("已转区市场监管局核实")
    expect(desk.locator(".alert-history")).to_contain_text("区司法局 王科长")

    desk.get_by_role("button", name="起草建议书").click()
    expect(desk.locator("h1")).to_have_text("诉源治理建议书")
    body = desk.get_by_label("正文")
    expect(body).to_have_value(re.compile("近7日涉及“旅游费用退还”的纠纷申请"))
    desk.get_by_label("主送单位").fill(ADDRESSEE)
    body.fill(body.input_value() + "\n特此建议。")
    desk.get_by_role("button", name="保存并签发 PDF").click()
    expect(desk.get_by_role("status")).to_have_text("建议书已签发。")
    expect(desk.locator(".letter-state")).to_have_text("已签发")
    shown = desk.locator("dd.hash").inner_text().strip()
    # The link's file, fetched with the page's own session (as the browser downloads it).
    href = desk.get_by_role("link", name="下载 PDF").get_attribute("href")
    answer = desk.context.request.get(f"{base}{href}")
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    path = tmp_path / "letter.pdf"
    path.write_bytes(answer.body())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == shown
    text = pdf_text(path)
    for words in (
        "诉源治理建议书",
        ADDRESSEE,
        "特此建议",
        "预警依据",
        "旅游费用退还",
        "长宁区司法局",
    ):
        assert words in text, words

    # On a phone, the alert with its letter fits the screen.
    phone = phones.new_page()
    sign_in(phone, base, f"/governance/alerts/{alert_id}")
    expect(phone.locator("#letters")).to_be_visible()
    expect(phone.locator(".alert-state")).to_have_text("已确认")
    phones.assert_fits(phone)
    phones.screenshot(phone, "governance-alert-phone")
