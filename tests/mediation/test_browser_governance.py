"""The district's figures in real browsers (issue 13): governance staff open the dashboard at
a desk and on a phone, filter it, switch views, drill down to the cases behind a figure, and
nowhere in the HTML is a party's name, ID number, mobile, address or words; the charts keep
to the Content-Security-Policy; the pages pass axe; the public statistics page fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accessibility import assert_accessible
from tests.support.factories import filing_fields, resident_id, uscc
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import cheap_hashing

if TYPE_CHECKING:
    from mediation.settings import Settings
    from tests.support.browser import Phones

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PASSWORD = "governance password 1"
PEOPLE = [
    filing_fields(),
    filing_fields(
        applicant_name="李四",
        applicant_id_number=resident_id("11010119850101002"),
        applicant_mobile="13912340002",
        applicant_email="lisi@example.com",
        category="tour_contract",
        respondent_id_number=uscc("91310105MA1FL0002"),
        facts="旅行社临时更换酒店且拒绝退还差价，导游强迫游客在指定商店购物。",
    ),
    filing_fields(
        applicant_name="王五",
        applicant_id_number=resident_id("31011019920202003"),
        applicant_mobile="13712340003",
        applicant_email="wangwu@example.com",
        domain="internet",
        category="goods_quality",
        respondent_name="上海乐购优选电子商务有限公司",
        respondent_id_number=uscc("91310105MA1FL0003"),
        facts="网购的电饭煲收到时外壳破裂，商家拒绝退货。",
    ),
]
PERSONAL = sorted(
    {
        person[field]
        for person in PEOPLE
        for field in (
            "applicant_name",
            "applicant_id_number",
            "applicant_mobile",
            "applicant_email",
            "applicant_address",
            "respondent_mobile",
            "respondent_email",
            "facts",
            "requested_outcome",
        )
    }
)
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


async def _seed(settings: Settings) -> list[str]:
    from cases.accounts.actions import do_create_staff, do_register_disputant
    from cases.accounts.models import Role
    from cases.actions import Filer
    from cases.analytics.actions import roll_up_due
    from cases.clock import utcnow
    from cases.intake import file_dispute
    from tests.support.factories import new_mediator, new_organisation

    now = utcnow()
    org = await new_organisation(
        "TQO", track="administrative", categories=("tour_refund", "tour_contract")
    )
    await new_mediator("wang", org.id, specialties=["tour_refund"])
    await do_create_staff(
        username="gov", password=PASSWORD, role=Role.GOVERNANCE, display_name="钱卫东"
    )
    numbers = []
    for n, fields in enumerate(PEOPLE):
        person = await do_register_disputant(
            identifier=fields["applicant_mobile"],
            password=PASSWORD,
            display_name=fields["applicant_name"],
        )
        case = await file_dispute(settings, fields, [], Filer(user_id=person.id), now)
        numbers.append(case.number)
        assert n < len(PEOPLE)
    await roll_up_due(utcnow() + timedelta(seconds=1))
    return numbers


@pytest.fixture
def site(database_url: str, settings: Settings) -> Iterator[tuple[str, list[str]]]:
    with cheap_hashing():
        numbers = run_with_orm(database_url, lambda: _seed(settings))
    with run_server({"DATABASE_URL": database_url}) as base:
        yield base, numbers


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    from tests.support.browser import TIMEOUT_MS

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{base}/signin")
    page.get_by_label("手机号、电子邮箱或工作人员用户名").fill("gov")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    # Governance staff land on the dashboard.
    expect(page).to_have_url(base + "/governance")


def assert_nothing_personal(page: Page) -> None:
    html = page.content()
    for personal in PERSONAL:
        assert personal not in html, f"{page.url} shows {personal!r}"


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__violations") == [], page.url


def test_governance_staff_filter_and_drill_down_at_a_desk(
    site: tuple[str, list[str]], desk: Page
) -> None:
    base, numbers = site
    sign_in(desk, base)
    expect(desk.get_by_role("heading", level=1)).to_have_text("立案数量变化")
    expect(desk.locator("svg.pygal-chart").first).to_be_visible()
    expect(desk.locator("table.figures").first).to_be_visible()
    assert_nothing_personal(desk)
    assert_no_csp_violations(desk)
    assert_accessible(desk, "the dashboard's volume")

    # Filter: tourism only, by month, split by category.
    desk.locator("summary", has_text="筛选").click()
    desk.get_by_label("纠纷领域").select_option("tourism")
    desk.get_by_label("统计周期").select_option("month")
    desk.get_by_label("分组").select_option("category")
    desk.get_by_role("button", name="显示").click()
    expect(desk).to_have_url(re.compile(r"domain=tourism"))
    totals = desk.locator("#table-volume-totals")
    expect(totals).to_contain_text("旅游费用退还")
    expect(totals).to_contain_text("包价旅游合同纠纷")
    expect(totals).not_to_contain_text("网购商品质量")
    assert_nothing_personal(desk)

    # Another view keeps the filter; its table drills down to the cases behind a figure.
    desk.get_by_role("navigation", name="统计视图").get_by_role("link", name="纠纷来源").click()
    expect(desk).to_have_url(re.compile(r"/governance/ranking\?.*domain=tourism"))
    desk.locator("summary", has_text="筛选").click()
    desk.get_by_label("排名依据").select_option("category")
    desk.get_by_role("button", name="显示").click()
    row = desk.locator("#table-ranking tr", has_text="旅游费用退还")
    expect(row).to_be_visible()
    assert_accessible(desk, "the dashboard's ranking")
    row.get_by_role("link").click()
    expect(desk).to_have_url(re.compile(r"/governance/cases\?"))
    cases = desk.locator("#cases")
    expect(cases).to_contain_text(numbers[0])
    expect(cases).not_to_contain_text(numbers[1])  # another category
    expect(cases).not_to_contain_text(numbers[2])  # another domain
    assert_nothing_personal(desk)
    assert_no_csp_violations(desk)
    assert_accessible(desk, "the cases behind a figure")

    # Every other view opens, keeps to the CSP and shows nothing personal.
    for view in ("funnel", "compliance", "workload", "scorecards"):
        desk.goto(f"{base}/governance/{view}")
        expect(desk.locator("table.figures").first).to_be_visible()
        assert_nothing_personal(desk)
        assert_no_csp_violations(desk)
    assert_accessible(desk, "the dashboard's scorecards")


def test_the_dashboard_and_the_open_statistics_fit_a_phone(
    site: tuple[str, list[str]], phones: Phones
) -> None:
    base, numbers = site
    phone = phones.new_page()
    sign_in(phone, base)
    expect(phone.locator("svg.pygal-chart").first).to_be_visible()
    phones.assert_fits(phone)
    assert_nothing_personal(phone)
    phones.screenshot(phone, "governance-volume-phone")
    phone.goto(f"{base}/governance/cases")
    for number in numbers:
        expect(phone.locator("#cases")).to_contain_text(number)
    phones.assert_fits(phone)
    assert_nothing_personal(phone)
    assert_accessible(phone, "the cases behind a figure, on a phone")

    visitor = phones.new_page()
    visitor.add_init_script(RECORD_VIOLATIONS)
    visitor.goto(f"{base}/statistics")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("公开统计")
    expect(visitor.locator("svg.pygal-chart").first).to_be_visible()
    phones.assert_fits(visitor)
    assert_nothing_personal(visitor)
    assert_no_csp_violations(visitor)
    assert_accessible(visitor, "the open statistics")
    phones.screenshot(visitor, "statistics-phone")


def test_the_figures_pass_axe_in_english_and_in_large_text(
    site: tuple[str, list[str]], desk: Page
) -> None:
    base, _ = site
    sign_in(desk, base)
    desk.goto(f"{base}/lang/en?next=/governance/ranking")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Where disputes come from")
    desk.get_by_role("button", name="Large text").click()
    expect(desk.locator("html")).to_have_class(re.compile("large-text"))
    for path in [
        "/governance/ranking",
        "/governance/funnel",
        "/governance/cases",
        "/governance/log",
        "/statistics",
    ]:
        desk.goto(base + path)
        expect(desk.locator("main h1")).to_be_visible()
        assert_no_csp_violations(desk)
        assert_nothing_personal(desk)
        assert_accessible(desk, f"{path} in English, large text")
