"""axe-core on the pages the partner API adds to: the case page showing the order as the
platform provided it (staff, both languages, large text), and the merchant's portal with its
choice of who answers first. WCAG 2.0-2.2 A and AA must find nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from cases.accounts.actions import do_create_partner, do_create_staff
from cases.accounts.models import Role
from cases.clock import utcnow
from cases.negotiation.actions import do_vouch_enrolment
from tests.mediation.test_partner_api_order import ORDER
from tests.support.accessibility import assert_accessible
from tests.support.factories import STAFF_PASSWORD, api_filing_body, uscc
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import session_cookie

pytest_plugins = ["tests.support.browser"]
pytestmark = pytest.mark.browser

MERCHANT_USCC = uscc("91310105MA1FL0055")


async def _seed() -> dict[str, Any]:
    partner, key = await do_create_partner("某旅游平台")
    await do_create_staff(
        username="admin",
        password=STAFF_PASSWORD,
        role=Role.PLATFORM_ADMIN,
        display_name="平台管理员",
        organisation_id=None,
    )
    await do_vouch_enrolment(
        partner_id=partner.id,
        uscc=MERCHANT_USCC,
        name="上海某某网店有限公司",
        answer_days=10,
        handler_username="shop1",
        handler_password="shop password 1",
        handler_name="客服 王",
        handler_email=None,
        handler_mobile=None,
        now=utcnow(),
    )
    return {"key": key}


@pytest.mark.parametrize(
    ("locale", "large"), [("zh_CN", False), ("en", False), ("zh_CN", True)], ids=str
)
def test_the_order_and_the_delegation_choice_have_no_wcag_violation(
    browser: Browser, database_url: str, locale: str, large: bool
) -> None:
    key = run_with_orm(database_url, _seed)["key"]
    with run_server({"DATABASE_URL": database_url}) as base:
        filed = httpx.post(
            f"{base}/api/v1/disputes",
            json={**api_filing_body(evidence=[]), "order": ORDER},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "axe-1"},
        )
        assert filed.status_code == 201, filed.text
        number = filed.json()["case_number"]
        for who, url, what in (
            (("admin", STAFF_PASSWORD), f"{base}/cases/{number}", "the case page with an order"),
            (("shop1", "shop password 1"), f"{base}/merchant", "the merchant portal"),
            (("admin", STAFF_PASSWORD), f"{base}/admin/merchants", "the merchants (admin)"),
        ):
            context = browser.new_context(locale="zh-CN" if locale == "zh_CN" else "en-GB")
            cookies = [{"name": "lang", "value": locale, "url": base}]
            if large:
                cookies.append({"name": "display", "value": "large", "url": base})
            name, value = session_cookie(base, *who).split("=", 1)
            cookies.append({"name": name, "value": value, "url": base})
            context.add_cookies(cookies)  # type: ignore[arg-type]
            page = context.new_page()
            try:
                page.goto(url)
                expect(page.locator("html")).to_have_attribute(
                    "lang", "zh-CN" if locale == "zh_CN" else "en"
                )
                if url.endswith("/merchant"):
                    expect(page.locator("#delegated_to")).to_be_visible()
                elif url.endswith("/admin/merchants"):
                    expect(page.locator("select[name=delegated_to]")).to_be_visible()
                else:
                    expect(page.locator("#order-1")).to_contain_text("CT-20261101-88")
                assert_accessible(page, what)
            finally:
                context.close()
